"""The numpy array aliases of the bit-vector code, named once for every module that uses them
(``bloombits``, and the chain side's section store, reader and query path).

The text engine (``chainindex.textindex``) stands alone and names its own in
:mod:`chainindex.textindex.arrays`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["I64", "U8", "Indexes", "Mask"]

U8 = npt.NDArray[np.uint8]
"""Bytes: packed bit-vectors, blooms, raw records."""
I64 = npt.NDArray[np.int64]
"""Block numbers, section numbers, positions."""
Indexes = npt.NDArray[np.intp]
"""Positions into another array (``np.nonzero``, fancy indexing)."""
Mask = npt.NDArray[np.bool_]
"""One flag per element of another array."""
