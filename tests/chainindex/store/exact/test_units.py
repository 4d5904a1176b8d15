"""The exact index's parts against plain Python: positions, extraction (grouping by value,
deduplication of values across blocks, the hash-collision fallback, dense positions),
fingerprints. The stored format (keys, records, counts) is tested in ``test_format.py``."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.errors import ConfigError, ExactIndexError
from chainindex.store.codec import LogsColumns, encode_logs, logs_columns
from chainindex.store.exact import PositionLayout, extract
from chainindex.store.exact.extract import SectionEntries, value_fingerprints
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


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), section=st.integers(0, 5))
def test_dense_positions_number_the_logs_of_the_section(seed: int, section: int) -> None:
    """The i-th log of the section (blocks in order, logs in block order) is position i."""
    layout = PositionLayout(16)
    blocks = section_blocks(seed, section, 16)
    entries = SectionEntries(layout, section)
    for number, record, _ in blocks:
        entries.add(number, record)
    order: dict[tuple[int, int], int] = {}
    for number, _, logs in blocks:
        for log in logs:
            order[(number, log.log_index)] = len(order)
    assert entries.counts.tolist() == [len(logs) for _, _, logs in blocks]
    for key, positions in entries.grouped():
        blocks_of, logs_of = layout.split(layout.absolute(section, positions))
        expected = [
            order[(b, i)] for b, i in zip(blocks_of.tolist(), logs_of.tolist(), strict=True)
        ]
        assert entries.dense(positions).tolist() == expected, key


def test_kept_entries_do_not_keep_the_logs_records_alive() -> None:
    """Pending entries hold copies of a block's value rows, not views into its whole logs
    record (data included): the records go as soon as the writer drops them."""
    layout = PositionLayout(16)
    entries = SectionEntries(layout, 0)
    records = [(b.header.number, encode_logs(b.logs)) for b in random_chain(3, 16) if b.logs]
    assert records
    before = [sys.getrefcount(record) for _, record in records]
    for number, record in records:
        entries.add(number, logs_columns(record))
    del record  # the loop's own reference to the last one
    assert [sys.getrefcount(record) for _, record in records] == before
