"""``ValueCache``: an LRU cache of per-value AND-ed vectors, filled as Elasticsearch fills
its filter cache.

A value (an address or a topic) matches a block when its three bloom bits are all set, so
the matcher computes, per section, the AND of three vectors. Elasticsearch's query cache is
Lucene's ``LRUQueryCache`` driven by Lucene's ``UsageTrackingQueryCachingPolicy``: the policy
keeps the filters of the last 256 queries in a ring buffer and lets a filter's bitset be
cached only once it has been seen often enough there (twice for a costly filter), and the
cache does not bother with small segments (its ``MinSegmentSizePredicate``). Here:

* the cached item is the AND-ed vector of one value (identified by its distinct bloom bits)
  for the sections of one chunk (``batch_sections`` consecutive sections), with a mask of
  the sections it holds (the matcher skips sections an earlier group ruled out);
* a value's vectors are stored only when it was used by at least ``min_uses`` of the last
  ``history`` queries (this one included), and only by sessions whose range covers at least
  ``min_sections`` sections: a short range is cheap to recompute, and would churn the cache;
* lookups are always allowed; a hit replaces three retrievals and two ANDs by one copy;
* the cache is bounded in bytes and evicts least recently used chunks; it counts hits,
  misses and evictions.

One cache serves one chain index (one data directory). When the index rolls back sections
(a reorg), the owner calls :meth:`ValueCache.invalidate` with the first block rewritten;
sessions that started before that do not store what they computed from older data.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from bloombits.arrays import U8, Mask
from bloombits.errors import BloombitsArgumentError

__all__ = ["QueryHistory", "ValueCache", "ValueCacheStats", "ValueKey"]


ValueKey = tuple[int, ...]
"""A value as the matcher sees it: its distinct bloom bits, ascending."""

_Key = tuple[int, int, ValueKey, int]
"""(section size, sections per chunk, value, chunk index)."""


class ValueCacheStats(NamedTuple):
    """Counters of a :class:`ValueCache`."""

    hits: int
    """Lookups answered from the cache."""
    misses: int
    """Lookups that found nothing, or not every section asked for."""
    evictions: int
    """Chunks dropped to stay within the byte budget."""
    entries: int
    """Chunks held."""
    bytes: int
    """Bytes held."""


class QueryHistory:
    """The values used by the last ``size`` queries, counted once per query."""

    def __init__(self, size: int = 256) -> None:
        if size < 1:
            raise BloombitsArgumentError(f"history size must be at least 1, got {size}")
        self._queries: deque[frozenset[ValueKey]] = deque(maxlen=size)
        """The values of each recent query, oldest first."""
        self._uses: Counter[ValueKey] = Counter()
        """How many of the recent queries used each value."""

    def record(self, values: Iterable[ValueKey]) -> None:
        """Add a query that uses ``values``, forgetting the oldest one if full."""
        query = frozenset(values)
        if len(self._queries) == self._queries.maxlen:
            oldest = self._queries[0]
            self._uses.subtract(oldest)
            for value in oldest:
                if self._uses[value] <= 0:
                    del self._uses[value]
        self._queries.append(query)
        self._uses.update(query)

    def uses(self, value: ValueKey) -> int:
        """Number of recent queries that used ``value``."""
        return self._uses.get(value, 0)


class _Entry:
    """The cached vectors of one value in one chunk, over a run of sections."""

    __slots__ = ("first", "rows", "valid")

    def __init__(self, first: int, count: int, width: int) -> None:
        self.first = first
        """First section held."""
        self.rows: U8 = np.zeros((count, width), dtype=np.uint8)
        """AND-ed vectors, valid where ``valid`` is set."""
        self.valid: Mask = np.zeros(count, dtype=np.bool_)
        """Which sections hold a vector."""

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.valid.nbytes


class ValueCache:
    """Byte-bounded LRU cache of per-(value, section) AND-ed vectors, shared by matchers."""

    def __init__(
        self,
        max_bytes: int = 256 << 20,
        *,
        history: int = 256,
        min_uses: int = 2,
        min_sections: int = 32,
    ) -> None:
        if max_bytes < 0 or min_uses < 1 or min_sections < 1:
            raise BloombitsArgumentError(
                "max_bytes >= 0, min_uses >= 1 and min_sections >= 1 are required"
            )
        self.max_bytes = max_bytes
        """Budget for the cached vectors."""
        self.min_uses = min_uses
        """A value is cached once this many of the recent queries used it."""
        self.min_sections = min_sections
        """Sessions over fewer sections neither fill the cache nor count as queries."""
        self.history = QueryHistory(history)
        """The values of the recent queries."""
        self.generation = 0
        """Bumped by :meth:`invalidate`; stores made under an older generation are dropped."""
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        """Cached chunks, least recently used first."""
        self._bytes = 0
        """Bytes held by the entries."""
        self._hits = 0
        """Lookups answered."""
        self._misses = 0
        """Lookups not answered."""
        self._evictions = 0
        """Entries dropped for room."""

    def stats(self) -> ValueCacheStats:
        """The current counters."""
        return ValueCacheStats(
            self._hits, self._misses, self._evictions, len(self._entries), self._bytes
        )

    def begin_query(self, values: Iterable[ValueKey], sections: int) -> frozenset[ValueKey]:
        """Record a query over ``sections`` sections; return which of its values it may store."""
        if sections < self.min_sections:
            return frozenset()
        values = frozenset(values)
        self.history.record(values)
        return frozenset(v for v in values if self.history.uses(v) >= self.min_uses)

    def lookup(
        self, layout: tuple[int, int], value: ValueKey, chunk: int, first: int, live: Mask
    ) -> U8 | None:
        """The AND-ed vectors of ``value`` for the batch of ``len(live)`` sections starting at
        ``first`` (rows of sections not ``live`` unspecified), if every live one is cached.

        ``layout`` is ``(section_size, batch_sections)`` of the asking matcher.
        """
        key = (*layout, value, chunk)
        entry = self._entries.get(key)
        if entry is not None:
            lo = first - entry.first
            hi = lo + len(live)
            if lo >= 0 and hi <= len(entry.valid) and entry.valid[lo:hi][live].all():
                self._entries.move_to_end(key)
                self._hits += 1
                view = entry.rows[lo:hi].view()
                view.flags.writeable = False
                return view
        self._misses += 1
        return None

    def store(
        self,
        layout: tuple[int, int],
        value: ValueKey,
        chunk: int,
        first: int,
        live: Mask,
        vectors: U8,
        generation: int,
    ) -> None:
        """Cache the ``live`` rows of ``vectors`` (the batch starting at section ``first``),
        computed from data read under ``generation``."""
        if generation != self.generation:
            return
        key = (*layout, value, chunk)
        count, width = vectors.shape
        entry = self._entries.pop(key, None)
        if entry is None:
            entry = _Entry(first, count, width)
        else:
            self._bytes -= entry.nbytes
            last = first + count - 1
            if first < entry.first or last > entry.first + len(entry.valid) - 1:
                entry = _grown(entry, first, last, width)
        lo = first - entry.first
        entry.rows[lo : lo + count][live] = vectors[live]
        entry.valid[lo : lo + count] |= live
        if entry.nbytes > self.max_bytes:
            return
        self._entries[key] = entry
        self._bytes += entry.nbytes
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes
            self._evictions += 1

    def invalidate(self, first_block: int) -> None:
        """Drop everything computed for blocks from ``first_block`` on (sections rewritten)."""
        self.generation += 1
        for key in list(self._entries):
            section_size, _, _, _ = key
            entry = self._entries[key]
            last_block = (entry.first + len(entry.valid)) * section_size - 1
            if last_block >= first_block:
                self._bytes -= self._entries.pop(key).nbytes

    def clear(self) -> None:
        """Drop every entry (the counters stay)."""
        self.generation += 1
        self._entries.clear()
        self._bytes = 0


def _grown(entry: _Entry, first: int, last: int, width: int) -> _Entry:
    lo = min(first, entry.first)
    hi = max(last, entry.first + len(entry.valid) - 1)
    grown = _Entry(lo, hi - lo + 1, width)
    at = entry.first - lo
    grown.rows[at : at + len(entry.valid)] = entry.rows
    grown.valid[at : at + len(entry.valid)] = entry.valid
    return grown
