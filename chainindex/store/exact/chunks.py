"""The value of an exact-index record (format 4): one fingerprint's log positions in one
section, tagged by encoding.

Positions are dense within the section: the i-th log of the section is position ``i``
(:mod:`~chainindex.store.exact.counts` turns them back into blocks). A record is

* ``0x01`` · LEB128 varints of the gaps between ascending positions (the first gap from 0):
  what a value seen in a few logs costs, 1–3 bytes a position;
* ``0x02`` · a roaring bitmap in the portable serialisation every Roaring implementation reads
  (https://github.com/RoaringBitmap/RoaringFormatSpec), built with run optimisation: for a
  value with at least :data:`ROARING_MIN` positions, when it is shorter than the varints.

Either way the bytes of a record are a function of its positions alone (a data directory
rebuilt from the same chain holds the same records). Lucene's postings likewise write short
lists as vInt deltas (``Lucene90PostingsWriter``'s tail block) and long ones in blocks; the
roaring side is Erigon's (its log indexes are roaring bitmaps of block numbers).

:func:`encode_chunks` encodes the records of a whole section at once with numpy (no Python
per position).
"""

from __future__ import annotations

from itertools import accumulate

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from chainindex.errors import CorruptDataError

__all__ = ["ROARING", "ROARING_MIN", "VARINTS", "decode_chunk", "encode_chunk", "encode_chunks"]

VARINTS = 0x01
"""Tag of a record of varint gaps."""
ROARING = 0x02
"""Tag of a record holding a portable roaring bitmap."""
ROARING_MIN = 64
"""Fewest positions for which roaring is tried (below, varints are always shorter)."""

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]


def _varints(gaps: U32) -> tuple[U8, I64]:
    """LEB128 bytes of every gap, concatenated, and the byte length of each. Works in
    place on narrow arrays (about 30 bytes a gap at the peak, for the gaps of a value that
    is in most logs of a section: a million and more)."""
    lengths = np.ones(len(gaps), dtype=np.uint8)
    for shift in (7, 14, 21, 28):
        np.add(lengths, gaps >= np.uint32(1 << shift), out=lengths, casting="unsafe")
    starts = np.cumsum(lengths, dtype=np.int64)
    total = int(starts[-1]) if len(starts) else 0
    starts -= lengths
    out = np.empty(total, dtype=np.uint8)
    for byte in range(5):
        has = np.flatnonzero(lengths > byte)
        if not len(has):
            break
        chunk = gaps[has] >> np.uint32(7 * byte)
        chunk &= np.uint32(0x7F)
        chunk |= (lengths[has] > byte + 1).astype(np.uint32) << np.uint32(7)
        out[starts[has] + byte] = chunk
        del has, chunk
    return out, lengths.astype(np.int64)


def encode_chunks(positions: U32, bounds: I64) -> list[bytes]:
    """The records of several position lists at once: list ``i`` is ``positions[bounds[i] :
    bounds[i + 1]]``, ascending and distinct."""
    n = len(bounds) - 1
    if n <= 0:
        return []
    gaps = positions.astype(np.uint32, copy=True)
    if len(gaps) > 1:
        gaps[1:] -= positions[:-1]
    heads = bounds[:-1]
    gaps[heads] = positions[heads]
    data, lengths = _varints(gaps)
    byte_ends = np.concatenate([[0], np.cumsum(lengths)])
    offsets = byte_ends[bounds].tolist()
    raw = data.tobytes()
    tag = bytes([VARINTS])
    sizes = np.diff(bounds).tolist()
    out: list[bytes] = []
    for i in range(n):
        record = tag + raw[offsets[i] : offsets[i + 1]]
        if sizes[i] >= ROARING_MIN:
            start, stop = int(bounds[i]), int(bounds[i + 1])
            bitmap = BitMap(positions[start:stop])
            bitmap.run_optimize()
            roaring = bytes([ROARING]) + bitmap.serialize()
            if len(roaring) < len(record):
                record = roaring
        out.append(record)
    return out


def encode_chunk(positions: U32) -> bytes:
    """The record of ascending, distinct positions."""
    return encode_chunks(positions, np.array([0, len(positions)], dtype=np.int64))[0]


_SMALL_RECORD = 48
"""Varint records of at most this many bytes are decoded by a Python loop: the numpy path's
two dozen calls cost more there (a rare value's record in a section is a few bytes)."""


def _decode_small(data: bytes, where: str) -> U32:
    """:func:`_decode_varints` of a short record, one byte at a time (the same checks, in
    the same order, with the same messages)."""
    if not data or data[-1] & 0x80:
        raise CorruptDataError(f"{where}: truncated varint record")
    gaps: list[int] = []
    value = length = 0
    for byte in data:
        if length == 5:
            raise CorruptDataError(f"{where}: varint longer than 32 bits")
        value |= (byte & 0x7F) << (7 * length)
        length += 1
        if byte < 0x80:
            gaps.append(value)
            value = length = 0
    if sum(gaps) > 0xFFFFFFFF:
        raise CorruptDataError(f"{where}: position beyond 32 bits")
    if 0 in gaps[1:]:
        raise CorruptDataError(f"{where}: repeated position")
    return np.array(list(accumulate(gaps)), dtype=np.uint32)


def _decode_varints(data: bytes, where: str) -> U32:
    if len(data) <= _SMALL_RECORD:
        return _decode_small(data, where)
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw) or raw[-1] & 0x80:
        raise CorruptDataError(f"{where}: truncated varint record")
    ends = np.flatnonzero(raw < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    if int((ends - starts).max()) > 4:
        raise CorruptDataError(f"{where}: varint longer than 32 bits")
    values = np.zeros(len(ends), dtype=np.uint64)
    low = (raw & 0x7F).astype(np.uint64)
    for byte in range(5):
        at = starts + byte
        has = at <= ends
        values[has] |= low[at[has]] << np.uint64(7 * byte)
    positions = np.cumsum(values)
    if len(positions) and int(positions[-1]) > 0xFFFFFFFF:
        raise CorruptDataError(f"{where}: position beyond 32 bits")
    if len(values) > 1 and not values[1:].all():
        raise CorruptDataError(f"{where}: repeated position")
    return positions.astype(np.uint32)


def decode_chunk(value: bytes, where: str) -> BitMap:
    """The positions of the record ``value``; a malformed or empty one is CorruptDataError
    naming ``where``."""
    tag, body = value[:1], value[1:]
    if tag == bytes([VARINTS]):
        return BitMap(_decode_varints(body, where))
    if tag != bytes([ROARING]):
        raise CorruptDataError(f"{where}: unknown exact-index record tag {tag.hex() or 'none'}")
    try:
        bitmap = BitMap.deserialize(body)
    except (ValueError, OverflowError, IndexError) as err:
        raise CorruptDataError(f"{where}: malformed bitmap ({err})") from None
    if not bitmap:
        raise CorruptDataError(f"{where}: empty bitmap")
    return bitmap
