"""The point index: integer values of a field, sorted, for exact and range queries.

Lucene indexes points in a BKD tree (``.dim``/``.dii``); for one dimension that degenerates
to sorted values with their documents, which is what is stored here: ``values`` ascending and
``docs`` alongside. A range query is two binary searches and a slice, on arrays mapped
straight from the file.

Values are int64 when every value of the field in the segment fits (block numbers,
timestamps, most amounts); otherwise each value is a 33-byte big-endian key of
``value + 2**256``, which sorts like the integers from ``-2**255`` to ``2**256 - 1``.
"""

from __future__ import annotations

import numpy as np

from chainindex.textindex.arrays import I32, I64, Values

__all__ = ["KEY_BYTES", "PointsReader", "encode_points", "i64_to_keys", "merge_points", "point_key"]

KEY_BYTES = 33
"""Width of the sortable key of a value that does not fit in int64."""
_OFFSET = 2**256
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def point_key(value: int) -> bytes:
    """The sortable 33-byte key of any point value."""
    return (value + _OFFSET).to_bytes(KEY_BYTES, "big")


def i64_to_keys(values: I64) -> Values:
    """The 33-byte keys of int64 values (vectorized :func:`point_key`)."""
    keys = np.zeros((len(values), KEY_BYTES), dtype=np.uint8)
    negative = values < 0
    keys[:, 0] = np.where(negative, 0, 1)
    keys[:, 1:25] = np.where(negative, 0xFF, 0)[:, None]
    keys[:, 25:] = values.astype(">i8").view(np.uint8).reshape(-1, 8)
    return keys.reshape(-1).view(f"S{KEY_BYTES}")


def merge_points(
    parts: list[tuple[str, Values, I64]],
) -> tuple[str, Values, I32]:
    """Combine already-encoded ``(encoding, values, docs)`` parts into one sorted field."""
    if all(encoding == "i64" for encoding, _, _ in parts):
        values: Values = np.concatenate([v.astype(np.int64) for _, v, _ in parts])
        encoding = "i64"
    else:
        values = np.concatenate(
            [i64_to_keys(v.astype(np.int64)) if e == "i64" else v for e, v, _ in parts]
        )
        encoding = "key"
    docs = np.concatenate([d for _, _, d in parts])
    order = np.argsort(values, kind="stable")
    return encoding, values[order], docs[order].astype(np.int32)


def encode_points(values: list[int], docs: I64) -> tuple[str, Values, I32]:
    """``(encoding, sorted values, docs)``: encoding ``"i64"`` or ``"key"``."""
    try:
        array: Values = np.array(values, dtype=np.int64)
        encoding = "i64"
    except OverflowError:
        array = np.array([point_key(v) for v in values], dtype=f"S{KEY_BYTES}")
        encoding = "key"
    order = np.argsort(array, kind="stable")
    return encoding, array[order], docs[order].astype(np.int32)


class PointsReader:
    """Range lookups over one field's points in one segment."""

    def __init__(self, encoding: str, values: Values, docs: I32) -> None:
        self.encoding = encoding
        """``"i64"`` or ``"key"``."""
        self.values = values
        """Sorted values."""
        self.docs = docs
        """Document of each value."""

    def _bound(self, value: int, side: str) -> int:
        if self.encoding == "i64":
            if value < _I64_MIN:
                return 0
            if value > _I64_MAX:
                return len(self.values)
            return int(np.searchsorted(self.values, np.int64(value), side=side))  # type: ignore[call-overload]
        key = np.array([point_key(value)], dtype=f"S{KEY_BYTES}")
        return int(np.searchsorted(self.values, key[0], side=side))  # type: ignore[call-overload]

    def range_slice(self, lower: int | None, upper: int | None) -> tuple[int, int]:
        """Index range ``[start, stop)`` of the values in ``[lower, upper]`` (``None`` = open)."""
        start = 0 if lower is None else self._bound(lower, "left")
        stop = len(self.values) if upper is None else self._bound(upper, "right")
        return start, max(start, stop)

    def count(self, lower: int | None, upper: int | None) -> int:
        """Number of values in range (a document with several counts several times)."""
        start, stop = self.range_slice(lower, upper)
        return stop - start

    def docs_in_range(self, lower: int | None, upper: int | None) -> I32:
        """Sorted distinct documents with a value in ``[lower, upper]``."""
        start, stop = self.range_slice(lower, upper)
        return np.unique(self.docs[start:stop])
