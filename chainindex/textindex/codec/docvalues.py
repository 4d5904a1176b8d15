"""Doc values: one 64-bit integer per document, column-wise (Lucene's numeric doc values).

Stored as ``min`` plus packed ``value - min`` at the width the spread needs (block numbers
within a segment span little, log indexes are small), decoded once into an int64 array the
first time a sort needs the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainindex.textindex.arrays import I64, U8
from chainindex.textindex.packed import pack, unpack, width_for

__all__ = ["encode_doc_values", "read_doc_values"]


def encode_doc_values(values: I64) -> tuple[dict[str, Any], bytes]:
    """``(meta, bytes)`` of one column."""
    if len(values) == 0:
        return {"min": 0, "width": 0}, b""
    low = int(values.min())
    spread = values.astype(np.int64) - low
    width = width_for(int(spread.max()))
    return {"min": low, "width": width}, pack(spread, width)


def read_doc_values(meta: dict[str, Any], data: U8, max_doc: int) -> I64:
    """The column as an int64 array."""
    return unpack(data, 0, max_doc, int(meta["width"])) + int(meta["min"])
