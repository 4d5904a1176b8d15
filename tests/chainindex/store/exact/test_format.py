"""The exact index's stored format 4 against plain Python: keys (fingerprint, section), the
tagged records (varints, roaring) in a round trip, the ``X`` counts, and a section written to
a real LevelDB read back by value, with fingerprint collisions merged."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from bloombits.keccak import keccak256
from chainindex.errors import CorruptDataError
from chainindex.store import LevelDBStore, schema
from chainindex.store.codec import encode_logs, logs_columns
from chainindex.store.exact import PositionLayout, chunks, index, keys
from chainindex.store.exact.chunks import (
    ROARING,
    ROARING_MIN,
    VARINTS,
    decode_chunk,
    encode_chunk,
    encode_chunks,
)
from chainindex.store.exact.counts import SectionCounts
from chainindex.store.exact.extract import SectionEntries
from chainindex.store.exact.keys import (
    chunk_key,
    chunk_range,
    counts_key,
    fingerprint,
    parse_chunk_key,
    value_key,
)
from tests.chainindex.filters.chain import random_chain


def test_keys_are_13_bytes_and_sort_by_fingerprint_then_section() -> None:
    t = value_key(2, b"\x02" * 32)
    fp = fingerprint(t)
    assert fp == int.from_bytes(keccak256(b"\x02" + b"\x02" * 32)[:8], "big")
    key = chunk_key(fp, 77)
    assert len(key) == 13
    assert key[:1] == b"x"
    assert parse_chunk_key(key) == (fp, 77)
    start, stop = chunk_range(fp, 3, 5)
    assert start <= chunk_key(fp, 3) < chunk_key(fp, 5) < stop <= chunk_key(fp, 6)
    assert not start <= chunk_key(fp + 1, 0) < stop
    assert counts_key(5) == b"X\x00\x00\x00\x05"
    with pytest.raises(ValueError, match="20 bytes"):
        value_key(0, b"\x01" * 32)
    with pytest.raises(CorruptDataError):
        parse_chunk_key(key[:-1])


def leb128(values: list[int]) -> bytes:
    """Reference LEB128 of unsigned integers."""
    out = bytearray()
    for value in values:
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=80),
        st.sets(st.integers(0, 5000), min_size=60, max_size=3000),
    )
)
def test_records_round_trip(values: set[int]) -> None:
    positions = np.array(sorted(values), dtype=np.uint32)
    record = encode_chunk(positions)
    assert list(decode_chunk(record, "x")) == sorted(values)
    ordered = sorted(values)
    varints = bytes([VARINTS]) + leb128(
        [ordered[0]] + [b - a for a, b in itertools.pairwise(ordered)]
    )
    if len(values) < ROARING_MIN:
        assert record == varints
    else:
        bitmap = BitMap(ordered)
        bitmap.run_optimize()
        roaring = bytes([ROARING]) + bitmap.serialize()
        assert record == min(varints, roaring, key=len)


def test_both_tags_are_used() -> None:
    sparse = np.array([1, 1000, 70000], dtype=np.uint32)
    dense = np.arange(10_000, 20_000, dtype=np.uint32)
    assert encode_chunk(sparse)[0] == VARINTS
    assert encode_chunk(dense)[0] == ROARING
    assert len(encode_chunk(dense)) < 40


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sets(st.integers(0, 3000), min_size=1, max_size=150), min_size=1, max_size=8))
def test_many_records_at_once_are_each_record(lists: list[set[int]]) -> None:
    flat = np.array([p for s in lists for p in sorted(s)], dtype=np.uint32)
    bounds = np.cumsum([0] + [len(s) for s in lists]).astype(np.int64)
    got = encode_chunks(flat, bounds)
    assert got == [encode_chunk(np.array(sorted(s), dtype=np.uint32)) for s in lists]


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x03abc", b"\x01", b"\x01\x80", b"\x01\x80\x80\x80\x80\x80\x01", b"\x01\x05\x00",
     b"\x02garbage", bytes([ROARING]) + BitMap().serialize()],
)  # fmt: skip
def test_malformed_records_are_corrupt_data(bad: bytes) -> None:
    with pytest.raises(CorruptDataError, match="where"):
        decode_chunk(bad, "where")


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=48),
        st.lists(st.integers(0, 2**33), max_size=9).map(leb128),  # repeats, overflows
    )
)
def test_short_records_decode_as_the_numpy_path_does(body: bytes) -> None:
    """Records of up to 48 bytes take a Python loop: the same positions as the numpy path
    over any bytes, or the same CorruptDataError."""

    def outcome(decode: Callable[[bytes, str], np.ndarray]) -> object:
        try:
            return decode(body, "where").tolist()
        except CorruptDataError as err:
            return str(err)

    assert outcome(chunks._decode_small) == outcome(_numpy_varints)


def _numpy_varints(body: bytes, where: str) -> np.ndarray:
    """The numpy path alone, whatever the record's length."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "_SMALL_RECORD", -1)
        return chunks._decode_varints(body, where)


def test_counts_turn_dense_positions_into_blocks() -> None:
    layout = PositionLayout(8)
    counts = SectionCounts(layout, 2, np.array([0, 3, 0, 0, 2, 1, 0, 4], dtype=np.uint32))
    assert counts.total == 10
    again = SectionCounts.decode(layout, 2, counts.encode())
    dense = np.array([0, 2, 3, 4, 5, 9], dtype=np.uint32)
    blocks, logs = layout.split(again.absolute(dense))
    assert blocks.tolist() == [17, 17, 20, 20, 21, 23]
    assert logs.tolist() == [0, 2, 0, 1, 0, 3]
    with pytest.raises(CorruptDataError, match="beyond the 10 logs"):
        again.absolute(np.array([10], dtype=np.uint32))
    with pytest.raises(CorruptDataError, match="no log counts"):
        SectionCounts.decode(layout, 2, None)
    with pytest.raises(CorruptDataError, match="has 3 bytes"):
        SectionCounts.decode(layout, 2, b"abc")


@pytest.mark.parametrize("collide", [False, True])
def test_a_section_written_to_leveldb_reads_back_by_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: bool
) -> None:
    """Every value's record holds exactly the dense positions of its logs; with every
    fingerprint forced into 4 (collisions everywhere), a record is the union of its values'
    logs: only candidates are added, none lost."""
    if collide:
        monkeypatch.setattr(index, "fingerprint", lambda v: keys.fingerprint(v) % 4)
    fp_of = (lambda v: keys.fingerprint(v) % 4) if collide else keys.fingerprint
    layout = PositionLayout(16)
    blocks = random_chain(4, 32)[16:]
    entries = SectionEntries(layout, 1)
    dense: dict[bytes, set[int]] = {}
    seen = 0
    for block in blocks:
        logs = block.logs or ()
        entries.add(block.header.number, logs_columns(encode_logs(logs)))
        for i, log in enumerate(logs):
            dense.setdefault(value_key(0, log.address), set()).add(seen + i)
            for t, topic in enumerate(log.topics):
                dense.setdefault(value_key(t + 1, topic), set()).add(seen + i)
        seen += len(logs)
    store = LevelDBStore(tmp_path / "db")
    try:
        with store.batch() as batch:
            written = index.write_entries(batch, entries)
        stored = dict(store.iterate(schema.EXACT_PREFIX, b"y"))
        assert written == len(stored) == len({fp_of(v) for v in dense})
        for value, expected in dense.items():
            got = set(decode_chunk(stored[chunk_key(fp_of(value), 1)], "t"))
            assert expected <= got
            if not collide:
                assert got == expected
        if collide:
            for fp in range(4):
                union = set().union(*(s for v, s in dense.items() if fp_of(v) == fp))
                assert set(decode_chunk(stored[chunk_key(fp, 1)], "t")) == union
        counts = SectionCounts.decode(layout, 1, store.get(counts_key(1)))
        assert counts.counts.tolist() == [len(b.logs or ()) for b in blocks]
    finally:
        store.close()
