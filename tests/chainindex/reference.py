"""Reference conversions and comparisons for the chain-index tests.

Written plainly and independently of :mod:`chainindex.source.parse`: what a node's JSON says
a block holds, as the index's types, so that what the indexer stored can be checked against
what the node (or the archive) returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import plyvel
from eth_typing import Address, BlockNumber, Hash32

from chainindex.store.reader import ChainReader
from chainindex.types import ChainLog, Header
from tests.fixtures import hexbytes


def reference_header(block: dict[str, Any]) -> Header:
    """The header a block JSON describes."""
    return Header(
        BlockNumber(int(block["number"], 16)),
        Hash32(hexbytes(block["hash"])),
        Hash32(hexbytes(block["parentHash"])),
        int(block["timestamp"], 16),
        hexbytes(block["logsBloom"]),
    )


def reference_logs(block: dict[str, Any], receipts: list[dict[str, Any]]) -> list[ChainLog]:
    """Every log of the receipts, as the index's ChainLog objects."""
    timestamp = int(block["timestamp"], 16)
    out = []
    for receipt in receipts:
        for log in receipt["logs"]:
            out.append(
                ChainLog(
                    Address(hexbytes(log["address"])),
                    tuple(Hash32(hexbytes(t)) for t in log["topics"]),
                    hexbytes(log["data"]),
                    BlockNumber(int(log["blockNumber"], 16)),
                    Hash32(hexbytes(log["blockHash"])),
                    timestamp,
                    Hash32(hexbytes(log["transactionHash"])),
                    int(log["transactionIndex"], 16),
                    int(log["logIndex"], 16),
                )
            )
    return out


def assert_stored_chain(
    reader: ChainReader, records: Iterable[dict[str, Any]], *, with_logs: bool = True
) -> int:
    """Every record's block is stored exactly (header, canonical hash, hash lookup, logs);
    returns how many were checked."""
    checked = 0
    for record in records:
        expected = reference_header(record["block"])
        number = expected.number

        def read(view: Any, number: int = number, block_hash: bytes = expected.hash) -> Any:
            header = view.header(number)
            return header, view.header_by_hash(block_hash), view.logs(header) if header else None

        header, by_hash, logs = reader.view_sync(read)
        assert header == expected, f"block {number}"
        assert by_hash == expected, f"block {number} by hash"
        if with_logs:
            assert logs is not None, f"logs of block {number} not stored"
            assert list(logs) == reference_logs(record["block"], record["receipts"]), number
        else:
            assert logs is None
        checked += 1
    return checked


def dump(path: Path) -> dict[bytes, bytes]:
    """Every key and value of a (closed) data directory."""
    db = plyvel.DB(str(path))
    try:
        return dict(db.iterator())
    finally:
        db.close()
