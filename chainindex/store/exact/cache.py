"""``ExactBitmapCache``: decoded exact-index records of values in repeated use, an LRU bounded
in bytes.

A query reads each of its values' records over its sections (one range scan per value) and
decodes them into roaring bitmaps; for a value most queries name (a popular token, the
``Transfer`` topic) that decoding is the bulk of the work. The cache keeps the decoded bitmap
of one (fingerprint, section), admitted as Lucene's ``UsageTrackingQueryCachingPolicy``
admits a filter to ``LRUQueryCache`` (and as :class:`bloombits.valuecache.ValueCache` admits
a value's vectors, whose :class:`~bloombits.valuecache.QueryHistory` it reuses): only once
the value was used by at least ``min_uses`` of the last ``history`` queries, this one
included. Lookups are always allowed.

An entry keeps the record's stored bytes beside the bitmap and is a hit only for the same
bytes: a section rewritten by a reorg then misses and is replaced, with no invalidation to
forget. Its charge is twice the stored bytes plus :data:`ENTRY_OVERHEAD` (the stored bytes
are kept, and a roaring bitmap in memory is about as large as its portable form). Thread-safe:
the query threads share one cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

from pyroaring import AbstractBitMap, FrozenBitMap

from bloombits.valuecache import QueryHistory
from chainindex.errors import ConfigError
from chainindex.store.exact.chunks import decode_chunk

__all__ = ["ENTRY_OVERHEAD", "ExactBitmapCache", "ExactCacheStats"]

ENTRY_OVERHEAD = 128
"""Bytes charged per entry beyond its record (the key, the bitmap object, the LRU links)."""


_Held = tuple[bytes, AbstractBitMap, int]
"""An entry: the record's stored bytes, its bitmap, the bytes charged."""


class ExactCacheStats(NamedTuple):
    """Counters of an :class:`ExactBitmapCache` (``queries.exactCache`` in
    ``logfilter_status``)."""

    hits: int
    """Records answered from the cache."""
    misses: int
    """Records decoded (not held, or held for other bytes)."""
    evictions: int
    """Entries dropped to stay within the byte budget."""
    entries: int
    """Entries held."""
    bytes: int
    """Bytes charged for them."""


class ExactBitmapCache:
    """Byte-bounded LRU of decoded exact-index records, keyed by (fingerprint, section)."""

    def __init__(self, max_bytes: int, *, min_uses: int = 2, history: int = 256) -> None:
        if max_bytes < 0:
            raise ConfigError(f"the exact-index cache cannot hold {max_bytes} bytes")
        self.max_bytes = max_bytes
        """Budget in bytes."""
        self.min_uses = min_uses
        """Recent queries that must have used a value before its records are kept."""
        self._history = QueryHistory(history)
        self._admitted: frozenset[tuple[int, ...]] = frozenset()
        self._entries: OrderedDict[tuple[int, int], _Held] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self._hits = self._misses = self._evictions = 0

    def stats(self) -> ExactCacheStats:
        """The counters."""
        with self._lock:
            return ExactCacheStats(
                self._hits, self._misses, self._evictions, len(self._entries), self._bytes
            )

    def begin_query(self, fingerprints: Iterable[int]) -> None:
        """Record a query using the values of ``fingerprints``; those used by enough recent
        queries may be stored from then on."""
        keys = {(fp,) for fp in fingerprints}
        with self._lock:
            self._history.record(keys)
            self._admitted = frozenset(k for k in keys if self._history.uses(k) >= self.min_uses)

    def decode(self, fp: int, section: int, raw: bytes, where: str) -> AbstractBitMap:
        """The bitmap of the record ``raw`` of ``fp`` in ``section``: the cached one if it
        holds the same bytes, else decoded (and kept if the value is admitted). Callers must
        not modify the bitmap."""
        key = (fp, section)
        with self._lock:
            held = self._entries.get(key)
            if held is not None and held[0] == raw:
                self._entries.move_to_end(key)
                self._hits += 1
                return held[1]
            self._misses += 1
            admitted = (fp,) in self._admitted
        bitmap = decode_chunk(raw, where)
        if not admitted or not self.max_bytes:
            return bitmap
        charge = 2 * len(raw) + ENTRY_OVERHEAD
        if charge > self.max_bytes:
            return bitmap
        frozen = FrozenBitMap(bitmap)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (raw, frozen, charge)
            self._bytes += charge
            while self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
                self._evictions += 1
        return frozen
