"""Candidate blocks of the unindexed part of a range: a bloom test of each header.

Blocks not yet covered by a stored section (the tail above the last section, and short
indexed stretches the planner chose not to start a matcher for) are tested on their
headers' ``logsBloom``, read as one ``(n, 256)`` array from a range scan and tested with
:func:`~bloombits.bloom.blooms_contain`, vectorised over the blocks: per group (the address
list, each topic position) the OR of its values' tests, and the AND of the groups. This is
exactly the test the matcher's vectors encode, so both parts yield the same candidates.

A query without conditions takes every block that has logs: a block's bloom is all zero
exactly when it has none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bloombits.bloom import blooms_contain
from chainindex.errors import CorruptDataError
from chainindex.filters.records import RecordCache
from chainindex.filters.verify import Anchor, RecordMatcher, Verified, check_anchor, verify_blocks
from chainindex.store.reader import ChainView

__all__ = ["bloom_mask", "scan_and_verify"]


def bloom_mask(
    blooms: npt.NDArray[np.uint8], groups: Sequence[Sequence[bytes]]
) -> npt.NDArray[np.bool_]:
    """Which rows of ``blooms`` may hold a log matching ``groups`` (the non-wildcard groups;
    none: which rows have any bit set)."""
    if not groups:
        return np.asarray(blooms.any(axis=1))
    mask = np.ones(blooms.shape[0], dtype=np.bool_)
    for group in groups:
        hit = np.zeros(blooms.shape[0], dtype=np.bool_)
        for value in group:
            hit |= blooms_contain(blooms, value)
        mask &= hit
    return mask


def scan_and_verify(
    view: ChainView,
    first: int,
    last: int,
    groups: Sequence[Sequence[bytes]],
    matcher: RecordMatcher,
    anchor: Anchor | None,
    records: RecordCache | None = None,
) -> Verified:
    """Bloom-test blocks ``first..last`` and verify the candidates, in one snapshot."""
    check_anchor(view, anchor)
    run = view.blooms(first, last)
    if len(run) != last - first + 1 or run.first != first:
        # The anchor check just passed: every block up to it must be stored.
        raise CorruptDataError(f"blocks {first}..{last} are not all stored")
    numbers = run.first + np.flatnonzero(bloom_mask(run.blooms, groups))
    return verify_blocks(view, numbers, matcher, None, records)
