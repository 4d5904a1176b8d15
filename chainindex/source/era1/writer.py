"""Writing era1 files (go-ethereum's ``internal/era/builder.go``, ``Builder``/``Filename``).

:func:`era1_tuple` turns a chain-archive record (a node's block and receipts) plus the
block's raw body into the four parts of an era1 block tuple: the header RLP rebuilt from the
fields (:func:`chainindex.source.verify.header_rlp`, so its keccak256 is the block hash when
the record is whole), the body, the receipts in their consensus encoding with blooms (the
spec's ``rlp(receipts)``), the total difficulty. :func:`write_era1_file` writes one file,
atomically, named ``<network>-<epoch:05>-<first 8 hex of the accumulator root>.era1``.

What differs from go-ethereum: the root is computed before writing (the tuples are in hand)
so the file is written once under its final name; a file may hold fewer than 8192 blocks
starting anywhere (tests write short files), as go-ethereum's builder also allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cramjam

from bloombits.bloom import logs_bloom
from bloombits.keccak import keccak256
from chainindex.source.era1 import e2store
from chainindex.source.era1.accumulator import MAX_ERA1_SIZE, accumulator_root
from chainindex.source.era1.block import encode_receipts
from chainindex.source.era1.file import Era1Tuple
from chainindex.source.parse import parse_block, parse_header, parse_header_extra
from chainindex.source.verify import encode_receipt, header_rlp
from chainindex.source.wire import ArchiveRecord
from chainindex.store.atomicfile import atomic_write

__all__ = ["era1_filename", "era1_tuple", "write_era1_file"]


def era1_tuple(record: ArchiveRecord, body_rlp: bytes, total_difficulty: int) -> Era1Tuple:
    """The era1 tuple of a whole record (checked by :func:`parse_block` first)."""
    block, receipts = record["block"], record["receipts"]
    parsed = parse_block(block, receipts, verify=True)
    header = parse_header(block, verify=False)
    extra = parse_header_extra(block, header.number)
    assert parsed.logs is not None
    encoded = []
    for index, receipt in enumerate(receipts):
        logs = [log for log in parsed.logs if log.transaction_index == index]
        bloom = logs_bloom((log.address, log.topics) for log in logs)
        where = f"receipt {index}"
        encoded.append(encode_receipt(receipt, logs, bloom, header.number, where))
    return header_rlp(header, extra), body_rlp, encode_receipts(encoded), total_difficulty


def era1_filename(network: str, epoch: int, root: bytes) -> str:
    """go-ethereum's ``Filename``: ``<network>-<epoch:05>-<root hex[:8]>.era1``."""
    return f"{network}-{epoch:05d}-{root.hex()[:8]}.era1"


def _snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress(data))


def write_era1_file(
    directory: str | Path, network: str, epoch: int, tuples: Sequence[Era1Tuple], start: int
) -> Path:
    """Write the blocks ``start, start+1, ...`` given by ``tuples`` as one era1 file in
    ``directory``; returns its path."""
    if not 0 < len(tuples) <= MAX_ERA1_SIZE:
        raise ValueError(f"an era1 file holds 1..{MAX_ERA1_SIZE} blocks, not {len(tuples)}")
    hashes = [keccak256(t[0]) for t in tuples]
    root = accumulator_root(hashes, [t[3] for t in tuples])
    path = Path(directory) / era1_filename(network, epoch, root)
    offsets = []
    written = 0
    with atomic_write(path) as f:

        def put(kind: bytes, data: bytes) -> None:
            nonlocal written
            record = e2store.encode_record(kind, data)
            f.write(record)
            written += len(record)

        put(e2store.VERSION, b"")
        for header, body, receipts, td in tuples:
            offsets.append(written)
            put(e2store.COMPRESSED_HEADER, _snappy(header))
            put(e2store.COMPRESSED_BODY, _snappy(body))
            put(e2store.COMPRESSED_RECEIPTS, _snappy(receipts))
            put(e2store.TOTAL_DIFFICULTY, td.to_bytes(32, "little"))
        put(e2store.ACCUMULATOR, root)
        base = written
        words = [start, *(offset - base for offset in offsets), len(tuples)]
        put(e2store.BLOCK_INDEX, b"".join(w.to_bytes(8, "little", signed=True) for w in words))
    return path
