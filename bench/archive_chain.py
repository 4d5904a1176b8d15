"""A minimal synthetic chain archive for the sync benchmark: valid, hash-linked, streamed.

Each block has ``logs_per_block`` logs spread over transactions of up to 20 logs, from a pool
of contracts, with 0 to 4 topics and 32 to 96 bytes of data; blooms, log indexes and receipt
fields are consistent, so the records pass every check an upstream answer gets. Hashes are
keccak256 of the block number and a seed (not real header hashes: nothing here recomputes
them). Written line by line, never held in memory.

This is a stand-in until the project's mainnet-like generator lands (issue 7); it only has
to be valid and of a controlled size.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from bloombits.bloom import logs_bloom
from bloombits.keccak import keccak256

__all__ = ["write_synthetic_archive"]

_LOGS_PER_TX = 20


def _hash(*parts: int) -> bytes:
    return keccak256(b"".join(p.to_bytes(8, "big") for p in parts))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def synthetic_record(
    number: int, logs_per_block: int, rng: random.Random, headers_only: bool
) -> dict[str, Any]:
    """One ``{"block", "receipts"}`` record."""
    block_hash = _hex(_hash(number, 1))
    parent = _hex(_hash(number - 1, 1)) if number else _hex(bytes(32))
    number_hex = hex(number)
    timestamp = hex(1_700_000_000 + 12 * number)
    if headers_only:  # no logs: a random bloom with about 1/8 of its bits set
        bits = rng.getrandbits(2048) & rng.getrandbits(2048) & rng.getrandbits(2048)
        block = {
            "hash": block_hash, "logsBloom": _hex(bits.to_bytes(256, "big")),
            "number": number_hex, "parentHash": parent, "timestamp": timestamp,
            "transactions": [],
        }  # fmt: skip
        return {"block": block}
    tx_count = -(-logs_per_block // _LOGS_PER_TX) if logs_per_block else 0
    txs = [_hex(_hash(number, 2, i)) for i in range(tx_count)]
    receipts = []
    pairs: list[tuple[bytes, list[bytes]]] = []
    log_index = 0
    for i, tx in enumerate(txs):
        logs = []
        tx_pairs: list[tuple[bytes, list[bytes]]] = []
        for _ in range(min(_LOGS_PER_TX, logs_per_block - log_index)):
            address = _hash(rng.randrange(2000), 3)[:20]
            topics = [_hash(rng.randrange(50), 4)] + [
                _hash(rng.randrange(10**6), 5) for _ in range(rng.randrange(4))
            ]
            tx_pairs.append((address, topics))
            logs.append(
                {
                    "address": _hex(address),
                    "topics": [_hex(t) for t in topics],
                    "data": _hex(rng.randbytes(rng.choice((32, 64, 96)))),
                    "blockNumber": number_hex,
                    "transactionHash": tx,
                    "transactionIndex": hex(i),
                    "blockHash": block_hash,
                    "blockTimestamp": timestamp,
                    "logIndex": hex(log_index),
                    "removed": False,
                }
            )
            log_index += 1
        pairs += tx_pairs
        receipts.append(
            {
                "blockHash": block_hash,
                "blockNumber": number_hex,
                "logs": logs,
                "logsBloom": _hex(logs_bloom(tx_pairs)),
                "status": "0x1",
                "transactionHash": tx,
                "transactionIndex": hex(i),
                "type": "0x2",
            }
        )
    block = {
        "hash": block_hash,
        "logsBloom": _hex(logs_bloom(pairs)),
        "number": number_hex,
        "parentHash": parent,
        "timestamp": timestamp,
        "transactions": txs,
    }
    return {"block": block, "receipts": receipts}


def write_synthetic_archive(
    path: Path, blocks: int, logs_per_block: int, *, seed: int = 1, headers_only: bool = False
) -> Path:
    """Write blocks ``0 .. blocks - 1`` to ``path``; returns it."""
    rng = random.Random(seed)
    with path.open("wb") as f:
        for number in range(blocks):
            record = synthetic_record(number, logs_per_block, rng, headers_only)
            f.write(orjson.dumps(record) + b"\n")
    return path
