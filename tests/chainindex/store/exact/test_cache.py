"""``ExactBitmapCache``: admission after 2 of the last 256 queries, hits only for the same
stored bytes, LRU eviction within the byte budget, counters, off at 0."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from chainindex.errors import ConfigError, CorruptDataError
from chainindex.store.exact.cache import ENTRY_OVERHEAD, ExactBitmapCache
from chainindex.store.exact.chunks import encode_chunk


def record(*positions: int) -> bytes:
    return encode_chunk(np.array(sorted(positions), dtype=np.uint32))


def test_a_value_is_kept_only_once_two_recent_queries_used_it() -> None:
    cache = ExactBitmapCache(1 << 20)
    raw = record(1, 5, 9)
    cache.begin_query([7])
    assert list(cache.decode(7, 0, raw, "w")) == [1, 5, 9]  # first use: decoded, not kept
    assert cache.stats() == (0, 1, 0, 0, 0)
    cache.begin_query([7, 8])
    assert list(cache.decode(7, 0, raw, "w")) == [1, 5, 9]  # second query: kept
    assert cache.stats() == (0, 2, 0, 1, 2 * len(raw) + ENTRY_OVERHEAD)
    cache.begin_query([8])  # a query without 7: a lookup still hits
    assert list(cache.decode(7, 0, raw, "w")) == [1, 5, 9]
    assert cache.stats().hits == 1
    cache.decode(8, 0, record(3), "w")  # 8 was used by 2 queries: kept
    assert cache.stats().entries == 2


def test_uses_older_than_the_history_do_not_count() -> None:
    cache = ExactBitmapCache(1 << 20, history=4)
    cache.begin_query([1])
    for other in range(2, 6):  # four queries push the first out of the history
        cache.begin_query([other])
    cache.begin_query([1])
    cache.decode(1, 0, record(4), "w")
    assert cache.stats().entries == 0
    cache.begin_query([1])
    cache.decode(1, 0, record(4), "w")
    assert cache.stats().entries == 1


def test_other_bytes_for_the_same_key_miss_and_replace() -> None:
    """A section rewritten by a reorg: the cached bitmap is not served for the new record."""
    cache = ExactBitmapCache(1 << 20, min_uses=1)
    cache.begin_query([3])
    cache.decode(3, 9, record(1, 2), "w")
    assert list(cache.decode(3, 9, record(1, 7), "w")) == [1, 7]
    assert list(cache.decode(3, 9, record(1, 7), "w")) == [1, 7]
    assert cache.stats()[:4] == (1, 2, 0, 1)


def test_least_recently_used_entries_are_evicted_within_the_budget() -> None:
    raw = [record(i, i + 1000) for i in range(6)]
    charge = 2 * len(raw[0]) + ENTRY_OVERHEAD
    assert all(len(r) == len(raw[0]) for r in raw)
    cache = ExactBitmapCache(3 * charge, min_uses=1)
    cache.begin_query(range(6))
    for section in range(3):
        cache.decode(0, section, raw[section], "w")
    cache.decode(0, 0, raw[0], "w")  # section 0 used again: section 1 is now the oldest
    cache.decode(0, 3, raw[3], "w")
    stats = cache.stats()
    assert (stats.evictions, stats.entries, stats.bytes) == (1, 3, 3 * charge)
    hits = stats.hits
    cache.decode(0, 0, raw[0], "w")
    cache.decode(0, 2, raw[2], "w")
    cache.decode(0, 3, raw[3], "w")
    assert cache.stats().hits == hits + 3
    cache.decode(0, 1, raw[1], "w")  # evicted: decoded again
    assert cache.stats().misses == 5


def test_off_or_too_small_keeps_nothing() -> None:
    for budget in (0, ENTRY_OVERHEAD):
        cache = ExactBitmapCache(budget, min_uses=1)
        cache.begin_query([1])
        assert list(cache.decode(1, 0, record(2, 3), "w")) == [2, 3]
        assert cache.stats().entries == 0
    with pytest.raises(ConfigError):
        ExactBitmapCache(-1)


def test_corrupt_records_are_refused_and_not_kept() -> None:
    cache = ExactBitmapCache(1 << 20, min_uses=1)
    cache.begin_query([1])
    with pytest.raises(CorruptDataError, match="where"):
        cache.decode(1, 0, b"\x09", "where")
    assert cache.stats().entries == 0


def test_threads_share_one_cache() -> None:
    cache = ExactBitmapCache(64 * (2 * len(record(1)) + ENTRY_OVERHEAD), min_uses=1)
    cache.begin_query(range(100))

    def work(offset: int) -> None:
        for i in range(400):
            key = (i * 7 + offset) % 100  # records of 2 bytes each
            assert list(cache.decode(key, 0, record(key), "w")) == [key]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = cache.stats()
    assert stats.hits + stats.misses == 1600
    assert stats.entries <= 64
    assert stats.bytes == stats.entries * (2 * len(record(1)) + ENTRY_OVERHEAD)
