"""Operations on sorted arrays of distinct document ids (the set algebra of the scorers)."""

from __future__ import annotations

import numpy as np

from chainindex.textindex.arrays import I64, Mask

__all__ = ["EMPTY_DOCS", "contains", "docs_from_mask", "positions_in"]


EMPTY_DOCS: I64 = np.zeros(0, dtype=np.int64)
"""No documents."""


def contains(sorted_set: I64, values: I64) -> Mask:
    """For each of ``values``, whether it is in ``sorted_set``."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values)
    at[at == len(sorted_set)] = 0
    result: Mask = sorted_set[at] == values
    return result


def positions_in(sorted_set: I64, subset: I64) -> I64:
    """Index in ``sorted_set`` of each element of ``subset`` (which must be contained)."""
    return np.searchsorted(sorted_set, subset).astype(np.int64)


def docs_from_mask(mask: Mask) -> I64:
    """The documents whose entry in a per-document mask is set."""
    return np.flatnonzero(mask).astype(np.int64)
