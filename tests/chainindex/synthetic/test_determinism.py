"""Same inputs, same bytes; other seeds, other chains; modes and starting points agree."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from chainindex.errors import SyntheticChainError
from chainindex.synthetic import ChainGenerator, ChainShape, GeneratedRecord, write_archive
from tests.chainindex.consensus_reference import reference_receipts_root

SHAPE = ChainShape(fill=0.2, contracts=3000, holders=20_000)


def _file(path: Path, seed: int, blocks: int = 150, **options: Any) -> bytes:
    write_archive(ChainGenerator(SHAPE, seed, **options), path, blocks)
    return path.read_bytes()


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = _file(tmp_path / "a.jsonl", seed=42)
    second = _file(tmp_path / "b.jsonl", seed=42)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert first.count(b"\n") == 150


def test_different_seeds_give_different_chains(tmp_path: Path) -> None:
    import orjson

    one = [orjson.loads(x) for x in _file(tmp_path / "a.jsonl", seed=1).splitlines()]
    two = [orjson.loads(x) for x in _file(tmp_path / "b.jsonl", seed=2).splitlines()]
    hashes_one = {r["block"]["hash"] for r in one}
    assert hashes_one.isdisjoint(r["block"]["hash"] for r in two)
    txs_one = {t for r in one for t in r["block"]["transactions"]}
    assert txs_one.isdisjoint(t for r in two for t in r["block"]["transactions"])
    # Not just the hashes: the contents differ too.
    assert [r["block"]["logsBloom"] for r in one[1:]] != [r["block"]["logsBloom"] for r in two[1:]]


def test_a_shape_parameter_changes_every_hash() -> None:
    base = list(ChainGenerator(SHAPE, 7).records(3))
    other = list(ChainGenerator(ChainShape(fill=0.2, contracts=3000, holders=20_001), 7).records(3))
    assert all(a["block"]["hash"] != b["block"]["hash"] for a, b in zip(base, other, strict=True))


def test_headers_only_has_the_full_chains_headers() -> None:
    full = ChainGenerator(SHAPE, 5).records(200)
    headers = ChainGenerator(SHAPE, 5, headers_only=True).records(200)
    for record, header_record in zip(full, headers, strict=True):
        block, header = dict(record["block"]), dict(header_record["block"])
        assert header.pop("transactions") == []
        block.pop("transactions")
        assert header == block


def test_calls_continue_the_same_chain() -> None:
    whole = list(ChainGenerator(SHAPE, 8).records(120))
    generator = ChainGenerator(SHAPE, 8)
    pieces = [r for n in (1, 50, 3, 66) for r in generator.records(n)]
    assert pieces == whole


def _contents(record: GeneratedRecord) -> list[tuple[Any, ...]]:
    return [
        (log["address"], tuple(log["topics"]), log["data"], log["logIndex"])
        for receipt in record["receipts"]
        for log in receipt["logs"]
    ]


def test_chain_above_genesis_holds_the_same_logs() -> None:
    # Blocks 100..139 of the chain from genesis and of a chain started at 100 (mid-batch).
    from_genesis = list(ChainGenerator(SHAPE, 4).records(140))[100:]
    started = list(ChainGenerator(SHAPE, 4, first_block=100).records(40))
    for a, b in zip(from_genesis, started, strict=True):
        assert a["block"]["number"] == b["block"]["number"]
        assert a["block"]["logsBloom"] == b["block"]["logsBloom"]
        assert _contents(a) == _contents(b)
    assert from_genesis[0]["block"]["parentHash"] != started[0]["block"]["parentHash"]


@pytest.mark.parametrize(
    ("seed", "first_block"), [(-1, 0), (2**64, 0), (True, 0), (0, -1), (0, 2**49)]
)
def test_bad_seed_or_first_block_is_refused(seed: int, first_block: int) -> None:
    with pytest.raises(SyntheticChainError):
        ChainGenerator(SHAPE, seed, first_block=first_block)


def test_hashes_follow_the_documented_preimages() -> None:
    from eth_utils.crypto import keccak

    seed = 99
    key = keccak(b"logfilter-synthetic/1" + SHAPE.fingerprint + seed.to_bytes(8, "big"))
    records = list(ChainGenerator(SHAPE, seed).records(3))
    block = records[2]["block"]
    n = (2).to_bytes(8, "big")
    assert block["stateRoot"] == "0x" + keccak(key + b"state" + n).hex()
    assert block["mixHash"] == "0x" + keccak(key + b"randao" + n).hex()
    if block["transactions"]:
        assert block["transactionsRoot"] == "0x" + keccak(key + b"transactions" + n).hex()
    assert block["receiptsRoot"] == "0x" + reference_receipts_root(records[2]["receipts"]).hex()
    assert block["transactions"] == [
        "0x" + keccak(key + b"tx" + n + i.to_bytes(4, "big")).hex()
        for i in range(len(block["transactions"]))
    ]
    assert len(block["transactions"]) > 0
    started = next(ChainGenerator(SHAPE, seed, first_block=5).records(1))
    parent = keccak(key + b"parent" + (5).to_bytes(8, "big"))
    assert started["block"]["parentHash"] == "0x" + parent.hex()
