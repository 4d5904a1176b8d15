"""The exact index's parts against plain Python: positions, records, extraction (grouping
by value, deduplication of values across blocks, the hash-collision fallback), fingerprints."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from chainindex.errors import ConfigError, CorruptDataError, ExactIndexError
from chainindex.store.codec import LogsColumns, encode_logs, logs_columns
from chainindex.store.exact import PositionLayout, extract
from chainindex.store.exact.chunks import decode_chunk, encode_chunk
from chainindex.store.exact.extract import SectionEntries, value_fingerprints
from chainindex.store.exact.keys import chunk_key, chunk_range, parse_chunk_key, value_key
from chainindex.types import ChainLog
from tests.chainindex.filters.chain import random_chain


def test_layouts() -> None:
    assert (PositionLayout(8).offset_bits, PositionLayout(8).log_bits) == (3, 29)
    assert (PositionLayout(4096).offset_bits, PositionLayout(4096).log_bits) == (12, 20)
    assert PositionLayout(65536).log_bits == 16
    with pytest.raises(ConfigError, match="at most 65536 blocks"):
        PositionLayout(65536 + 8)
    layout = PositionLayout(16)
    layout.check_logs(5, 1 << 28)
    with pytest.raises(ExactIndexError, match="block 5 holds"):
        layout.check_logs(5, (1 << 28) + 1)
    positions = layout.absolute(3, np.array([(2 << 28) | 7], dtype=np.uint32))
    blocks, logs = layout.split(positions)
    assert (blocks.tolist(), logs.tolist()) == ([3 * 16 + 2], [7])
    assert layout.block_range(50, 50) == (50 << 28, 51 << 28)


def test_keys_sort_by_value_then_section() -> None:
    a = value_key(0, b"\x01" * 20)
    t = value_key(2, b"\x02" * 32)
    assert parse_chunk_key(chunk_key(t, 77)) == (t, 77)
    start, stop = chunk_range(a, 3, 5)
    assert start <= chunk_key(a, 3) < chunk_key(a, 5) < stop <= chunk_key(a, 6)
    with pytest.raises(ValueError, match="20 bytes"):
        value_key(0, b"\x01" * 32)
    with pytest.raises(CorruptDataError):
        parse_chunk_key(chunk_key(a, 1)[:-1])


@given(st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=300))
def test_records_round_trip(values: set[int]) -> None:
    positions = np.array(sorted(values), dtype=np.uint32)
    assert list(decode_chunk(encode_chunk(positions), "x")) == sorted(values)


def test_malformed_records_are_corrupt_data() -> None:
    for bad in (b"", b"garbage", BitMap().serialize()):
        with pytest.raises(CorruptDataError, match="where"):
            decode_chunk(bad, "where")


Blocks = list[tuple[int, LogsColumns, list[ChainLog]]]


def brute_force(blocks: Blocks, layout: PositionLayout, section: int) -> dict[bytes, list[int]]:
    """Value key → positions within the section, one log at a time."""
    out: dict[bytes, list[int]] = {}
    for number, _, logs in blocks:
        offset = number - section * layout.section_size
        for log in logs:
            position = (offset << layout.log_bits) | log.log_index
            out.setdefault(b"\x00" + log.address, []).append(position)
            for i, topic in enumerate(log.topics):
                out.setdefault(bytes([i + 1]) + topic, []).append(position)
    return out


def section_blocks(seed: int, section: int, size: int) -> Blocks:
    blocks = random_chain(seed, size, first=section * size)
    return [
        (b.header.number, logs_columns(encode_logs(b.logs or ())), list(b.logs or ()))
        for b in blocks
    ]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), compact=st.sampled_from([1, 7, 1 << 18]))
def test_entries_grouped_by_value(seed: int, compact: int) -> None:
    layout = PositionLayout(16)
    blocks = section_blocks(seed, 3, 16)
    entries = SectionEntries(layout, 3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(extract, "COMPACT_ROWS", compact)
        for number, record, _ in blocks:
            entries.add(number, record)
    got = {key: positions.tolist() for key, positions in entries.grouped()}
    assert got == brute_force(blocks, layout, 3)


def _first_byte(rows: np.ndarray, kinds: object = None) -> np.ndarray:
    return rows[:, 0].astype(np.uint64)


def _zero(rows: np.ndarray, kinds: object = None) -> np.ndarray:
    return np.zeros(len(rows), np.uint64)


@pytest.mark.parametrize("compact", [1, 7, 1 << 18])
@pytest.mark.parametrize("hashes", [_zero, _first_byte])
def test_equal_hashes_of_different_values_are_told_apart(
    monkeypatch: pytest.MonkeyPatch, compact: int, hashes: object
) -> None:
    """Rows hashing alike (every row, or many: within a batch of rows and across batches)
    still group values exactly."""
    monkeypatch.setattr(extract, "row_hashes", hashes)
    monkeypatch.setattr(extract, "COMPACT_ROWS", compact)
    layout = PositionLayout(16)
    blocks = section_blocks(9, 0, 16)
    entries = SectionEntries(layout, 0)
    for number, record, _ in blocks:
        entries.add(number, record)
    got = {key: positions.tolist() for key, positions in entries.grouped()}
    assert got == brute_force(blocks, layout, 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_fingerprints_are_those_of_the_values(seed: int) -> None:
    layout = PositionLayout(16)
    blocks = section_blocks(seed, 1, 16)
    entries = SectionEntries(layout, 1)
    for number, record, _ in blocks:
        entries.add(number, record)
    fps, positions = entries.fingerprints()
    expected = sorted(
        (int(value_fingerprints([key])[0]), p)
        for key, ps in brute_force(blocks, layout, 1).items()
        for p in ps
    )
    assert list(zip(fps.tolist(), positions.tolist(), strict=True)) == expected


def test_a_block_outside_the_section_is_refused() -> None:
    entries = SectionEntries(PositionLayout(16), 2)
    log = random_chain(1, 40)
    record = next(logs_columns(encode_logs(b.logs or ())) for b in log if b.logs)
    with pytest.raises(ValueError, match="not in section 2"):
        entries.add(random.Random(0).choice([0, 31, 48]), record)
