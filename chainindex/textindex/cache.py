"""The filter cache (Lucene's ``LRUQueryCache``): document sets of filter clauses, reused
across queries.

Following Lucene's ``UsageTrackingQueryCachingPolicy`` and ``LRUQueryCache`` defaults, as
Elasticsearch uses them:

- only **filter** clauses are cached (clauses that do not score: FILTER and MUST_NOT clauses,
  constant-score queries, and the structural filters of a log search: block range, address,
  topics); the cached value is the clause's set of matching documents in one segment;
- a clause is cached once it has been used often enough among the **last 256** filter
  clauses seen: twice for costly clauses (multi-term, ranges, term sets, booleans), five
  times for a single term;
- **small segments are never cached** (fewer than 1,000 documents, or under 3% of the
  index): they are cheap to scan and merged away soon;
- entries stay **valid as segments change**: a segment's files never change, deletions are
  applied after the cached set is read, and the entries of a segment that is merged away are
  dropped (:meth:`FilterCache.drop_segment`), the rest aged out by LRU within a byte budget.

A set is kept as sorted 32-bit document numbers or as a bitset, whichever is smaller.
Counters (hits, misses, caches, evictions, bytes) are exposed for the status API.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from chainindex.textindex.arrays import I32, I64, U8

__all__ = ["FilterCache", "FilterCacheStats"]


HISTORY = 256
"""Filter usages remembered."""
MIN_SEGMENT_DOCS = 1000
"""Segments with fewer documents are not cached."""
MIN_SEGMENT_RATIO = 0.03
"""Segments holding less than this share of the index are not cached."""


@dataclass(frozen=True, slots=True)
class FilterCacheStats:
    """Counters of a filter cache."""

    hits: int
    misses: int
    cached: int
    """Sets added to the cache."""
    evictions: int
    entries: int
    bytes: int


class _Entry:
    """A cached set: a bitset when dense, sorted 32-bit ids when sparse."""

    __slots__ = ("bits", "docs", "max_doc", "size")

    def __init__(self, docs: I64, max_doc: int) -> None:
        self.max_doc = max_doc
        if len(docs) * 32 > max_doc:
            self.bits: U8 | None = np.packbits(np.bincount(docs, minlength=max_doc).astype(bool))
            self.docs: I32 | None = None
            self.size = len(self.bits)
        else:
            self.bits = None
            self.docs = docs.astype(np.int32)
            self.size = 4 * len(docs)

    def to_docs(self) -> I64:
        if self.docs is not None:
            return self.docs.astype(np.int64)
        assert self.bits is not None
        return np.flatnonzero(np.unpackbits(self.bits, count=self.max_doc)).astype(np.int64)


class FilterCache:
    """Per-segment cache of filter document sets (thread-safe)."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        """Memory budget for cached sets."""
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, Hashable], _Entry] = OrderedDict()
        self._history: deque[Hashable] = deque(maxlen=HISTORY)
        self._counts: Counter[Hashable] = Counter()
        self._bytes = 0
        self._hits = self._misses = self._cached = self._evictions = 0

    def record(self, query: Hashable) -> None:
        """Note one use of a filter (once per search)."""
        with self._lock:
            if len(self._history) == HISTORY:
                old = self._history[0]
                self._counts[old] -= 1
                if self._counts[old] <= 0:
                    del self._counts[old]
            self._history.append(query)
            self._counts[query] += 1

    def frequency(self, query: Hashable) -> int:
        """Uses of ``query`` among the last :data:`HISTORY` filters."""
        with self._lock:
            return self._counts.get(query, 0)

    @staticmethod
    def eligible(max_doc: int, index_docs: int) -> bool:
        """Whether a segment is large enough to cache (``LRUQueryCache``'s leaf size rule: at least
        :data:`MIN_SEGMENT_DOCS` documents and :data:`MIN_SEGMENT_RATIO` of the index)."""
        return max_doc >= MIN_SEGMENT_DOCS and max_doc >= MIN_SEGMENT_RATIO * index_docs

    def get(self, segment: int, query: Hashable) -> I64 | None:
        """The cached set of ``query`` in a segment, if any (counts a hit or a miss)."""
        with self._lock:
            entry = self._entries.get((segment, query))
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end((segment, query))
            self._hits += 1
        return entry.to_docs()

    def put(self, segment: int, query: Hashable, docs: I64, max_doc: int) -> None:
        """Cache a segment's set for ``query``."""
        entry = _Entry(docs, max_doc)
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop((segment, query), None)
            if old is not None:
                self._bytes -= old.size
            self._entries[(segment, query)] = entry
            self._bytes += entry.size
            self._cached += 1
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size
                self._evictions += 1

    def drop_segment(self, segment: int) -> None:
        """Forget every set of a segment that no longer exists."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == segment]:
                self._bytes -= self._entries.pop(key).size

    def stats(self) -> FilterCacheStats:
        """The counters."""
        with self._lock:
            return FilterCacheStats(
                self._hits,
                self._misses,
                self._cached,
                self._evictions,
                len(self._entries),
                self._bytes,
            )
