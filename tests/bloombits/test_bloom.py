"""Blooms against the recorded real chains and against the independent eth-bloom package."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from eth_bloom.bloom import BloomFilter
from hypothesis import given
from hypothesis import strategies as st

from bloombits.bloom import (
    BLOOM_BYTE_LENGTH,
    bloom_contains,
    bloom_indexes,
    blooms_contain,
    logs_bloom,
)
from bloombits.keccak import BACKEND, keccak256
from tests.fixtures import all_block_records, hexbytes

RECORDS = list(all_block_records())


def _log_pairs(logs: list[dict[str, Any]]) -> list[tuple[bytes, list[bytes]]]:
    return [(hexbytes(log["address"]), [hexbytes(t) for t in log["topics"]]) for log in logs]


def test_fixture_chains_are_present() -> None:
    # 55 execution-apis blocks and 17 mainnet blocks (tests/data/CHAINS.md).
    assert len(RECORDS) == 72


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["block"]["number"])
def test_block_and_receipt_blooms_match_recorded(record: dict[str, Any]) -> None:
    block_logs = []
    for receipt in record["receipts"]:
        pairs = _log_pairs(receipt["logs"])
        assert logs_bloom(pairs) == hexbytes(receipt["logsBloom"])
        block_logs.extend(pairs)
    assert logs_bloom(block_logs) == hexbytes(record["block"]["logsBloom"])


def test_every_recorded_value_is_contained_in_its_block_bloom() -> None:
    checked = 0
    for record in RECORDS:
        bloom = hexbytes(record["block"]["logsBloom"])
        for address, topics in _log_pairs([log for r in record["receipts"] for log in r["logs"]]):
            for value in (address, *topics):
                assert bloom_contains(bloom, value)
                checked += 1
    assert checked > 15_000


def test_saturated_mainnet_block_contains_anything() -> None:
    # Block 15537394 has all 2048 bits set (fixtures README), so any value "may" be in it.
    record = next(r for r in RECORDS if r["block"]["number"] == hex(15537394))
    bloom = hexbytes(record["block"]["logsBloom"])
    assert bloom == b"\xff" * BLOOM_BYTE_LENGTH
    assert bloom_contains(bloom, b"never emitted by anyone")


def test_keccak_backend_is_real_keccak() -> None:
    # keccak256("") is the well-known empty hash (not SHA3-256's).
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert BACKEND == "pysha3"


values = st.binary(min_size=0, max_size=40)


@given(st.lists(st.tuples(values, st.lists(values, max_size=4)), max_size=20))
def test_logs_bloom_equals_eth_bloom(logs: list[tuple[bytes, list[bytes]]]) -> None:
    reference = BloomFilter()
    for address, topics in logs:
        reference.add(address)
        for topic in topics:
            reference.add(topic)
    assert logs_bloom(logs) == int(reference).to_bytes(BLOOM_BYTE_LENGTH, "big")


@given(values)
def test_bloom_indexes_are_the_bits_eth_bloom_sets(value: bytes) -> None:
    reference = int(BloomFilter.from_iterable([value]))
    expected = {b for b in range(2048) if reference >> b & 1}
    assert set(bloom_indexes(value)) == expected


@given(st.lists(values, max_size=10), values)
def test_bloom_contains_agrees_with_eth_bloom(members: list[bytes], probe: bytes) -> None:
    reference = BloomFilter.from_iterable(members)
    bloom = int(reference).to_bytes(BLOOM_BYTE_LENGTH, "big")
    assert bloom_contains(bloom, probe) == (probe in reference)
    for member in members:
        assert bloom_contains(bloom, member)


@given(st.lists(st.lists(values, max_size=6), min_size=1, max_size=8), values)
def test_blooms_contain_is_bloom_contains_per_row(sets: list[list[bytes]], probe: bytes) -> None:
    blooms = [logs_bloom([(v, []) for v in s]) for s in sets]
    array = np.frombuffer(b"".join(blooms), dtype=np.uint8).reshape(-1, BLOOM_BYTE_LENGTH)
    assert blooms_contain(array, probe).tolist() == [bloom_contains(b, probe) for b in blooms]


def test_bloom_contains_rejects_wrong_size() -> None:
    with pytest.raises(ValueError, match="256 bytes"):
        bloom_contains(b"\x00" * 255, b"x")
