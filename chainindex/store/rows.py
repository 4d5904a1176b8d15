"""The value of an ``R`` record: one bloom bit's vectors for a whole group of sections.

Per-section vectors (``B`` records, go-ethereum's layout) cost one LevelDB entry, one key
parse and one decompression per (bit, section): a query over 20M blocks for 36 bits reads
175,788 of them, and those per-entry costs, not the bytes, are most of its time. Once a group
of sections is complete, :class:`~chainindex.store.SectionStore` moves its vectors into one
row per bit, the ``group`` vectors concatenated in section order: one entry per bit and group.

A row is stored as one tag byte and a payload:

* ``0x00`` + the raw row (``group * width`` bytes): read with no decoding at all, a view of
  the value. Dense rows (a busy chain, where go-ethereum's compression saves little) are
  stored so.
* ``0x01`` + the whole row compressed with :func:`~bloombits.bitutil.compress_bytes`, when
  that saves at least a quarter of the raw size (a quieter chain).

Why not leave the sparse rows raw, for LevelDB's own block compression (snappy) to shrink?
Measured here on 32 KiB rows at 5% of bits set: snappy shrinks them to 55% but then decodes
at about 120 MB/s (270 µs a row), where :func:`~bloombits.bitutil.decompress_many` decodes
the go-ethereum form (46% of raw) in 71 µs; that form leaves snappy nothing to do (reads of
it take 2 µs a row), and so do dense raw rows (3 µs).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bloombits.bitutil import compress_many, decompress_many
from bloombits.errors import CompressionError
from chainindex.errors import CorruptDataError

__all__ = ["decode_row", "encode_rows"]

U8 = npt.NDArray[np.uint8]

RAW = 0
"""Tag of a row stored as it is."""
COMPRESSED = 1
"""Tag of a row stored compressed (geth's format, over the whole row)."""

COMPRESSED_AT_MOST = 0.75
"""A row is stored compressed when that is at most this fraction of its raw size."""


def encode_rows(rows: U8) -> list[bytes]:
    """The stored values of ``rows`` (a ``(bits, group * width)`` array), one per bit."""
    raw_size = rows.shape[1]
    out = []
    for row, packed in zip(rows, compress_many(rows), strict=True):
        if len(packed) <= COMPRESSED_AT_MOST * raw_size:
            out.append(bytes([COMPRESSED]) + packed)
        else:
            out.append(bytes([RAW]) + row.tobytes())
    return out


def decode_row(value: bytes, group: int, width: int, where: str) -> U8:
    """The ``(group, width)`` vectors of a stored row (read-only when stored raw); a value
    that is not a well-formed row of that shape is :class:`CorruptDataError` naming
    ``where``."""
    size = group * width
    tag = value[:1]
    if tag == bytes([RAW]) and len(value) == size + 1:
        return np.frombuffer(value, dtype=np.uint8, offset=1).reshape(group, width)
    if tag == bytes([COMPRESSED]):
        try:
            return decompress_many([value[1:]], size, copy=False).reshape(group, width)
        except CompressionError as err:
            raise CorruptDataError(f"{where}: malformed compressed row ({err})") from None
    raise CorruptDataError(f"{where}: malformed row ({len(value)} bytes, expected a tagged row)")
