"""Small queries: all documents, none, a field's presence, constant scores and boosts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.query.base import (
    ConstantScorer,
    LazyConstantScorer,
    Matches,
    Query,
    Scorer,
    Weight,
)
from chainindex.textindex.query.syntax import field_prefix

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = [
    "BoostQuery",
    "ConstantScoreQuery",
    "ExistsQuery",
    "MatchAllDocsQuery",
    "MatchNoDocsQuery",
]


class _FixedWeight(Weight):
    """The weight of every document (or none) at one score."""

    def __init__(self, query: Query, scoring: bool, score: float, all_docs: bool) -> None:
        super().__init__(query, scoring)
        self._score = score
        self._all = all_docs

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        if not self._all or leaf.max_doc == 0:
            return None
        return ConstantScorer(np.arange(leaf.max_doc, dtype=np.int64), self._score, self.scoring)


@dataclass(frozen=True)
class MatchAllDocsQuery(Query):
    """Every document, score 1 (``*:*``)."""

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _FixedWeight(self, scoring, boost, True)

    def to_string(self, default_field: str = "") -> str:
        return "*:*"


@dataclass(frozen=True)
class MatchNoDocsQuery(Query):
    """No document."""

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _FixedWeight(self, scoring, 0.0, False)

    def to_string(self, default_field: str = "") -> str:
        return "-*:*"


@dataclass(frozen=True)
class ExistsQuery(Query):
    """Documents that have the field at all (terms or points): ``field:*``. Score 1."""

    field: str

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _ExistsWeight(self, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        return field_prefix(self.field, "") + "*"


class _ExistsWeight(Weight):
    """The weight of an exists query: documents with a norm or a point in the field."""

    def __init__(self, query: ExistsQuery, scoring: bool, score: float) -> None:
        super().__init__(query, scoring)
        self._field = query.field
        self._score = score

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self._field)
        points = leaf.segment.points(self._field)
        if field is None and points is None:
            return None

        def compute() -> I64:
            mask = np.zeros(leaf.max_doc, dtype=bool)
            if field is not None:
                mask |= field.norms.present()
            if points is not None:
                mask[points.docs] = True
            return np.flatnonzero(mask).astype(np.int64)

        return LazyConstantScorer(compute, leaf.max_doc, self._score, self.scoring)


@dataclass(frozen=True)
class ConstantScoreQuery(Query):
    """The documents of ``query``, every one scored ``score`` (a filter with a score)."""

    query: Query
    score: float = 1.0

    def rewrite(self, reader: IndexReader) -> Query:
        inner = self.query.rewrite(reader)
        return self if inner == self.query else ConstantScoreQuery(inner, self.score)

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _ConstantWeight(self, searcher.create_weight(self.query, False, 1.0), scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        return f"ConstantScore({self.query.to_string(default_field)})^{self.score}"

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        return self.query.term_matchers()


class _ConstantWeight(Weight):
    """The weight of a constant-score query: the inner weight, not scoring."""

    def __init__(self, query: ConstantScoreQuery, inner: Weight, scoring: bool, boost: float):
        super().__init__(query, scoring)
        self._inner = inner
        self._score = query.score * boost

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        inner = self._inner.scorer(leaf)
        return None if inner is None else _ConstantScoreScorer(inner, self._score, self.scoring)


class _ConstantScoreScorer(Scorer):
    """The inner scorer's documents, each given the constant score."""

    def __init__(self, inner: Scorer, score: float, scoring: bool) -> None:
        self._inner = inner
        self._score = score
        self._scoring = scoring

    def cost(self) -> int:
        return self._inner.cost()

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        docs = self._inner.evaluate(candidates).docs
        return Matches(docs, np.full(len(docs), self._score) if self._scoring else None)


@dataclass(frozen=True)
class BoostQuery(Query):
    """``query`` with its scores multiplied by ``boost`` (``query^boost``)."""

    query: Query
    boost: float

    grouped_when_boosted: ClassVar[bool] = True

    def rewrite(self, reader: IndexReader) -> Query:
        inner = self.query.rewrite(reader)
        return self if inner == self.query else BoostQuery(inner, self.boost)

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return searcher.create_weight(self.query, scoring, boost * self.boost)

    def to_string(self, default_field: str = "") -> str:
        inner = self.query.to_string(default_field)
        if self.query.grouped_when_boosted:
            inner = f"({inner})"
        return f"{inner}^{self.boost:g}"

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        return self.query.term_matchers()
