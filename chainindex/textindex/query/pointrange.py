"""PointRangeQuery: documents with an integer point in ``[lower, upper]`` (constant score).

Exclusive bounds are the inclusive bounds of the neighbouring integers (``{1 TO 5}`` is
``[2 TO 4]``); ``None`` leaves a side open. A document with several values in the field
matches when any of them is in range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.query.base import (
    LazyConstantScorer,
    Matches,
    Query,
    Scorer,
    Weight,
)
from chainindex.textindex.query.syntax import field_prefix

if TYPE_CHECKING:
    from chainindex.textindex.reader import LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["PointRangeQuery"]


@dataclass(frozen=True)
class PointRangeQuery(Query):
    """``field:[lower TO upper]`` over integer points (inclusive; ``None`` = open)."""

    field: str
    lower: int | None
    upper: int | None

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _PointRangeWeight(self, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        low = "*" if self.lower is None else str(self.lower)
        high = "*" if self.upper is None else str(self.upper)
        return f"{field_prefix(self.field, default_field)}[{low} TO {high}]"


class _PointRangeWeight(Weight):
    """The weight of a point range: the slice of the sorted points inside the bounds."""

    def __init__(self, query: PointRangeQuery, scoring: bool, score: float) -> None:
        super().__init__(query, scoring)
        self._q = query
        self._score = score

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        points = leaf.segment.points(self._q.field)
        if points is None:
            return None
        start, stop = points.range_slice(self._q.lower, self._q.upper)
        if start == stop:
            return None
        max_doc = leaf.max_doc

        def compute() -> I64:
            docs = points.docs[start:stop]
            if stop - start > max_doc // 16:
                mask = np.zeros(max_doc, dtype=bool)
                mask[docs] = True
                return np.flatnonzero(mask).astype(np.int64)
            return np.unique(docs).astype(np.int64)

        column = leaf.segment.point_column(self._q.field)
        if column is None:
            return LazyConstantScorer(compute, stop - start, self._score, self.scoring)
        return _ColumnRangeScorer(
            compute, column, self._q.lower, self._q.upper, stop - start, self._score, self.scoring
        )


class _ColumnRangeScorer(LazyConstantScorer):
    """A point range over a single-valued field that also has a doc-values column: given
    candidates it reads their values (O(candidates)) instead of building the range's set."""

    def __init__(
        self,
        compute: Callable[[], I64],
        column: I64,
        lower: int | None,
        upper: int | None,
        cost: int,
        score: float,
        scoring: bool,
    ) -> None:
        super().__init__(compute, cost, score, scoring)
        self._column = column
        self._lower = lower
        self._upper = upper

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        if candidates is None or len(candidates) * 8 >= self.cost():
            return super().evaluate(candidates)
        values = self._column[candidates]
        keep = np.ones(len(candidates), dtype=bool)
        if self._lower is not None:
            keep &= values >= self._lower
        if self._upper is not None:
            keep &= values <= self._upper
        docs = candidates[keep]
        return Matches(docs, np.full(len(docs), self._score) if self._scoring else None)
