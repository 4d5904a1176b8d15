"""The per-value vector cache: what it stores (frequent values, long ranges), its byte bound
and counters, invalidation, and its use by the matcher."""

from __future__ import annotations

import numpy as np
import pytest

from bloombits.matcher import Matcher
from bloombits.valuecache import QueryHistory, ValueCache
from tests.bloombits.chain import MemoryRetriever, random_chain, reference

LAYOUT = (64, 4)  # section size, sections per chunk
A, B, C = (1, 2, 3), (4, 5, 6), (7, 8, 9)


def vectors(count: int, fill: int) -> np.ndarray:
    return np.full((count, 8), fill, dtype=np.uint8)


def test_history_counts_each_query_once_and_forgets_the_oldest() -> None:
    history = QueryHistory(size=2)
    history.record([A, A, B])
    history.record([A])
    assert (history.uses(A), history.uses(B)) == (2, 1)
    history.record([C])  # the first query falls out
    assert (history.uses(A), history.uses(B), history.uses(C)) == (1, 0, 1)


def test_only_values_used_repeatedly_by_long_queries_may_be_stored() -> None:
    cache = ValueCache(min_uses=2, min_sections=10)
    assert cache.begin_query([A, B], sections=10) == frozenset()  # first use
    assert cache.begin_query([A], sections=9) == frozenset()  # short: not even counted
    assert cache.begin_query([A, C], sections=50) == frozenset({A})
    assert cache.begin_query([B], sections=10) == frozenset({B})


def test_lookup_hits_only_when_every_live_section_is_held() -> None:
    cache = ValueCache()
    live = np.array([True, False, True, True])
    cache.store(LAYOUT, A, 0, 0, live, vectors(4, 7), cache.generation)
    hit = cache.lookup(LAYOUT, A, 0, 0, np.array([True, False, False, True]))
    assert hit is not None
    assert hit[0, 0] == 7
    assert hit[3, 0] == 7
    assert cache.lookup(LAYOUT, A, 0, 0, np.array([False, True, False, False])) is None
    assert cache.lookup(LAYOUT, B, 0, 0, live) is None
    assert cache.lookup((64, 8), A, 0, 0, live) is None  # another matcher layout
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 3, 1)


def test_stores_merge_and_grow_within_a_chunk() -> None:
    cache = ValueCache()
    cache.store(LAYOUT, A, 2, 9, np.array([True, True]), vectors(2, 1), cache.generation)
    cache.store(LAYOUT, A, 2, 8, np.array([True, False]), vectors(2, 2), cache.generation)
    hit = cache.lookup(LAYOUT, A, 2, 8, np.ones(3, dtype=bool))
    assert hit is not None
    assert hit[:, 0].tolist() == [2, 1, 1]


def test_the_byte_budget_evicts_least_recently_used_first() -> None:
    one_entry = vectors(4, 0).nbytes + 4
    cache = ValueCache(max_bytes=2 * one_entry)
    live = np.ones(4, dtype=bool)
    for value in (A, B):
        cache.store(LAYOUT, value, 0, 0, live, vectors(4, 1), cache.generation)
    assert cache.lookup(LAYOUT, A, 0, 0, live) is not None  # A is now the most recent
    cache.store(LAYOUT, C, 0, 0, live, vectors(4, 1), cache.generation)
    assert cache.lookup(LAYOUT, B, 0, 0, live) is None
    assert cache.lookup(LAYOUT, A, 0, 0, live) is not None
    stats = cache.stats()
    assert (stats.evictions, stats.entries, stats.bytes) == (1, 2, 2 * one_entry)


def test_invalidate_drops_rewritten_blocks_and_stale_stores() -> None:
    cache = ValueCache()
    live = np.ones(4, dtype=bool)
    generation = cache.generation
    for chunk in range(3):
        cache.store(LAYOUT, A, chunk, 4 * chunk, live, vectors(4, 1), generation)
    cache.invalidate(first_block=8 * 64 + 1)  # inside chunk 2 (sections 8..11)
    assert cache.lookup(LAYOUT, A, 1, 4, live) is not None
    assert cache.lookup(LAYOUT, A, 2, 8, live) is None
    cache.store(LAYOUT, A, 2, 8, live, vectors(4, 1), generation)  # computed before the reorg
    assert cache.lookup(LAYOUT, A, 2, 8, live) is None


@pytest.mark.parametrize("batch_sections", [None, 3])
async def test_a_repeated_query_is_answered_from_the_cache(batch_sections: int | None) -> None:
    rng = np.random.default_rng(11)
    pool = [rng.bytes(20) for _ in range(3)]
    chain = random_chain(rng, 64, 12, pool, rate=0.1, noise=0.05)
    filters = [[pool[0], pool[1]], [pool[2]]]
    expected = reference(chain, filters, 100, chain.blocks - 1)
    cache = ValueCache(min_uses=2, min_sections=4)
    calls = []
    for _ in range(3):
        retriever = MemoryRetriever(chain)
        matcher = Matcher(64, filters, batch_sections=batch_sections, cache=cache)
        async with matcher.start(100, chain.blocks - 1, retriever) as session:
            assert [n async for n in session] == expected
        calls.append(retriever.calls)
    assert calls[0] > 0
    assert calls[1] > 0
    assert calls[2] == 0  # every value of every live section came from the cache
    assert cache.stats().hits > 0


async def test_short_queries_do_not_fill_the_cache() -> None:
    rng = np.random.default_rng(12)
    pool = [rng.bytes(20)]
    chain = random_chain(rng, 64, 8, pool, rate=0.3)
    cache = ValueCache(min_uses=1, min_sections=9)
    for _ in range(2):
        matcher = Matcher(64, [pool], cache=cache)
        async with matcher.start(0, chain.blocks - 1, MemoryRetriever(chain)) as session:
            [n async for n in session]
    assert cache.stats().entries == 0
