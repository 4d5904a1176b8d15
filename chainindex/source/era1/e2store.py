"""e2store record framing (Nimbus' ``e2store`` format, go-ethereum's ``internal/era/e2store``).

An e2store file is a sequence of type-length-value records, each an 8-byte header::

    type: 2 bytes | length: uint32 little-endian | reserved: 2 zero bytes

followed by ``length`` bytes of data. The record types of era1 files are the constants
below, by their bytes on disk (go-ethereum writes its ``uint16`` type values little-endian:
``TypeVersion = 0x3265`` is the bytes ``65 32``, ``"e2"``). What differs from go-ethereum's
reader: a record is read at an offset of an open file (:func:`read_record`), and every
defect (short header, non-zero reserved bytes, data past the end) is an
:class:`~chainindex.errors.Era1Error` naming the file and offset.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from chainindex.errors import Era1Error

__all__ = [
    "ACCUMULATOR",
    "BLOCK_INDEX",
    "COMPRESSED_BODY",
    "COMPRESSED_HEADER",
    "COMPRESSED_RECEIPTS",
    "HEADER_SIZE",
    "TOTAL_DIFFICULTY",
    "VERSION",
    "encode_record",
    "read_header",
    "read_record",
]

VERSION: Final = b"e2"
"""``Version``: the first record, no data."""
COMPRESSED_HEADER: Final = b"\x03\x00"
"""``CompressedHeader``: snappy-framed RLP of the block header."""
COMPRESSED_BODY: Final = b"\x04\x00"
"""``CompressedBody``: snappy-framed RLP of ``[transactions, uncles]``."""
COMPRESSED_RECEIPTS: Final = b"\x05\x00"
"""``CompressedReceipts``: snappy-framed RLP of the block's receipts."""
TOTAL_DIFFICULTY: Final = b"\x06\x00"
"""``TotalDifficulty``: uint256, little-endian, 32 bytes (not compressed)."""
ACCUMULATOR: Final = b"\x07\x00"
"""``Accumulator``: the 32-byte SSZ root of the file's header records."""
BLOCK_INDEX: Final = b"f2"
"""``BlockIndex``: starting number, one offset per block, count (int64 little-endian each)."""

HEADER_SIZE: Final = 8
"""Bytes of a record header."""
_HEADER = struct.Struct("<2sIH")


def encode_record(kind: bytes, data: bytes) -> bytes:
    """One record: its header then ``data``."""
    return _HEADER.pack(kind, len(data), 0) + data


def read_header(f: BinaryIO, offset: int, size: int, name: str) -> tuple[bytes, int]:
    """``(type, length)`` of the record at ``offset`` of ``f`` (``size`` bytes long)."""
    if offset < 0 or offset + HEADER_SIZE > size:
        raise Era1Error(f"{name}: no record header at offset {offset} (the file is {size} bytes)")
    f.seek(offset)
    kind, length, reserved = _HEADER.unpack(f.read(HEADER_SIZE))
    if reserved:
        raise Era1Error(f"{name}: record at offset {offset} has non-zero reserved bytes")
    if offset + HEADER_SIZE + length > size:
        raise Era1Error(
            f"{name}: record at offset {offset} claims {length} bytes past the end of the file "
            "(truncated?)"
        )
    return kind, length


def read_record(
    f: BinaryIO, offset: int, size: int, name: str, expected: bytes | None = None
) -> tuple[bytes, bytes, int]:
    """``(type, data, next offset)`` of the record at ``offset``; ``expected``: the type it
    must have."""
    kind, length = read_header(f, offset, size, name)
    if expected is not None and kind != expected:
        raise Era1Error(
            f"{name}: record at offset {offset} has type {kind.hex()}, expected {expected.hex()}"
        )
    data = f.read(length)
    return kind, data, offset + HEADER_SIZE + length
