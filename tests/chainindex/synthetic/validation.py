"""An independent check of a chain archive, written without the generator's code.

It uses the ``rlp`` package for header hashes, ``rlp`` and py-trie for receipts roots
(:mod:`tests.chainindex.consensus_reference`), ``eth-bloom`` for blooms and the recorded
mainnet fixture for the expected keys, and checks every invariant an upstream answer must meet
for the indexer: parent links, blooms, log indexes, hashes and numbers consistent everywhere,
geth's key order and minimal-hex encodings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import rlp
from eth_bloom.bloom import BloomFilter
from eth_hash.auto import keccak

from tests.chainindex.consensus_reference import reference_receipts_root
from tests.fixtures import fixtures_dir, hexbytes

QUANTITY = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
DATA = re.compile(r"^0x([0-9a-f]{2})*$")
HASH = re.compile(r"^0x[0-9a-f]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
BLOOM = re.compile(r"^0x[0-9a-f]{512}$")
EMPTY_TRIE = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"

# Header fields of a Paris block, in consensus (RLP) order, and how each is encoded.
PARIS_HEADER = (
    ("parentHash", "data"),
    ("sha3Uncles", "data"),
    ("miner", "data"),
    ("stateRoot", "data"),
    ("transactionsRoot", "data"),
    ("receiptsRoot", "data"),
    ("logsBloom", "data"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "data"),
    ("mixHash", "data"),
    ("nonce", "data"),
    ("baseFeePerGas", "int"),
)


def reference_shapes() -> tuple[list[str], list[str], list[str]]:
    """Keys (in order) of a real Paris block, of its type-2 receipt with logs, and of a log."""
    record = orjson.loads((fixtures_dir() / "mainnet" / "15547621.json").read_bytes())
    receipt = next(r for r in record["receipts"] if r["logs"] and r["type"] == "0x2")
    return list(record["block"]), list(receipt), list(receipt["logs"][0])


def header_hash(block: dict[str, Any]) -> str:
    """keccak256 of the RLP of a Paris header rebuilt from the JSON fields."""
    fields: list[Any] = []
    for name, kind in PARIS_HEADER:
        fields.append(int(block[name], 16) if kind == "int" else hexbytes(block[name]))
    return "0x" + keccak(rlp.encode(fields)).hex()


def bloom_of(logs: Iterable[dict[str, Any]]) -> int:
    """eth-bloom's bloom of the logs' addresses and topics, as an integer."""
    bloom = BloomFilter()
    for log in logs:
        bloom.add(hexbytes(log["address"]))
        for topic in log["topics"]:
            bloom.add(hexbytes(topic))
    return int(bloom)


def check_block(block: dict[str, Any], block_keys: list[str]) -> None:
    """A block alone: keys, encodings, recomputable hash."""
    assert list(block) == block_keys
    for name in ("baseFeePerGas", "difficulty", "gasLimit", "gasUsed", "number", "size"):
        assert QUANTITY.match(block[name]), (name, block[name])
    assert QUANTITY.match(block["timestamp"])
    for name in ("hash", "parentHash", "mixHash", "stateRoot", "receiptsRoot", "sha3Uncles"):
        assert HASH.match(block[name]), (name, block[name])
    assert HASH.match(block["transactionsRoot"])
    assert ADDRESS.match(block["miner"])
    assert BLOOM.match(block["logsBloom"])
    assert DATA.match(block["extraData"])
    assert block["nonce"] == "0x0000000000000000"
    assert block["uncles"] == []
    assert int(block["gasUsed"], 16) <= int(block["gasLimit"], 16)
    assert header_hash(block) == block["hash"]


def check_receipts(
    block: dict[str, Any], receipts: list[dict[str, Any]], keys: tuple[list[str], list[str]]
) -> None:
    """Receipts against their block: links, indexes, blooms, gas, encodings."""
    receipt_keys, log_keys = keys
    assert [r["transactionHash"] for r in receipts] == block["transactions"]
    if not receipts:
        assert block["transactionsRoot"] == EMPTY_TRIE == block["receiptsRoot"]
    assert block["receiptsRoot"] == "0x" + reference_receipts_root(receipts).hex()
    log_index = 0
    cumulative = 0
    block_bloom = 0
    for position, receipt in enumerate(receipts):
        assert list(receipt) == receipt_keys
        assert receipt["blockHash"] == block["hash"]
        assert receipt["blockNumber"] == block["number"]
        assert receipt["transactionIndex"] == hex(position)
        assert HASH.match(receipt["transactionHash"])
        assert receipt["contractAddress"] is None
        assert ADDRESS.match(receipt["from"])
        assert ADDRESS.match(receipt["to"])
        assert receipt["status"] in ("0x0", "0x1")
        assert receipt["type"] in ("0x0", "0x2")
        for name in ("cumulativeGasUsed", "gasUsed", "effectiveGasPrice"):
            assert QUANTITY.match(receipt[name]), (name, receipt[name])
        assert int(receipt["effectiveGasPrice"], 16) >= int(block["baseFeePerGas"], 16)
        gas = int(receipt["gasUsed"], 16)
        assert gas >= 21_000
        cumulative += gas
        assert int(receipt["cumulativeGasUsed"], 16) == cumulative
        if receipt["status"] == "0x0":
            assert receipt["logs"] == []
        for log in receipt["logs"]:
            assert list(log) == log_keys
            assert ADDRESS.match(log["address"])
            assert 1 <= len(log["topics"]) <= 4
            assert all(HASH.match(t) for t in log["topics"])
            assert DATA.match(log["data"])
            assert log["blockNumber"] == block["number"]
            assert log["blockHash"] == block["hash"]
            assert log["blockTimestamp"] == block["timestamp"]
            assert log["transactionHash"] == receipt["transactionHash"]
            assert log["transactionIndex"] == receipt["transactionIndex"]
            assert log["logIndex"] == hex(log_index)
            assert log["removed"] is False
            log_index += 1
        bloom = bloom_of(receipt["logs"])
        assert int(receipt["logsBloom"], 16) == bloom
        block_bloom |= bloom
    assert cumulative == int(block["gasUsed"], 16)
    assert int(block["logsBloom"], 16) == block_bloom


def check_chain(
    records: Iterable[Mapping[str, Any]],
    *,
    first: int = 0,
    block_time: int = 12,
    headers_only: bool = False,
) -> int:
    """Every record and the links between them; returns the number of blocks checked."""
    block_keys, receipt_keys, log_keys = reference_shapes()
    previous: dict[str, Any] | None = None
    seen_blocks: set[str] = set()
    seen_txs: set[str] = set()
    count = 0
    for record in records:
        block = record["block"]
        keys = ["chainId", "block"] if headers_only else ["chainId", "block", "receipts"]
        assert list(record) == keys
        assert record["chainId"] == "0x539"  # the default chain id, 1337
        check_block(block, block_keys)
        number = int(block["number"], 16)
        assert number == first + count
        if headers_only:
            assert block["transactions"] == []
        else:
            check_receipts(block, record["receipts"], (receipt_keys, log_keys))
            assert seen_txs.isdisjoint(block["transactions"])
            seen_txs.update(block["transactions"])
        if number == 0:
            assert block["parentHash"] == "0x" + "00" * 32
            assert block["transactions"] == []
            assert int(block["logsBloom"], 16) == 0
        if previous is not None:
            assert block["parentHash"] == previous["hash"]
            step = int(block["timestamp"], 16) - int(previous["timestamp"], 16)
            assert step in (block_time, 2 * block_time)
        assert block["hash"] not in seen_blocks
        seen_blocks.add(block["hash"])
        previous = block
        count += 1
    return count
