"""IndexSearcher: rewrite, weight, score every segment (optionally in parallel), merge.

Lucene's ``IndexSearcher.search`` flow: the query is rewritten to primitive form, a weight is
made once (BM25 statistics over the whole snapshot), then each segment is searched on its own,
as a task on an executor when one is given, and the per-segment top hits are reduced to the
overall top ``k``. Filter clauses go through the filter cache when the searcher has one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.cache import FilterCache
from chainindex.textindex.collector import (
    RELEVANCE,
    LeafTop,
    Sort,
    TopDocs,
    collect_leaf,
    merge,
)
from chainindex.textindex.query.base import (
    ConstantScorer,
    Matches,
    Query,
    Scorer,
    Weight,
)
from chainindex.textindex.query.matchall import MatchAllDocsQuery, MatchNoDocsQuery
from chainindex.textindex.query.term import TermQuery

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader

__all__ = ["IndexSearcher"]

T = TypeVar("T")

_MAX_REWRITES = 32


class IndexSearcher:
    """Searches one :class:`~chainindex.textindex.reader.IndexReader` snapshot."""

    def __init__(
        self,
        reader: IndexReader,
        *,
        executor: Executor | None = None,
        cache: FilterCache | None = None,
    ) -> None:
        self.reader = reader
        """The snapshot searched."""
        self.executor = executor
        """Runs the segments' searches in parallel when given."""
        self.cache = cache
        """The filter cache, if any."""
        self._doc_freq: dict[tuple[str, bytes], int] = {}

    # -- statistics -------------------------------------------------------------------

    def field_stats(self, field: str) -> tuple[int, int]:
        """``(live docs with the field, their total field length)``."""
        return self.reader.field_stats(field)

    def doc_freq(self, field: str, term: bytes) -> int:
        """Live documents holding ``term`` (cached per snapshot)."""
        key = (field, term)
        cached = self._doc_freq.get(key)
        if cached is not None:
            return cached
        total = 0
        for leaf in self.reader.leaves:
            reader = leaf.segment.field(field)
            if reader is None:
                continue
            ordinal = reader.lookup(term)
            if ordinal < 0:
                continue
            postings = reader.postings(ordinal)
            if leaf.live is None:
                total += postings.df
            else:
                total += int(np.count_nonzero(leaf.live[postings.read().docs]))
        self._doc_freq[key] = total
        return total

    # -- rewrite and weight -----------------------------------------------------------

    def rewrite(self, query: Query) -> Query:
        """Rewrite until the query is primitive."""
        for _ in range(_MAX_REWRITES):
            rewritten = query.rewrite(self.reader)
            if rewritten == query:
                return query
            query = rewritten
        return query

    def create_weight(self, query: Query, scoring: bool, boost: float = 1.0) -> Weight:
        """The weight of a rewritten query; filters go through the cache."""
        weight = query.create_weight(self, scoring, boost)
        if not scoring and self.cache is not None and _cacheable(query):
            self.cache.record(query)
            return _CachingWeight(weight, query, self.cache, self.reader.max_doc)
        return weight

    # -- searching --------------------------------------------------------------------

    def _leaf_matches(self, weight: Weight, leaf: LeafReader) -> Matches | None:
        scorer = weight.scorer(leaf)
        if scorer is None:
            return None
        matches = scorer.evaluate(None)
        if leaf.live is not None and len(matches.docs):
            matches = matches.restrict(leaf.live[matches.docs])
        return matches

    def _map(self, fn: Callable[[LeafReader], T], leaves: Sequence[LeafReader]) -> list[T]:
        if self.executor is not None and len(leaves) > 1:
            return list(self.executor.map(fn, leaves))
        return [fn(leaf) for leaf in leaves]

    def search(
        self,
        query: Query,
        k: int = 10,
        sort: Sort = RELEVANCE,
        after: Sequence[float | int] | None = None,
    ) -> TopDocs:
        """The ``k`` best live hits (after the cursor) and the total number of matches."""
        weight = self.create_weight(self.rewrite(query), sort.by_score)

        def run(leaf: LeafReader) -> tuple[int, LeafTop | None]:
            matches = self._leaf_matches(weight, leaf)
            if matches is None:
                return 0, None
            return len(matches.docs), collect_leaf(leaf, matches, sort, k, after)

        results = self._map(run, self.reader.leaves)
        total = 0
        tops: list[LeafTop] = []
        for count, top in results:
            total += count
            if top is not None:
                tops.append(top)
        return TopDocs(total, merge(tops, sort, k))

    def count(self, query: Query) -> int:
        """Number of live documents matching ``query``."""
        weight = self.create_weight(self.rewrite(query), False)
        total = 0
        for leaf in self.reader.leaves:
            matches = self._leaf_matches(weight, leaf)
            total += 0 if matches is None else len(matches.docs)
        return total

    def matching_docs(self, query: Query) -> list[I64]:
        """Per segment, the live documents matching ``query`` (segment-local, sorted)."""
        weight = self.create_weight(self.rewrite(query), False)
        out = []
        for leaf in self.reader.leaves:
            matches = self._leaf_matches(weight, leaf)
            out.append(np.zeros(0, dtype=np.int64) if matches is None else matches.docs)
        return out

    def stored(self, leaf: int, doc: int) -> bytes:
        """The stored bytes of a hit."""
        return self.reader.leaves[leaf].segment.stored(doc)


def _cacheable(query: Query) -> bool:
    return not isinstance(query, MatchAllDocsQuery | MatchNoDocsQuery)


def _min_frequency(query: Query) -> int:
    return 5 if isinstance(query, TermQuery) else 2


class _CachingWeight(Weight):
    """A filter's weight that reads and fills the filter cache."""

    def __init__(self, inner: Weight, query: Hashable, cache: FilterCache, index_docs: int):
        super().__init__(inner.query, False)
        self._inner = inner
        self._key = query
        self._cache = cache
        self._index_docs = index_docs

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        if not FilterCache.eligible(leaf.max_doc, self._index_docs):
            return self._inner.scorer(leaf)
        key = leaf.segment.core_key
        docs = self._cache.get(key, self._key)
        if docs is not None:
            return ConstantScorer(docs, 0.0, False) if len(docs) else None
        if self._cache.frequency(self._key) < _min_frequency(self.query):
            return self._inner.scorer(leaf)
        scorer = self._inner.scorer(leaf)
        docs = np.zeros(0, dtype=np.int64) if scorer is None else scorer.evaluate(None).docs
        self._cache.put(key, self._key, docs, leaf.max_doc)
        return ConstantScorer(docs, 0.0, False) if len(docs) else None
