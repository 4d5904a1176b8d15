"""The bulk log encoder (many selected logs of a block written from its columns at once) and
the per-log paths beside it give the same text as one log at a time, and as a reference
built here, for random blocks and selections."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from eth_typing import Address, BlockNumber, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.filters import BlockLogs
from chainindex.store.codec import LogsRecord, encode_logs
from chainindex.types import ChainLog, Header
from rpc.server.codec import EncodedLogs, encode_block_logs, encode_log, encode_logs_array
from tests.rpc.server.test_codec import compact, reference_json

ADDRESSES = [bytes([i]) * 19 + bytes([0]) for i in range(1, 5)] + [bytes(20)]
TOPICS = [bytes([i]) * 32 for i in range(1, 6)] + [bytes(31) + b"\x01", bytes(32)]

words = st.one_of(st.sampled_from(TOPICS), st.binary(min_size=32, max_size=32))


@st.composite
def blocks(draw: st.DrawFn) -> tuple[Header, list[ChainLog]]:
    """A block header and its logs: shared and distinct addresses, topics and
    transactions, data of any length (empty included), numbers of any size."""
    number = draw(st.one_of(st.integers(0, 300), st.integers(0, 2**63 - 1)))
    header = Header(
        BlockNumber(number),
        Hash32(draw(st.binary(min_size=32, max_size=32))),
        Hash32(bytes(32)),
        draw(st.one_of(st.integers(0, 20), st.integers(0, 2**64 - 1))),
        bytes(256),
    )
    count = draw(st.integers(1, 60))
    tx_count = draw(st.integers(1, count))
    tx_hashes = draw(st.lists(words, min_size=tx_count, max_size=tx_count, unique=True))
    tx_indexes = sorted(draw(st.sets(st.integers(0, 2**32 - 1), min_size=tx_count,
                                     max_size=tx_count)))  # fmt: skip
    owners = sorted(draw(st.lists(st.integers(0, tx_count - 1), min_size=count, max_size=count)))
    logs = []
    for index, tx in enumerate(owners):
        address = draw(st.one_of(st.sampled_from(ADDRESSES), st.binary(min_size=20, max_size=20)))
        topics = draw(st.lists(words, max_size=4))
        data = draw(st.one_of(st.binary(max_size=40), st.binary(min_size=100, max_size=260)))
        logs.append(
            ChainLog(
                Address(address),
                tuple(Hash32(t) for t in topics),
                data,
                header.number,
                header.hash,
                header.timestamp,
                Hash32(tx_hashes[tx]),
                tx_indexes[tx],
                index,
            )
        )
    return header, logs


def one_at_a_time(logs: list[ChainLog]) -> str:
    return ",".join(encode_log(log) for log in logs)


@settings(max_examples=300, deadline=None)
@given(blocks(), st.data())
def test_bulk_and_per_log_paths_write_the_same_text(
    block: tuple[Header, list[ChainLog]], data: st.DataObject
) -> None:
    header, logs = block
    share = data.draw(st.sampled_from([0.05, 0.3, 0.6, 1.0]))
    chosen = sorted(
        data.draw(st.sets(st.integers(0, len(logs) - 1), min_size=1,
                          max_size=max(1, int(share * len(logs)))))
    )  # fmt: skip
    record = LogsRecord.parse(encode_logs(logs))
    selected = BlockLogs(header, record, np.array(chosen, dtype=np.intp))
    expected = one_at_a_time([logs[i] for i in chosen])
    assert expected == ",".join(compact(reference_json(logs[i])) for i in chosen)
    assert encode_block_logs([selected]) == expected
    cache = EncodedLogs()
    for _ in range(2):  # encoded, then (when kept) from the cache
        assert encode_block_logs([selected], cache) == expected
    every = BlockLogs(header, record, np.arange(len(logs), dtype=np.intp))
    assert encode_block_logs([every, selected], cache) == one_at_a_time(logs) + "," + expected


@settings(max_examples=100, deadline=None)
@given(st.lists(blocks(), max_size=3), st.data())
def test_the_array_form_is_every_selected_log_in_order(
    chain: list[tuple[Header, list[ChainLog]]], data: st.DataObject
) -> None:
    """``encode_logs_array``: a JSON array of the selected logs of every block, in order,
    each as the reference writes it (no blocks, or nothing selected: ``[]``)."""
    selected: list[BlockLogs] = []
    expected: list[Any] = []
    for header, logs in chain:
        chosen = sorted(data.draw(st.sets(st.integers(0, len(logs) - 1), max_size=len(logs))))
        record = LogsRecord.parse(encode_logs(logs))
        selected.append(BlockLogs(header, record, np.array(chosen, dtype=np.intp)))
        expected.extend(json.loads(compact(reference_json(logs[i]))) for i in chosen)
    cache = data.draw(st.sampled_from([None, EncodedLogs()]))
    assert json.loads(encode_logs_array(selected, cache)) == expected


def test_log_indexes_past_the_table_of_small_quantities() -> None:
    """Blocks of more than 4,096 logs: ``logIndex`` and ``transactionIndex`` beyond the
    precomputed quantities."""
    header = Header(BlockNumber(7), Hash32(b"\x07" * 32), Hash32(bytes(32)), 9, bytes(256))
    logs = [
        ChainLog(
            Address(ADDRESSES[i % 3]),
            (Hash32(TOPICS[i % 5]),) * (i % 5),
            bytes([i % 256]),
            header.number,
            header.hash,
            header.timestamp,
            Hash32(i.to_bytes(32, "big")),
            4000 + i,
            i,
        )
        for i in range(4200)
    ]
    record = LogsRecord.parse(encode_logs(logs))
    chosen = np.arange(0, 4200, 3, dtype=np.intp)
    text = encode_block_logs([BlockLogs(header, record, chosen)])
    assert text == one_at_a_time([logs[i] for i in chosen.tolist()])
    parsed: list[dict[str, Any]] = __import__("json").loads("[" + text + "]")
    assert parsed[-1]["logIndex"] == hex(4197)
    assert parsed[-1]["transactionIndex"] == hex(8197)
