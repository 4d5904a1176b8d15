"""Byte-aligned packed integers and ragged ranges: the numpy primitives of the codec.

Lucene packs integers at bit granularity (FOR/PFOR); here widths are whole bytes (0, 1, 2, 3,
4 or 8), little-endian, so that decoding is a gather plus a ``view`` in numpy with no Python
loop. Width 0 means "every value is 0" and takes no bytes.

``ragged_ranges(starts, lengths)`` is the concatenation of ``range(s, s + n)`` for each pair,
built without a Python loop: the way a set of blocks (or a set of postings' positions) is
gathered in one step.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chainindex.textindex.arrays import I64, U8

__all__ = [
    "WIDTHS",
    "PackedInts",
    "pack",
    "ragged_ranges",
    "unpack",
    "unpack_at",
    "width_for",
]


WIDTHS = (0, 1, 2, 3, 4, 8)
"""The byte widths a packed integer can take."""


def width_for(max_value: int) -> int:
    """The smallest width (bytes) that holds every value in ``0..max_value``."""
    if max_value < 0:
        raise ValueError("packed integers are unsigned")
    if max_value == 0:
        return 0
    for width in (1, 2, 3, 4):
        if max_value < 1 << (8 * width):
            return width
    if max_value < 1 << 64:
        return 8
    raise ValueError(f"{max_value} does not fit in 64 bits")


def pack(values: npt.ArrayLike, width: int) -> bytes:
    """``values`` (non-negative, each below ``256**width``) as ``width``-byte little-endian."""
    array = np.asarray(values, dtype=np.uint64)
    if width == 0:
        return b""
    if width == 8:
        return array.astype("<u8").tobytes()
    raw = array.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :width]
    return np.ascontiguousarray(raw).tobytes()


def _combine(raw: U8, width: int) -> I64:
    """Contiguous little-endian ``width``-byte groups to int64."""
    if width == 1:
        return raw.astype(np.int64)
    if width == 2:
        return raw.view("<u2").astype(np.int64)
    if width == 4:
        return raw.view("<u4").astype(np.int64)
    if width == 8:
        return raw.view("<u8").astype(np.int64)
    groups = raw.reshape(-1, 3).astype(np.int64)
    combined: I64 = groups[:, 0] | (groups[:, 1] << 8) | (groups[:, 2] << 16)
    return combined


def unpack(data: U8, offset: int, count: int, width: int) -> I64:
    """``count`` values of ``width`` bytes starting at byte ``offset`` of ``data``."""
    if width == 0:
        return np.zeros(count, dtype=np.int64)
    raw = data[offset : offset + count * width]
    if len(raw) != count * width:
        raise ValueError("packed integers run past the end of their data")
    return _combine(np.ascontiguousarray(raw), width)


def unpack_at(data: U8, offset: int, width: int, indexes: npt.ArrayLike) -> I64:
    """Values number ``indexes`` of a packed run starting at ``offset`` (a vectorized gather)."""
    idx = np.asarray(indexes, dtype=np.int64)
    if width == 0:
        return np.zeros(len(idx), dtype=np.int64)
    byte_idx = (offset + idx * width)[:, None] + np.arange(width, dtype=np.int64)
    return _combine(np.ascontiguousarray(data[byte_idx.ravel()]), width)


def ragged_ranges(starts: npt.ArrayLike, lengths: npt.ArrayLike) -> I64:
    """Concatenation of ``range(s, s + n)`` for each ``(s, n)`` (``n >= 0``)."""
    s = np.asarray(starts, dtype=np.int64)
    n = np.asarray(lengths, dtype=np.int64)
    total = int(n.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(n)
    shift = np.repeat(s - (ends - n), n)
    return shift + np.arange(total, dtype=np.int64)


class PackedInts:
    """A read-only column of packed non-negative integers over a byte buffer."""

    __slots__ = ("count", "data", "offset", "width")

    def __init__(self, data: U8, offset: int, count: int, width: int) -> None:
        if width not in WIDTHS:
            raise ValueError(f"bad packed width {width}")
        if offset + count * width > len(data):
            raise ValueError("packed column runs past the end of its data")
        self.data = data
        """The buffer holding the column."""
        self.offset = offset
        """Byte offset of value 0."""
        self.count = count
        """Number of values."""
        self.width = width
        """Bytes per value."""

    def __len__(self) -> int:
        return self.count

    def get(self, index: int) -> int:
        """Value ``index``."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        if self.width == 0:
            return 0
        at = self.offset + index * self.width
        return int.from_bytes(self.data[at : at + self.width].tobytes(), "little")

    def take(self, indexes: npt.ArrayLike) -> I64:
        """Values at ``indexes`` (vectorized)."""
        return unpack_at(self.data, self.offset, self.width, indexes)

    def all(self) -> I64:
        """Every value."""
        return unpack(self.data, self.offset, self.count, self.width)

    @staticmethod
    def encode(values: npt.ArrayLike) -> tuple[int, bytes]:
        """``(width, bytes)`` of a column holding ``values``."""
        array = np.asarray(values, dtype=np.int64)
        width = width_for(int(array.max())) if len(array) else 0
        return width, pack(array, width)
