"""The query pipeline: ``Query.rewrite`` → ``Weight`` → ``Scorer`` (Lucene's
``Query``/``Weight``/``Scorer``, ``IndexSearcher.createWeight``).

- A :class:`Query` is an immutable, hashable description (frozen dataclasses), so it can key
  the filter cache and be reused. ``rewrite`` turns API-level queries into primitive ones
  (fuzzy → a set of scored terms; a one-term phrase → a term query).
- ``create_weight`` computes, once per search, everything that does not depend on the segment:
  BM25 statistics over the whole index (``idf``, ``avgdl``, the boost).
- ``Weight.scorer(leaf)`` gives the :class:`Scorer` of one segment, or ``None`` when the
  segment cannot match (a term it does not have).

Scorers work **set-at-a-time** (Lucene's ``BulkScorer``): :meth:`Scorer.evaluate` returns all
matching documents of the segment at once (sorted ids and, when scoring, their scores),
optionally restricted to candidate documents. A conjunction evaluates its cheapest clause (by
:meth:`Scorer.cost`, sparsest first, as Lucene's ``ConjunctionDISI`` sorts its iterators by
``cost()``) and hands the result to the next clause as candidates, which decodes only the
postings blocks that can hold them (the skip data), the bulk equivalent of
``DocIdSetIterator.advance``. Deleted documents are removed by the searcher after scoring;
statistics come from live documents only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from chainindex.textindex.arrays import F64, I64, Mask

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["ConstantScorer", "LazyConstantScorer", "Matches", "Query", "Scorer", "Weight"]


@dataclass(frozen=True, slots=True)
class Matches:
    """Documents a scorer matched in one segment."""

    docs: I64
    """Sorted, distinct document ids (segment-local)."""
    scores: F64 | None
    """Score of each document, or ``None`` when the search does not score."""

    @staticmethod
    def none(scoring: bool) -> Matches:
        """No document."""
        return Matches(np.zeros(0, dtype=np.int64), np.zeros(0) if scoring else None)

    def restrict(self, keep: Mask) -> Matches:
        """The matches where ``keep`` is set."""
        return Matches(self.docs[keep], None if self.scores is None else self.scores[keep])


class Scorer(ABC):
    """Matching and scoring of one query in one segment."""

    @abstractmethod
    def cost(self) -> int:
        """Upper bound on the documents it matches (to order conjunctions)."""

    @abstractmethod
    def evaluate(self, candidates: I64 | None = None) -> Matches:
        """The matching documents (only among ``candidates`` when given, sorted distinct)."""


class Weight(ABC):
    """A query prepared for one searcher."""

    def __init__(self, query: Query, scoring: bool) -> None:
        self.query = query
        """The (rewritten) query."""
        self.scoring = scoring
        """Whether scores are wanted."""

    @abstractmethod
    def scorer(self, leaf: LeafReader) -> Scorer | None:
        """The scorer of one segment, or ``None`` if nothing there can match."""


class Query(ABC):
    """A search, as an immutable value."""

    grouped_when_boosted: ClassVar[bool] = False
    """Whether :meth:`to_string` needs parentheses before a ``^boost`` (a boolean query, a
    boost of a boost): lets a boost print its operand without knowing the other query types."""

    def rewrite(self, reader: IndexReader) -> Query:
        """A primitive equivalent (itself when already primitive)."""
        return self

    @abstractmethod
    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        """Prepare the query for a search."""

    @abstractmethod
    def to_string(self, default_field: str = "") -> str:
        """The query in the query parser's syntax (fields equal to ``default_field`` omitted)."""

    def terms(self) -> dict[str, set[str]]:
        """Exact terms by field that make documents match (for highlighting)."""
        return {}

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        """Per field, predicates telling whether a term makes documents match (for
        highlighting: they cover expanding queries such as prefixes, wildcards, fuzzy)."""
        return {field: [terms.__contains__] for field, terms in self.terms().items()}

    def __str__(self) -> str:
        return self.to_string()


class ConstantScorer(Scorer):
    """Wraps a fixed document set (sorted ids) with one score for every document."""

    def __init__(self, docs: I64, score: float, scoring: bool) -> None:
        self._docs = docs
        self._score = score
        self._scoring = scoring

    def cost(self) -> int:
        return len(self._docs)

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        docs = self._docs
        if candidates is not None:
            docs = np.intersect1d(docs, candidates, assume_unique=True)
        scores = np.full(len(docs), self._score) if self._scoring else None
        return Matches(docs, scores)


class LazyConstantScorer(Scorer):
    """Like :class:`ConstantScorer`, with the document set computed on first use."""

    def __init__(self, compute: Callable[[], I64], cost: int, score: float, scoring: bool) -> None:
        self._compute = compute
        self._cost = cost
        self._score = score
        self._scoring = scoring
        self._docs: I64 | None = None

    def cost(self) -> int:
        return self._cost

    def docs(self) -> I64:
        """The whole document set."""
        if self._docs is None:
            self._docs = self._compute()
        return self._docs

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        return ConstantScorer(self.docs(), self._score, self._scoring).evaluate(candidates)
