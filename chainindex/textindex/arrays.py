"""The numpy array aliases of the text engine, named once for every module of it.

The engine stands alone, so it does not share :mod:`bloombits.arrays` with the chain side;
the aliases with the same name (``I64``, ``U8``, ``Mask``) mean the same types.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "I32", "I64", "U8", "Mask", "Records", "Values"]

I64 = npt.NDArray[np.int64]
"""Document ids, term ordinals, frequencies, positions, offsets."""
I32 = npt.NDArray[np.int32]
"""Document ids as the points format stores them."""
F64 = npt.NDArray[np.float64]
"""Scores."""
U8 = npt.NDArray[np.uint8]
"""Bytes: encoded postings, packed integers, file parts."""
Mask = npt.NDArray[np.bool_]
"""One flag per element of another array (live docs: one per document of a segment)."""
Records = npt.NDArray[np.void]
"""A structured array (the postings' block table, one record per block)."""
Values = npt.NDArray[np.generic]
"""An array of any scalar type (point keys, sort columns)."""
