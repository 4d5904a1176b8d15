"""Header records: a block header as the indexer stores it (logs records:
:mod:`chainindex.store.codec`).

The record starts with a one-byte format version (:data:`HEADER_FORMAT`), versioned together
with the schema (:data:`chainindex.store.schema.SCHEMA_VERSION`). The block number and hash
are in the key, so the record does not repeat them.

Header record: a fixed 297-byte prefix, read at fixed offsets by the query path, then the
header's other fields as the node gave them (:mod:`chainindex.header_extra`, kept as bytes
and decoded only where they are handed out)::

    u8 version (2) · parent hash (32) · timestamp u64 BE · logsBloom (256) · other fields

Version-1 records (schema 2) are the 297-byte prefix alone; they stay readable, their header
has no other fields (:attr:`~chainindex.types.Header.extra` empty).
"""

from __future__ import annotations

import struct
from typing import Final

from eth_typing import BlockNumber, Hash32

from chainindex.errors import CorruptDataError
from chainindex.types import Header

__all__ = ["HEADER_FORMAT", "decode_header", "encode_header", "header_bloom"]

HEADER_FORMAT: Final = 2
"""Version byte of header records (1: the prefix alone, schema 2; still read)."""
_PREFIX_ONLY: Final = 1
"""Version byte of schema-2 header records: the prefix alone."""

_HEADER = struct.Struct(">B32sQ256s")
_HEADER_SIZE: Final = _HEADER.size
_BLOOM_OFFSET: Final = 1 + 32 + 8


def encode_header(header: Header) -> bytes:
    """The stored record of ``header`` (number and hash are in its key)."""
    prefix = _HEADER.pack(HEADER_FORMAT, header.parent_hash, header.timestamp, header.logs_bloom)
    return prefix + header.extra


def _well_formed(record: bytes) -> bool:
    size = len(record)
    if size == _HEADER.size:
        return record[0] == _PREFIX_ONLY or record[0] == HEADER_FORMAT
    return size > _HEADER.size and record[0] == HEADER_FORMAT


def decode_header(number: int, block_hash: bytes, record: bytes) -> Header:
    """The :class:`Header` stored as ``record`` under ``number`` and ``block_hash`` (its other
    fields kept encoded: decode them with :meth:`chainindex.header_extra.HeaderExtra.decode`)."""
    if not _well_formed(record):
        raise CorruptDataError(
            f"malformed header record of block {number} ({len(record)} bytes, "
            f"format {record[:1].hex() or 'missing'})"
        )
    _, parent, timestamp, bloom = _HEADER.unpack_from(record)
    return Header(
        BlockNumber(number),
        Hash32(bytes(block_hash)),
        Hash32(parent),
        timestamp,
        bloom,
        record[_HEADER.size :],
    )


def header_bloom(record: bytes) -> bytes:
    """Just the logsBloom of a header record (checked like :func:`decode_header`; inlined:
    the header scan calls it once per block)."""
    size = len(record)
    if size < _HEADER_SIZE or (
        record[0] != HEADER_FORMAT and (record[0] != _PREFIX_ONLY or size != _HEADER_SIZE)
    ):
        raise CorruptDataError(f"malformed header record ({len(record)} bytes)")
    return record[_BLOOM_OFFSET:_HEADER_SIZE]
