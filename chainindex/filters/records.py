"""``RecordCache``: parsed logs records of recent blocks, shared by every query.

go-ethereum keeps an LRU of recent blocks' logs in its filter system (``cachedLogElem``) for
the same reason: the same blocks are verified again and again (clients polling the last few
blocks, ranges that overlap). A record is immutable under its block hash, so entries never
go stale: a reorganised block has another hash, and its entry simply ages out.

The cache is bounded by the bytes of the records it holds and is safe to use from the
worker threads the query path runs in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from chainindex.store.codec import LogsRecord, encode_logs
from chainindex.store.damage import LOGS, damage
from chainindex.store.reader import ChainView
from chainindex.types import Header

__all__ = ["NO_MATCH", "Prefilter", "RecordCache", "record_size"]

Prefilter = Callable[[bytes], bool]
"""A look at a stored logs record's raw bytes: False when none of its logs can match."""

NO_MATCH = LogsRecord.parse(encode_logs(()))
"""What a lookup answers for a block its prefilter turned away: a record without logs (the
block's real record is neither parsed nor cached)."""


def record_size(record: LogsRecord) -> int:
    """Approximate bytes held by ``record``: the record it views, and the ``bytes`` of its
    distinct values should they be built (about 50 bytes each beyond the record's)."""
    values = len(record.tx_table) + len(record.address_table) + len(record.topic_table)
    return 400 + record.nbytes + 50 * values


class RecordCache:
    """A byte-bounded LRU of logs records by block hash: parsed, or kept raw when a
    prefilter turned the record away (a raw record is parsed, and replaced by its parsed
    form, the first time a lookup's prefilter lets it through)."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        """Budget for the records held."""
        self._entries: OrderedDict[bytes, tuple[Header, LogsRecord | bytes, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        """Lookups answered from the cache."""
        self.misses = 0
        """Lookups that read the store."""

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: bytes) -> tuple[Header, LogsRecord | bytes] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0], entry[1]
            self.misses += 1
            return None

    def get(
        self, view: ChainView, header: Header, prefilter: Prefilter | None = None
    ) -> LogsRecord | None:
        """The logs record of ``header``'s block, from the cache or from ``view`` (None when
        the store has no logs for it: headers-only). A record that ``prefilter`` turns away
        is :data:`NO_MATCH`."""
        found = self._lookup(bytes(header.hash))
        if found is not None:
            return self._resolve(header, found[1], prefilter)
        return self._read(view, header, prefilter)

    def block(
        self, view: ChainView, number: int, prefilter: Prefilter | None = None
    ) -> tuple[Header, LogsRecord | None] | None:
        """The canonical header of block ``number`` in ``view`` and its logs record (None
        when not stored; :data:`NO_MATCH` when ``prefilter`` turns it away); None when the
        block is not synced. One read when cached."""
        block_hash = view.canonical_hash(number)
        if block_hash is None:
            return None
        found = self._lookup(bytes(block_hash))
        if found is not None:
            return found[0], self._resolve(found[0], found[1], prefilter)
        stored = view.header_with_hash(number, block_hash)
        if stored is None:
            return None
        return stored, self._read(view, stored, prefilter)

    def _read(
        self, view: ChainView, header: Header, prefilter: Prefilter | None
    ) -> LogsRecord | None:
        raw = view.logs_raw(header)
        if raw is None:
            return None
        return self._resolve(header, raw, prefilter)

    def _resolve(
        self, header: Header, held: LogsRecord | bytes, prefilter: Prefilter | None
    ) -> LogsRecord:
        """``held`` as a parsed record, or :data:`NO_MATCH` (kept raw) when turned away."""
        if isinstance(held, LogsRecord):
            return held
        if prefilter is not None and not prefilter(held):
            self._store(bytes(header.hash), header, held, len(held) + 200)
            return NO_MATCH
        with damage(LOGS, header.number, header.number):
            record = LogsRecord.parse(held, f"logs of block {header.number}")
        self._store(bytes(header.hash), header, record, record_size(record))
        return record

    def _store(self, key: bytes, header: Header, held: LogsRecord | bytes, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                if isinstance(old[1], LogsRecord) or not isinstance(held, LogsRecord):
                    return
                self._bytes -= old[2]  # a parsed record replaces the raw one
            self._entries[key] = (header, held, size)
            self._entries.move_to_end(key)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, _, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
