"""PhraseQuery: terms at consecutive positions, or close to it with a slop (``"a b"~2``).

A document matches with slop ``s`` when positions ``p_0 .. p_{n-1}`` of the phrase's terms can
be chosen (distinct positions, ``p_i`` a position of term ``i``) so that the offsets
``p_i - i`` span at most ``s``: ``max(p_i - i) - min(p_i - i) <= s``. Slop 0 is the exact
phrase; with slop 2 two terms may also appear swapped (Lucene's sloppy phrase distance).

Scoring is BM25 with the phrase's frequency as ``tf`` and the sum of its terms' idf (Lucene's
PhraseWeight): for an exact phrase the frequency is the number of places it occurs; for a
sloppy match it is ``1 / (1 + d)`` with ``d`` the smallest span found (a simplification of
Lucene's sum over matches).

Exact phrases are matched for all candidate documents at once: each term's ``(doc, position
- i)`` pairs are intersected. Sloppy phrases are checked per candidate document (after the
term conjunction has narrowed the candidates down).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainindex.textindex.arrays import F64, I64
from chainindex.textindex.docids import contains
from chainindex.textindex.errors import QueryError
from chainindex.textindex.fieldreader import FieldReader, Postings, TermPostings
from chainindex.textindex.query.base import Matches, Query, Scorer, Weight
from chainindex.textindex.query.matchall import MatchNoDocsQuery
from chainindex.textindex.query.syntax import field_prefix, quote
from chainindex.textindex.query.term import TermQuery, term_bytes
from chainindex.textindex.scoring import BM25, idf

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["PhraseQuery", "sloppy_distance"]

_BRUTE_FORCE_LIMIT = 20_000
"""Largest number of position combinations tried when a phrase repeats a term."""


def sloppy_distance(positions: Sequence[Sequence[int]], slop: int) -> int | None:
    """Smallest span ``max(p_i - i) - min(p_i - i)`` over choices of distinct positions
    ``p_i in positions[i]``, or ``None`` when no choice is within ``slop``."""
    n = len(positions)
    best: int | None = None
    repeated = len({tuple(p) for p in positions}) < n
    if repeated:
        sizes = 1
        for p in positions:
            sizes *= len(p)
        if sizes <= _BRUTE_FORCE_LIMIT:
            for choice in itertools.product(*positions):
                if len(set(choice)) < n:
                    continue
                offsets = [p - i for i, p in enumerate(choice)]
                span = max(offsets) - min(offsets)
                if span <= slop and (best is None or span < best):
                    best = span
            return best
    # Smallest window over the merged offsets that covers every term (distinct terms, so
    # distinct positions are automatic).
    events = sorted((p - i, i) for i, plist in enumerate(positions) for p in plist)
    have = [0] * n
    covered = 0
    left = 0
    for right in range(len(events)):
        term = events[right][1]
        if have[term] == 0:
            covered += 1
        have[term] += 1
        while covered == n:
            span = events[right][0] - events[left][0]
            if span <= slop and (best is None or span < best):
                best = span
            drop = events[left][1]
            have[drop] -= 1
            if have[drop] == 0:
                covered -= 1
            left += 1
    return best


@dataclass(frozen=True)
class PhraseQuery(Query):
    """``field:"t0 t1 ..."~slop`` (terms already analyzed)."""

    field: str
    words: tuple[str, ...]
    slop: int = 0

    def __post_init__(self) -> None:
        if self.slop < 0:
            raise QueryError("phrase slop must be >= 0")

    def rewrite(self, reader: IndexReader) -> Query:
        if not self.words:
            return MatchNoDocsQuery()
        if len(self.words) == 1:
            return TermQuery(self.field, self.words[0])
        return self

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _PhraseWeight(self, searcher, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        text = field_prefix(self.field, default_field) + quote(" ".join(self.words))
        return text + (f"~{self.slop}" if self.slop else "")

    def terms(self) -> dict[str, set[str]]:
        return {self.field: set(self.words)}


class _PhraseWeight(Weight):
    """The weight of a phrase: BM25 with the sum of its terms' idf (Lucene's ``PhraseWeight``)."""

    def __init__(
        self, query: PhraseQuery, searcher: IndexSearcher, scoring: bool, boost: float
    ) -> None:
        super().__init__(query, scoring)
        self._q = query
        self._terms = [term_bytes(t) for t in query.words]
        self._sim: BM25 | None = None
        if scoring:
            doc_count, total = searcher.field_stats(query.field)
            weight = sum(idf(searcher.doc_freq(query.field, t), doc_count) for t in self._terms)
            self._sim = BM25(weight, doc_count, total, boost)

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self._q.field)
        if field is None:
            return None
        postings = []
        for term in self._terms:
            ordinal = field.lookup(term)
            if ordinal < 0:
                return None
            postings.append(field.postings(ordinal))
        return _PhraseScorer(field, postings, self._q.slop, self._sim)


class _PhraseScorer(Scorer):
    """The documents holding every term, then the positions checked (exact or sloppy)."""

    def __init__(
        self, field: FieldReader, postings: list[TermPostings], slop: int, sim: BM25 | None
    ) -> None:
        self._field = field
        self._postings = postings
        self._slop = slop
        self._sim = sim

    def cost(self) -> int:
        return min(p.df for p in self._postings)

    def _conjunction(self, candidates: I64 | None) -> tuple[I64, list[Postings]]:
        order = sorted(range(len(self._postings)), key=lambda i: self._postings[i].df)
        docs = candidates
        got: dict[int, Postings] = {}
        for i in order:
            p = self._postings[i]
            got[i] = p.read() if docs is None else p.restrict(docs)
            docs = got[i].docs
            if len(docs) == 0:
                break
        assert docs is not None
        final = []
        for i in range(len(self._postings)):
            part = got.get(i)
            if part is None:
                part = self._postings[i].restrict(docs)
            keep = contains(docs, part.docs)
            final.append(Postings(part.docs[keep], part.freqs[keep], part.starts[keep]))
        return docs, final

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        docs, parts = self._conjunction(candidates)
        if len(docs) == 0:
            return Matches.none(self._sim is not None)
        if self._slop == 0:
            matched, freqs = self._exact(docs, parts)
        else:
            matched, freqs = self._sloppy(docs, parts)
        if self._sim is None:
            return Matches(matched, None)
        return Matches(matched, self._sim.score(freqs, self._field.norms.lengths(matched)))

    def _exact(self, docs: I64, parts: list[Postings]) -> tuple[I64, F64]:
        # (doc, position - i) keys come out sorted and distinct (documents ascending, each
        # document's positions ascending), so each step is a sorted-membership test.
        keys: I64 | None = None
        for i, part in enumerate(parts):
            positions = self._field.positions(part.starts, part.freqs)
            owner = np.repeat(part.docs, part.freqs)
            start = positions - i
            ok = start >= 0
            k = (owner[ok] << 32) | start[ok]
            keys = k if keys is None else keys[contains(k, keys)]
            if len(keys) == 0:
                break
        assert keys is not None
        owners = keys >> 32
        matched, counts = np.unique(owners, return_counts=True)
        return matched.astype(np.int64), counts.astype(np.float64)

    def _sloppy(self, docs: I64, parts: list[Postings]) -> tuple[I64, F64]:
        per_term = []
        for part in parts:
            positions = self._field.positions(part.starts, part.freqs).tolist()
            bounds = np.concatenate([[0], np.cumsum(part.freqs)]).tolist()
            per_term.append((positions, bounds))
        matched = []
        freqs = []
        for d in range(len(docs)):
            lists = [positions[bounds[d] : bounds[d + 1]] for positions, bounds in per_term]
            span = sloppy_distance(lists, self._slop)
            if span is not None:
                matched.append(int(docs[d]))
                freqs.append(1.0 / (1 + span))
        return np.array(matched, dtype=np.int64), np.array(freqs, dtype=np.float64)
