"""One term's postings as a :class:`~chainindex.textindex.docset.DocSet`, block by block.

Blocks of 128 documents are decoded one at a time with numpy. :meth:`PostingsEnum.advance`
first consults the skip data (the last document of every block): when the target lies past
the current block, a binary search over the skip data finds the block that may hold it, and
the blocks in between are never decoded.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from chainindex.textindex.docset import NO_MORE_DOCS

if TYPE_CHECKING:
    from chainindex.textindex.fieldreader import Postings, TermPostings

__all__ = ["PostingsEnum"]


class PostingsEnum:
    """Iterator over one term's postings (the :class:`DocSet` contract)."""

    def __init__(self, postings: TermPostings) -> None:
        self._postings = postings
        self._last: npt.NDArray[np.int64] = postings.last_docs()
        self._block = -1
        self._docs: list[int] = []
        self._freqs: list[int] = []
        self._current: Postings | None = None
        self._i = 0
        self._doc = -1
        self.blocks_decoded = 0
        """Blocks decoded so far (how much skipping saved is visible in tests)."""

    def _load(self, block: int) -> bool:
        if block >= len(self._last):
            self._doc = NO_MORE_DOCS
            return False
        got = self._postings.read_blocks(np.array([block], dtype=np.int64))
        self._block = block
        self._current = got
        self._docs = got.docs.tolist()
        self._freqs = got.freqs.tolist()
        self._i = 0
        self.blocks_decoded += 1
        return True

    def doc(self) -> int:
        return self._doc

    def cost(self) -> int:
        return self._postings.df

    def next(self) -> int:
        if self._doc == NO_MORE_DOCS:
            return NO_MORE_DOCS
        self._i += 1
        if self._i >= len(self._docs) and not self._load(self._block + 1):
            return NO_MORE_DOCS
        self._doc = self._docs[self._i]
        return self._doc

    def advance(self, target: int) -> int:
        if target <= self._doc or self._doc == NO_MORE_DOCS:
            return self._doc
        if not self._docs or target > self._docs[-1]:
            block = int(np.searchsorted(self._last, target, side="left"))
            if not self._load(block):
                return NO_MORE_DOCS
            start = 0
        else:
            start = self._i
        self._i = bisect_left(self._docs, target, start)
        self._doc = self._docs[self._i]
        return self._doc

    def freq(self) -> int:
        """Occurrences of the term in the current document."""
        return self._freqs[self._i]

    def positions(self) -> list[int]:
        """Positions of the term in the current document."""
        assert self._current is not None
        start = self._current.starts[self._i : self._i + 1]
        counts = self._current.freqs[self._i : self._i + 1]
        positions: list[int] = self._postings.field.positions(start, counts).tolist()
        return positions
