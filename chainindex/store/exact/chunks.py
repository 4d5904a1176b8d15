"""The value of an exact-index record: one value's log positions in one section, as a
roaring bitmap (pyroaring, the portable serialisation every Roaring implementation reads:
https://github.com/RoaringBitmap/RoaringFormatSpec).

Positions are u32 (:mod:`~chainindex.store.exact.positions`); a bitmap is built with run
optimisation, so the bytes of a chunk are a function of its positions alone (a data directory
rebuilt from the same chain holds the same records).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from chainindex.errors import CorruptDataError

__all__ = ["decode_chunk", "encode_chunk"]


def encode_chunk(positions: npt.NDArray[np.uint32]) -> bytes:
    """The stored form of ascending, distinct positions."""
    return BitMap(positions).serialize()


def decode_chunk(value: bytes, where: str) -> BitMap:
    """The bitmap stored as ``value``; a malformed or empty one is CorruptDataError naming
    ``where``."""
    try:
        bitmap = BitMap.deserialize(value)
    except (ValueError, OverflowError, IndexError) as err:
        raise CorruptDataError(f"{where}: malformed bitmap ({err})") from None
    if not bitmap:
        raise CorruptDataError(f"{where}: empty bitmap")
    return bitmap
