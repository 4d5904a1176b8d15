"""The JSON-RPC edge: filter decoding with geth's rules, log encoding against a reference."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
from eth_typing import Address, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.filters import BlockLogs, BlockTag, LogCriteria, LogQuery
from chainindex.store.codec import LogsRecord, encode_logs
from chainindex.types import ChainLog
from rpc.server.codec import (
    decode_block_ref,
    decode_filter,
    encode_block_logs,
    encode_log,
)
from rpc.server.codec import (
    encode_logs as encode_log_list,
)
from rpc.server.protocol import INVALID_PARAMS, JsonRpcError
from tests.chainindex.filters.chain import random_chain

A = "0x" + "ab" * 20
ADDR = Address(bytes.fromhex("ab" * 20))
T = "0x" + "cd" * 32
H = "0x" + "ef" * 32


def reference_json(log: ChainLog) -> dict[str, Any]:
    """A log object as geth writes it (key order included), built independently."""
    return {
        "address": "0x" + log.address.hex(),
        "topics": ["0x" + t.hex() for t in log.topics],
        "data": "0x" + log.data.hex(),
        "blockNumber": hex(log.block_number),
        "transactionHash": "0x" + log.transaction_hash.hex(),
        "transactionIndex": hex(log.transaction_index),
        "blockHash": "0x" + log.block_hash.hex(),
        "blockTimestamp": hex(log.block_timestamp),
        "logIndex": hex(log.log_index),
        "removed": log.removed,
    }


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


BLOCKS = [b for b in random_chain(11, 120) if b.logs]


@settings(max_examples=200)
@given(st.sampled_from(BLOCKS), st.data())
def test_block_logs_encode_like_the_reference(block: Any, data: st.DataObject) -> None:
    logs = block.logs
    chosen = sorted(data.draw(st.sets(st.integers(0, len(logs) - 1), min_size=1)))
    record = LogsRecord.parse(encode_logs(logs))
    text = encode_block_logs([BlockLogs(block.header, record, np.array(chosen, dtype=np.intp))])
    assert text == ",".join(compact(reference_json(logs[i])) for i in chosen)


def test_single_logs_and_removed() -> None:
    logs = [log for b in BLOCKS[:5] for log in b.logs or ()]
    assert encode_log_list(logs) == compact([reference_json(log) for log in logs])
    gone = dataclasses.replace(logs[0], removed=True)
    assert json.loads(encode_log(gone))["removed"] is True
    assert encode_log(gone) == compact(reference_json(gone))
    assert encode_block_logs([]) == ""


def test_decode_filter_shapes() -> None:
    assert decode_filter({}) == LogQuery()
    assert decode_filter({"address": A, "fromBlock": "0x10", "toBlock": "latest"}) == LogQuery(
        LogCriteria((ADDR,)), 16, BlockTag.LATEST
    )
    query = decode_filter(
        {"address": [A, A.upper().replace("0X", "0x")], "topics": [T, None, [], [T, H]]}
    )
    t, h = Hash32(bytes.fromhex("cd" * 32)), Hash32(bytes.fromhex("ef" * 32))
    assert query.criteria == LogCriteria((ADDR,) * 2, ((t,), (), (), (t, h)))
    # A null among alternatives makes the whole position a wildcard (geth), whatever follows.
    assert decode_filter({"topics": [[T, None, "garbage"]]}).criteria.topics == ((),)
    assert decode_filter({"blockHash": H}).block_hash == h
    # Go's JSON decoding matches member names whatever their case.
    assert decode_filter({"FromBlock": "0x1", "ADDRESS": A}) == LogQuery(LogCriteria((ADDR,)), 1)
    assert decode_filter({"fromBlock": None, "toBlock": None, "address": None}) == LogQuery()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("x", "filter: expected an object, got a string"),
        (
            {"blockHash": H, "fromBlock": "0x1"},
            "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other",
        ),
        ({"fromBlock": "0x01"}, "fromBlock: hex number with leading zero digits: '0x01'"),
        ({"fromBlock": "0x"}, 'fromBlock: hex string "0x" has no digits'),
        ({"toBlock": "0xg"}, "toBlock: invalid hex number: '0xg'"),
        (
            {"toBlock": "Latest"},
            "toBlock: expected a hex block number or one of earliest, latest, safe, "
            "finalized, pending; got 'Latest'",
        ),
        ({"toBlock": 5}, "toBlock: expected a hex string, got 5"),
        ({"toBlock": "0x" + "f" * 17}, "toBlock: hex number larger than 64 bits"),
        ({"toBlock": "0x8000000000000000"}, "toBlock: block number larger than int64"),
        ({"address": "0xabc"}, "address: hex string of odd length: '0xabc'"),
        ({"address": "0x" + "ab" * 19}, "address: expected 20 bytes, got 19"),
        ({"address": "ab" * 20}, "address: hex string without 0x prefix"),
        ({"address": [A, 5]}, "non-string address at index 1"),
        ({"address": [A, "0x12"]}, "address[1]: expected 20 bytes, got 1"),
        (
            {"address": 5},
            "invalid addresses in query: expected an address or an array, got a number",
        ),
        ({"topics": "x"}, "topics: expected an array, got a string"),
        ({"topics": [None] * 5}, "exceed max topics"),
        ({"topics": [[T] * 1001]}, "exceed max topics"),
        ({"topics": [5]}, "invalid topic(s)"),
        ({"topics": [[T, 5]]}, "invalid topic(s)"),
        ({"topics": ["0x" + "cd" * 31]}, "topics[0]: expected 32 bytes, got 31"),
        ({"topics": [None, [T, "0xzz" + "cd" * 31]]}, "topics[1][1]: invalid hex string"),
        ({"blockHash": "0x" + "ef" * 33}, "blockHash: expected 32 bytes, got 33"),
    ],
)
def test_decode_errors_say_what_was_wrong(params: object, message: str) -> None:
    with pytest.raises(JsonRpcError) as caught:
        decode_filter(params)
    assert caught.value.code == INVALID_PARAMS
    assert caught.value.message.startswith(message), caught.value.message


def test_block_refs() -> None:
    assert decode_block_ref("0x0") == 0
    assert decode_block_ref("0x7fffffffffffffff") == 2**63 - 1
    for tag in ("earliest", "latest", "safe", "finalized", "pending"):
        assert decode_block_ref(tag) == BlockTag(tag)
