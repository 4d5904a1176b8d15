"""BooleanQuery: clauses combined with MUST, SHOULD, MUST_NOT and FILTER (Lucene's
``BooleanQuery``, ``BooleanWeight``).

Matching, as in Lucene: a document matches when it matches every MUST and FILTER clause, no
MUST_NOT clause, and at least ``minimum_should_match`` SHOULD clauses; when there is no MUST
or FILTER clause, at least one SHOULD clause (or ``minimum_should_match`` if larger). A
boolean query of MUST_NOT clauses alone matches nothing. Its score is the sum of the scores
of its matching MUST and SHOULD clauses (FILTER and MUST_NOT do not score).

Evaluation is set-at-a-time: required clauses in order of cost (sparsest first, as Lucene's
``ConjunctionDISI``), each restricted to the documents the previous ones left (a conjunction
that decodes only the postings blocks it needs); prohibited clauses against what remains
(Lucene's ReqExcl); optional clauses counted and summed per document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.docids import contains, positions_in
from chainindex.textindex.query.base import Matches, Query, Scorer, Weight
from chainindex.textindex.query.matchall import ConstantScoreQuery, MatchNoDocsQuery

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["BooleanClause", "BooleanQuery", "Occur"]


class Occur(Enum):
    """How a clause takes part."""

    MUST = "+"
    """Must match; scores."""
    SHOULD = ""
    """May match; scores; see ``minimum_should_match``."""
    MUST_NOT = "-"
    """Must not match."""
    FILTER = "#"
    """Must match; does not score."""


@dataclass(frozen=True)
class BooleanClause:
    """One clause."""

    occur: Occur
    query: Query


@dataclass(frozen=True)
class BooleanQuery(Query):
    """A combination of clauses."""

    clauses: tuple[BooleanClause, ...]
    minimum_should_match: int = 0

    grouped_when_boosted: ClassVar[bool] = True

    @staticmethod
    def of(*pairs: tuple[Occur, Query], minimum_should_match: int = 0) -> BooleanQuery:
        """Build from ``(occur, query)`` pairs."""
        clauses = tuple(BooleanClause(o, q) for o, q in pairs)
        return BooleanQuery(clauses, minimum_should_match)

    def rewrite(self, reader: IndexReader) -> Query:
        clauses = tuple(BooleanClause(c.occur, c.query.rewrite(reader)) for c in self.clauses)
        if not clauses:
            return MatchNoDocsQuery()
        if len(clauses) == 1:
            only, msm = clauses[0], self.minimum_should_match
            if only.occur is Occur.SHOULD and msm <= 1:
                return only.query
            if only.occur is Occur.MUST and msm == 0:
                return only.query
            if only.occur is Occur.FILTER and msm == 0:
                return ConstantScoreQuery(only.query, 0.0)
            return MatchNoDocsQuery()
        if clauses == self.clauses:
            return self
        return BooleanQuery(clauses, self.minimum_should_match)

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return BooleanWeight(self, searcher, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        parts = []
        for clause in self.clauses:
            inner = clause.query.to_string(default_field)
            if isinstance(clause.query, BooleanQuery):
                inner = f"({inner})"
            parts.append(clause.occur.value + inner)
        text = " ".join(parts)
        if self.minimum_should_match:
            text = f"({text})~{self.minimum_should_match}"
        return text

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        out: dict[str, list[Callable[[str], bool]]] = {}
        for clause in self.clauses:
            if clause.occur is Occur.MUST_NOT:
                continue
            for field, matchers in clause.query.term_matchers().items():
                out.setdefault(field, []).extend(matchers)
        return out


class BooleanWeight(Weight):
    """Weights of the clauses."""

    def __init__(
        self, query: BooleanQuery, searcher: IndexSearcher, scoring: bool, boost: float
    ) -> None:
        super().__init__(query, scoring)
        self.msm = query.minimum_should_match
        self.clauses = [
            (
                c.occur,
                searcher.create_weight(
                    c.query, scoring and c.occur in (Occur.MUST, Occur.SHOULD), boost
                ),
            )
            for c in query.clauses
        ]

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        required: list[tuple[Scorer, bool]] = []
        should: list[Scorer] = []
        prohibited: list[Scorer] = []
        for occur, weight in self.clauses:
            scorer = weight.scorer(leaf)
            if occur in (Occur.MUST, Occur.FILTER):
                if scorer is None:
                    return None
                required.append((scorer, occur is Occur.MUST))
            elif occur is Occur.SHOULD:
                if scorer is not None:
                    should.append(scorer)
            elif scorer is not None:
                prohibited.append(scorer)
        needed = self.msm if required else max(1, self.msm)
        if len(should) < needed:
            return None
        required.sort(key=lambda pair: pair[0].cost())
        return BooleanScorer(required, should, prohibited, needed, self.scoring)


class BooleanScorer(Scorer):
    """Set-at-a-time evaluation of a boolean query in one segment."""

    def __init__(
        self,
        required: list[tuple[Scorer, bool]],
        should: list[Scorer],
        prohibited: list[Scorer],
        min_should: int,
        scoring: bool,
    ) -> None:
        self._required = required
        self._should = should
        self._prohibited = prohibited
        self._min_should = min_should
        self._scoring = scoring

    def cost(self) -> int:
        if self._required:
            return self._required[0][0].cost()
        return sum(s.cost() for s in self._should)

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        if self._required:
            docs, scores = self._conjunction(candidates)
        else:
            docs, scores = self._disjunction(candidates)
        for scorer in self._prohibited:
            if len(docs) == 0:
                break
            excluded = scorer.evaluate(docs).docs
            keep = ~contains(excluded, docs)
            docs, scores = docs[keep], scores[keep]
        if self._required and self._should and len(docs):
            counts = np.zeros(len(docs), dtype=np.int64)
            for scorer in self._should:
                got = scorer.evaluate(docs)
                at = positions_in(docs, got.docs)
                counts[at] += 1
                if got.scores is not None:
                    scores[at] += got.scores
            if self._min_should:
                keep = counts >= self._min_should
                docs, scores = docs[keep], scores[keep]
        return Matches(docs, scores if self._scoring else None)

    def _conjunction(self, candidates: I64 | None) -> tuple[I64, np.ndarray]:
        docs = candidates
        scores: np.ndarray = np.zeros(0 if docs is None else len(docs))
        for scorer, _ in self._required:
            got = scorer.evaluate(docs)
            if docs is None:
                scores = np.zeros(len(got.docs))
            else:
                scores = scores[positions_in(docs, got.docs)]
            if got.scores is not None:
                scores = scores + got.scores
            docs = got.docs
            if len(docs) == 0:
                break
        assert docs is not None
        return docs, scores

    def _disjunction(self, candidates: I64 | None) -> tuple[I64, np.ndarray]:
        parts = [s.evaluate(candidates) for s in self._should]
        all_docs = np.concatenate([p.docs for p in parts])
        docs, inverse = np.unique(all_docs, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(docs))
        weights = np.concatenate(
            [p.scores if p.scores is not None else np.zeros(len(p.docs)) for p in parts]
        )
        scores = np.bincount(inverse, weights=weights, minlength=len(docs))
        keep = counts >= self._min_should
        return docs[keep].astype(np.int64), scores[keep]
