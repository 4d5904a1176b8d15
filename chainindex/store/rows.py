"""The value of an ``R`` record: one bloom bit's vectors for a whole group of sections.

Per-section vectors (``B`` records, go-ethereum's layout) cost one LevelDB entry, one key
parse and one decompression per (bit, section): a query over 20M blocks for 36 bits reads
175,788 of them, and those per-entry costs, not the bytes, are most of its time. Once a group
of sections is complete, :class:`~chainindex.store.SectionStore` moves its vectors into one
row per bit, the ``group`` vectors concatenated in section order: one entry per bit and group.

A row is stored as one tag byte and a payload, in the form that reads fastest for what it
costs on disk:

* ``0x00`` + the raw row (``group * width`` bytes), when go-ethereum's compression would
  save less than a tenth (a busy chain): read as a view of the value, no decoding at all.
* ``0x01`` + the whole row compressed with :func:`~bloombits.bitutil.compress_bytes`, when
  that is at most a third of the raw size (a quiet chain).
* ``0x02`` + the raw row XORed with a fixed pseudo-random mask (:func:`row_mask`), in
  between: one XOR to read.

Why mask? LevelDB compresses its blocks with snappy, which shrinks a row at 5% of bits set
to 55% but then decodes it at about 120 MB/s (measured here: 270 µs for a 32 KiB row), and
:func:`~bloombits.bitutil.decompress_many` decodes the go-ethereum form of such a row (46%
of raw) in 71 µs; a masked row looks random, so snappy leaves it alone and it reads in
about 3 µs plus the XOR. The price is disk: such rows take their raw size (256 bytes per
block, what the blocks' blooms take), where go-ethereum's form takes a third to nine tenths
of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from bloombits.arrays import U8
from bloombits.bitutil import compress_many, compressed_sizes, decompress_many
from bloombits.errors import CompressionError
from bloombits.keccak import keccak256
from chainindex.errors import CorruptDataError

__all__ = ["decode_row", "decode_rows", "encode_rows", "row_mask"]


RAW = 0
"""Tag of a row stored as it is."""
COMPRESSED = 1
"""Tag of a row stored compressed (geth's format, over the whole row)."""
MASKED = 2
"""Tag of a row stored XORed with :func:`row_mask`."""

RAW_ABOVE = 0.9
"""A row whose compressed form is above this fraction of its raw size is stored raw."""
COMPRESSED_AT_MOST = 1 / 3
"""A row whose compressed form is at most this fraction of its raw size is stored so."""

_TAGS = [bytes([tag]) for tag in (RAW, COMPRESSED, MASKED)]


@cache
def row_mask(size: int) -> U8:
    """The ``size`` mask bytes of a masked row: keccak256 of ``b"logfilter row mask"`` and
    a u32 BE counter, concatenated (fixed forever: it is part of the stored format)."""
    blocks = (size + 31) // 32
    stream = b"".join(
        keccak256(b"logfilter row mask" + i.to_bytes(4, "big")) for i in range(blocks)
    )
    mask = np.frombuffer(stream[:size], dtype=np.uint8)
    mask.flags.writeable = False
    return mask


def encode_rows(rows: U8) -> list[bytes]:
    """The stored values of ``rows`` (a ``(bits, group * width)`` array), one per bit."""
    raw_size = rows.shape[1]
    sizes = compressed_sizes(rows)
    small = np.flatnonzero(sizes <= COMPRESSED_AT_MOST * raw_size)
    packed = dict(zip(small.tolist(), compress_many(rows[small]), strict=True))
    out = []
    for index, (row, size) in enumerate(zip(rows, sizes.tolist(), strict=True)):
        if index in packed:
            out.append(_TAGS[COMPRESSED] + packed[index])
        elif size > RAW_ABOVE * raw_size:
            out.append(_TAGS[RAW] + row.tobytes())
        else:
            out.append(_TAGS[MASKED] + (row ^ row_mask(raw_size)).tobytes())
    return out


def decode_rows(values: Sequence[bytes], group: int, width: int, where: str) -> list[U8]:
    """The ``(group, width)`` vectors of each stored row (read-only views when stored raw;
    the compressed ones decoded together, in one call); a value that is not a well-formed
    row of that shape is :class:`CorruptDataError` naming ``where``."""
    size = group * width
    out: list[U8 | None] = []
    packed: list[bytes] = []
    for value in values:
        tag = value[:1]
        if tag == _TAGS[COMPRESSED]:
            out.append(None)
            packed.append(value[1:])
            continue
        if len(value) != size + 1 or tag not in (_TAGS[RAW], _TAGS[MASKED]):
            raise CorruptDataError(
                f"{where}: malformed row ({len(value)} bytes, expected a tagged row)"
            )
        row = np.frombuffer(value, dtype=np.uint8, offset=1)
        if tag == _TAGS[MASKED]:
            row = row ^ row_mask(size)
        out.append(row.reshape(group, width))
    if not packed:
        return [row for row in out if row is not None]
    try:
        decoded = iter(decompress_many(packed, size, copy=False).reshape(-1, group, width))
    except CompressionError as err:
        raise CorruptDataError(f"{where}: malformed compressed row ({err})") from None
    return [row if row is not None else next(decoded) for row in out]


def decode_row(value: bytes, group: int, width: int, where: str) -> U8:
    """:func:`decode_rows` of one row."""
    return decode_rows([value], group, width, where)[0]
