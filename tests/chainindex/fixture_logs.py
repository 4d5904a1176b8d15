"""The recorded chains' logs as :class:`chainindex.types.ChainLog` (tests only).

The service's own upstream codec lands with the chain indexer; this reads the fixture JSON
directly and strictly enough for tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import orjson
from eth_typing import Address, BlockNumber, Hash32

from chainindex.types import ChainLog
from tests.fixtures import all_block_records, hexbytes, mainnet_block_files


def log_from_json(entry: dict[str, Any]) -> ChainLog:
    """One log object of a receipt (geth's JSON-RPC shape)."""
    return ChainLog(
        address=Address(hexbytes(entry["address"])),
        topics=tuple(Hash32(hexbytes(t)) for t in entry["topics"]),
        data=hexbytes(entry["data"]),
        block_number=BlockNumber(int(entry["blockNumber"], 16)),
        block_hash=Hash32(hexbytes(entry["blockHash"])),
        block_timestamp=int(entry["blockTimestamp"], 16),
        transaction_hash=Hash32(hexbytes(entry["transactionHash"])),
        transaction_index=int(entry["transactionIndex"], 16),
        log_index=int(entry["logIndex"], 16),
        removed=bool(entry["removed"]),
    )


def logs_of_records(records: Iterable[dict[str, Any]]) -> Iterator[ChainLog]:
    """Every log of the given block records, in chain order."""
    for record in records:
        for receipt in record["receipts"]:
            for entry in receipt["logs"]:
                yield log_from_json(entry)


@cache
def mainnet_logs() -> tuple[ChainLog, ...]:
    """The 15,419 logs of the 17 recorded mainnet blocks."""
    records = (orjson.loads(p.read_bytes()) for p in mainnet_block_files())
    return tuple(logs_of_records(records))


@cache
def mainnet_log_json() -> tuple[dict[str, Any], ...]:
    """The same logs as recorded JSON objects (for independent checks)."""
    out = []
    for path in mainnet_block_files():
        record = orjson.loads(path.read_bytes())
        for receipt in record["receipts"]:
            out.extend(receipt["logs"])
    return tuple(out)


def all_fixture_logs() -> Iterator[ChainLog]:
    """Every log of both recorded chains."""
    return logs_of_records(all_block_records())
