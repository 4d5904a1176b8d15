"""FuzzyQuery: terms within an edit distance of a term (``field:vitalk~2``), scored.

Distance is Damerau–Levenshtein in its restricted form (optimal string alignment: insert,
delete, substitute, or swap two adjacent characters, each costing one; Lucene's default with
``transpositions``), over Unicode code points, at most 2. A term must start with the first
``prefix_length`` characters of the query term (all of it when shorter), as in Lucene.

Expansion walks the sorted terms of each segment keeping one row of the edit-distance table
per character of the current term; rows are shared with the previous term's common prefix,
and as soon as every entry of a row exceeds ``max_edits`` no term with that prefix can match,
so the walk seeks past all of them (the pruning that Lucene gets from intersecting a
Levenshtein automaton with the terms index).

Automata are kept for reuse (:func:`automaton`, an LRU by query term and distance): a fuzzy
query seen recently skips building the states its earlier searches built.

Rewrite keeps the ``max_expansions`` best terms over the whole index (terms found only in
deleted documents do not count) (smaller distance first,
then term order) and scores like Lucene's blended rewrite: each term's BM25 with its boost
``1 - distance / min(len(term), len(query))`` and, for every term, the largest document
frequency among them (so a rare misspelling does not outrank the term itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.errors import QueryError
from chainindex.textindex.query.base import Matches, Query, Scorer, Weight
from chainindex.textindex.query.levenshtein import (
    automaton,
    clear_automata,
    edit_distance,
    fuzzy_expand,
    fuzzy_expand_list,
)
from chainindex.textindex.query.matchall import MatchNoDocsQuery
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.query.term import TermScorer, term_bytes
from chainindex.textindex.scoring import BM25, idf

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = [
    "MAX_EDITS",
    "FuzzyQuery",
    "ScoredTermsQuery",
    "clear_automata",
    "edit_distance",
    "fuzzy_expand",
]

MAX_EDITS = 2
"""The largest distance a fuzzy query accepts (Lucene's limit)."""


def _boost(term: str, query: str, distance: int) -> float:
    shortest = min(len(term), len(query))
    return max(0.0, 1.0 - distance / shortest) if shortest else 0.0


@dataclass(frozen=True)
class FuzzyQuery(Query):
    """Documents with a term close to ``term`` (see the module docstring)."""

    field: str
    term: str
    max_edits: int = MAX_EDITS
    prefix_length: int = 0
    max_expansions: int = 50

    def __post_init__(self) -> None:
        if not 0 <= self.max_edits <= MAX_EDITS:
            raise QueryError(f"fuzzy edit distance must be 0, 1 or 2, not {self.max_edits}")
        if self.prefix_length < 0 or self.max_expansions < 1:
            raise QueryError("fuzzy prefix length must be >= 0 and expansions >= 1")

    def expand(self, reader: IndexReader) -> list[tuple[str, int]]:
        """The terms this query rewrites to, with their distances, best first."""
        found: dict[str, int] = {}
        shared = automaton(self.term[self.prefix_length :], self.max_edits)
        for leaf in reader.leaves:
            field = leaf.segment.field(self.field)
            if field is None:
                continue
            listed = field.term_list()
            if listed is not None:
                near = fuzzy_expand_list(
                    listed, self.term, self.max_edits, self.prefix_length, shared
                )
            else:
                near = fuzzy_expand(
                    field.terms, self.term, self.max_edits, self.prefix_length, shared
                )
            for term, distance in near.items():
                if term in found:
                    continue
                if leaf.live is not None:
                    docs = field.postings(field.lookup(term_bytes(term))).read().docs
                    if not leaf.live[docs].any():
                        continue  # only in deleted documents: not a term of the index
                found[term] = distance
        ranked = sorted(found.items(), key=lambda pair: (pair[1], pair[0]))
        return ranked[: self.max_expansions]

    def rewrite(self, reader: IndexReader) -> Query:
        ranked = self.expand(reader)
        if not ranked:
            return MatchNoDocsQuery()
        return ScoredTermsQuery(self.field, tuple((t, _boost(t, self.term, d)) for t, d in ranked))

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        raise QueryError("a fuzzy query must be rewritten before it is searched")

    def to_string(self, default_field: str = "") -> str:
        return f"{field_prefix(self.field, default_field)}{escape(self.term)}~{self.max_edits}"

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        def near(term: str) -> bool:
            return (
                term.startswith(self.term[: self.prefix_length])
                and edit_distance(term, self.term) <= self.max_edits
            )

        return {self.field: [near]}


@dataclass(frozen=True)
class ScoredTermsQuery(Query):
    """Documents with any of the terms, each scored with its boost and a blended frequency
    (what a fuzzy query rewrites to)."""

    field: str
    weighted: tuple[tuple[str, float], ...]

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _ScoredTermsWeight(self, searcher, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        prefix = field_prefix(self.field, default_field)
        return " ".join(f"{prefix}{escape(t)}^{b:g}" for t, b in self.weighted)

    def terms(self) -> dict[str, set[str]]:
        return {self.field: {t for t, _ in self.weighted}}


class _ScoredTermsWeight(Weight):
    """The weight of expanded fuzzy terms, each scored by BM25 with the blended idf."""

    def __init__(
        self, query: ScoredTermsQuery, searcher: IndexSearcher, scoring: bool, boost: float
    ) -> None:
        super().__init__(query, scoring)
        self._field = query.field
        self._terms = [(term_bytes(t), b) for t, b in query.weighted]
        self._sims: list[BM25 | None] = [None] * len(self._terms)
        if scoring:
            doc_count, total = searcher.field_stats(self._field)
            blended = max(searcher.doc_freq(self._field, t) for t, _ in self._terms)
            self._sims = [
                BM25(idf(blended, doc_count), doc_count, total, boost * b) for _, b in self._terms
            ]

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self._field)
        if field is None:
            return None
        scorers = []
        for (term, _), sim in zip(self._terms, self._sims, strict=True):
            ordinal = field.lookup(term)
            if ordinal >= 0:
                scorers.append(TermScorer(field, field.postings(ordinal), sim))
        return _SumScorer(scorers, self.scoring) if scorers else None


class _SumScorer(Scorer):
    """Union of term scorers, scores summed."""

    def __init__(self, scorers: list[TermScorer], scoring: bool) -> None:
        self._scorers = scorers
        self._scoring = scoring

    def cost(self) -> int:
        return sum(s.cost() for s in self._scorers)

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        parts = [s.evaluate(candidates) for s in self._scorers]
        docs, inverse = np.unique(np.concatenate([p.docs for p in parts]), return_inverse=True)
        if not self._scoring:
            return Matches(docs.astype(np.int64), None)
        weights = np.concatenate([p.scores for p in parts if p.scores is not None])
        scores = np.bincount(inverse, weights, minlength=len(docs)).astype(np.float64)
        return Matches(docs.astype(np.int64), scores)
