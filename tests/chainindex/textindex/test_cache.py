"""The filter cache: ``UsageTrackingQueryCachingPolicy``'s rules, counters, and results that
never change because of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainindex.textindex.cache import HISTORY, FilterCache
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import NoMergePolicy
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanQuery, Occur
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig


def doc(i: int) -> Document:
    return Document(
        keywords=[("kind", "even" if i % 2 == 0 else "odd"), ("addr", f"0x{i % 50:04x}")],
        texts=[("name", "alpha beta" if i % 3 else "gamma")],
        points=[("block", i // 4)],
        doc_values={"block": i // 4},
        stored=str(i).encode(),
    )


@pytest.fixture
def reader(tmp_path: Path) -> IndexReader:
    """Two large segments (4,000 and 3,000 docs) and one small one (30 docs)."""
    config = WriterConfig(background_merges=False, merge_policy=NoMergePolicy)
    with IndexWriter(tmp_path, config) as writer:
        writer.add_documents(doc(i) for i in range(4000))
        writer.flush()
        writer.add_documents(doc(i) for i in range(4000, 7000))
        writer.flush()
        writer.add_documents(doc(i) for i in range(7000, 7030))
        writer.commit()
    return IndexReader.open(tmp_path)


def filtered(query: Query, flt: Query) -> BooleanQuery:
    return BooleanQuery.of((Occur.MUST, query), (Occur.FILTER, flt))


def ids(searcher: IndexSearcher, query: Query) -> list[int]:
    top = searcher.search(query, 10_000)
    return sorted(int(searcher.stored(h.leaf, h.doc)) for h in top.hits)


def test_costly_filters_are_cached_after_two_uses_on_large_segments(reader: IndexReader) -> None:
    cache = FilterCache()
    plain = IndexSearcher(reader)
    flt = PointRangeQuery("block", 100, 1500)
    query = filtered(TermQuery("name", "gamma"), flt)
    expected = ids(plain, query)
    searcher = IndexSearcher(reader, cache=cache)
    assert ids(searcher, query) == expected
    first = cache.stats()
    assert first.cached == 0  # seen once: not yet
    assert ids(searcher, query) == expected
    second = cache.stats()
    assert second.cached == 2  # seen twice: cached for the two large segments only
    assert second.entries == 2
    assert ids(searcher, query) == expected
    third = cache.stats()
    assert third.hits == second.hits + 2
    assert third.cached == 2


def test_term_filters_need_five_uses(reader: IndexReader) -> None:
    cache = FilterCache()
    searcher = IndexSearcher(reader, cache=cache)
    query = filtered(PrefixQuery("name", "al"), TermQuery("kind", "even"))
    for _ in range(4):
        ids(searcher, query)
    assert cache.stats().cached == 0
    ids(searcher, query)
    assert cache.stats().cached == 2


def test_small_segment_rule() -> None:
    assert not FilterCache.eligible(999, 1000)
    assert FilterCache.eligible(1000, 10_000)
    assert not FilterCache.eligible(2000, 100_000)  # under 3% of the index
    assert FilterCache.eligible(3000, 100_000)


def test_history_is_the_last_256_filters() -> None:
    cache = FilterCache()
    cache.record("a")
    for i in range(HISTORY - 1):
        cache.record(f"other{i}")
    assert cache.frequency("a") == 1
    cache.record("b")  # pushes "a" out
    assert cache.frequency("a") == 0
    assert cache.frequency("b") == 1


def test_budget_evicts_least_recently_used() -> None:
    cache = FilterCache(max_bytes=4 * 100 + 10)
    docs = np.arange(100, dtype=np.int64) * 1000  # sparse: kept as 100 int32 = 400 bytes
    cache.put(1, "x", docs, 200_000)
    assert cache.get(1, "x") is not None
    cache.put(2, "y", docs, 200_000)
    assert cache.get(1, "x") is None
    got = cache.get(2, "y")
    assert got is not None
    assert got.tolist() == docs.tolist()
    stats = cache.stats()
    assert stats.evictions == 1
    assert stats.misses == 1
    dense = np.arange(0, 200_000, 2, dtype=np.int64)  # dense: a bitset of 25,000 bytes
    big = FilterCache()
    big.put(7, "z", dense, 200_000)
    assert big.stats().bytes == 25_000
    back = big.get(7, "z")
    assert back is not None
    assert back.tolist() == dense.tolist()
    big.drop_segment(7)
    assert big.stats().entries == 0


def test_cached_sets_stay_right_after_deletes(tmp_path: Path) -> None:
    config = WriterConfig(background_merges=False, merge_policy=NoMergePolicy)
    cache = FilterCache()
    flt = PointRangeQuery("block", 0, 2000)
    query = filtered(TermQuery("kind", "odd"), flt)
    with IndexWriter(tmp_path, config) as writer:
        writer.add_documents(doc(i) for i in range(5000))
        writer.commit()
        for _ in range(3):
            ids(IndexSearcher(writer.reader(), cache=cache), query)
        assert cache.stats().cached == 1
        writer.delete_documents(TermQuery("addr", "0x0001"))
        searcher = IndexSearcher(writer.reader(), cache=cache)
        hits_before = cache.stats().hits
        got = ids(searcher, query)
        assert cache.stats().hits == hits_before + 1  # the cached set served, deletes applied
        assert got == ids(IndexSearcher(writer.reader()), query)
        assert all(i % 50 != 1 for i in got)
