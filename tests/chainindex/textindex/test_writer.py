"""The writer: deletes, merges (inline and in the background), reopen, rollback, locking."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.textindex.directory import Directory
from chainindex.textindex.document import Document
from chainindex.textindex.errors import IndexCorruptError, IndexLockedError, TextIndexError
from chainindex.textindex.merge.policy import (
    LogMergePolicy,
    NoMergePolicy,
    SegmentSize,
    TieredMergePolicy,
)
from chainindex.textindex.query.multiterm import TermInSetQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig


def doc(i: int) -> Document:
    return Document(
        keywords=[("id", f"id{i}"), ("parity", "even" if i % 2 == 0 else "odd")],
        texts=[("name", f"word{i % 7} common")],
        points=[("block", i // 10)],
        doc_values={"block": i // 10, "logIndex": i % 10},
        stored=str(i).encode(),
    )


def stored_ids(reader: IndexReader) -> list[int]:
    """Every live document's stored id, in index order."""
    out = []
    for leaf in reader.leaves:
        for d in range(leaf.max_doc):
            if leaf.live is None or leaf.live[d]:
                out.append(int(leaf.segment.stored(d)))
    return out


def inline(**kw: object) -> WriterConfig:
    return WriterConfig(background_merges=False, **kw)  # type: ignore[arg-type]


def test_reopen_sees_exactly_the_last_commit(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline(max_buffered_docs=7)) as writer:
        writer.add_documents(doc(i) for i in range(30))
        writer.commit({"block": "2"})
        writer.add_documents(doc(i) for i in range(30, 40))  # never committed
        writer.flush()
        assert len(stored_ids(writer.reader())) == 40
    reader = IndexReader.open(tmp_path)
    assert sorted(stored_ids(reader)) == list(range(30))
    assert reader.commit is not None
    assert reader.commit.user_data == {"block": "2"}
    # The uncommitted segments' files are gone.
    names = set(os.listdir(tmp_path))
    assert names == {"write.lock", *reader.commit.files(Directory(tmp_path))}


def test_deletes_survive_reopen_and_merge(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline(max_buffered_docs=10, merge_policy=NoMergePolicy)) as w:
        w.add_documents(doc(i) for i in range(100))
        w.commit()
        assert w.delete_documents(PointRangeQuery("block", 5, None)) == 50  # the reorg rollback
        assert w.delete_documents(TermQuery("parity", "odd")) == 25
        assert w.delete_documents(TermQuery("parity", "odd")) == 0  # already gone
        w.commit()
    expected = [i for i in range(50) if i % 2 == 0]
    reader = IndexReader.open(tmp_path)
    assert stored_ids(reader) == expected
    assert len(reader.leaves) == 5  # the five fully deleted segments were dropped
    with IndexWriter(tmp_path, inline()) as w:
        w.force_merge()
        w.commit()
    reader = IndexReader.open(tmp_path)
    assert len(reader.leaves) == 1
    assert reader.leaves[0].live is None
    assert stored_ids(reader) == expected
    assert IndexSearcher(reader).count(TermQuery("name", "common")) == len(expected)


def test_unflushed_documents_are_deleted_too(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline()) as w:
        w.add_documents(doc(i) for i in range(20))
        assert w.buffered_docs == 20
        assert w.delete_documents(TermQuery("parity", "even")) == 10
        w.commit()
    assert stored_ids(IndexReader.open(tmp_path)) == list(range(1, 20, 2))


def test_policies_pick_groups() -> None:
    sizes = [SegmentSize(f"_{i}", 100, 0, 1000 * (i + 1)) for i in range(25)]
    tiered = TieredMergePolicy(segments_per_tier=5, max_merge_at_once=5, floor_segment_bytes=1)
    merges = tiered(sizes)
    assert merges
    assert all(2 <= len(m) <= 5 for m in merges)
    merged = [n for m in merges for n in m]
    assert len(merged) == len(set(merged))
    log = LogMergePolicy(merge_factor=4, min_merge_bytes=1)
    equal = [SegmentSize(f"_{i}", 10, 0, 5000) for i in range(9)]
    assert log(equal) == [["_0", "_1", "_2", "_3"], ["_4", "_5", "_6", "_7"]]
    heavy = [SegmentSize("_a", 100, 60, 10_000), SegmentSize("_b", 100, 0, 10_000)]
    assert tiered(heavy) == [["_a", "_b"]] or tiered(heavy) == [["_b", "_a"]]
    assert NoMergePolicy(sizes) == []


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.integers(1, 12),
    st.sampled_from(["tiered", "log"]),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6),
)
def test_inline_merges_keep_every_live_document(
    flush_every: int, policy_name: str, deletes: list[tuple[int, int]]
) -> None:
    import tempfile

    policy = (
        TieredMergePolicy(segments_per_tier=2, max_merge_at_once=3, floor_segment_bytes=1)
        if policy_name == "tiered"
        else LogMergePolicy(merge_factor=2, min_merge_bytes=1)
    )
    live = set(range(60))
    with tempfile.TemporaryDirectory() as tmp:
        with IndexWriter(tmp, inline(max_buffered_docs=flush_every, merge_policy=policy)) as w:
            for start in range(0, 60, 10):
                w.add_documents(doc(i) for i in range(start, start + 10))
                w.commit()
                for low, high in deletes:
                    gone = {i for i in live if low <= i <= high and i < start + 10}
                    ids = frozenset(f"id{i}" for i in range(low, high + 1))
                    assert w.delete_documents(TermInSetQuery("id", ids)) == len(gone)
                    live -= gone
                w.commit()
            assert sorted(stored_ids(w.reader())) == sorted(live)
        reader = IndexReader.open(tmp)
        assert sorted(stored_ids(reader)) == sorted(live)
        searcher = IndexSearcher(reader)
        assert searcher.count(TermQuery("parity", "even")) == sum(1 for i in live if i % 2 == 0)


def test_background_merges_with_concurrent_deletes(tmp_path: Path) -> None:
    policy = TieredMergePolicy(segments_per_tier=2, max_merge_at_once=4, floor_segment_bytes=1)
    config = WriterConfig(max_buffered_docs=50, merge_policy=policy, background_merges=True)
    live = set(range(2000))
    with IndexWriter(tmp_path, config) as w:
        for start in range(0, 2000, 200):
            w.add_documents(doc(i) for i in range(start, start + 200))
            w.flush()
            # Delete while merges of earlier segments may be running.
            gone = {i for i in live if i % 13 == 0 and i < start + 200}
            w.delete_documents(TermInSetQuery("id", frozenset(f"id{i}" for i in gone)))
            live -= gone
        assert w.wait_for_merges(60)
        assert not w.merge_errors
        w.commit()
        reader = w.reader()
        assert len(reader.leaves) < 40  # merges happened
        assert sorted(stored_ids(reader)) == sorted(live)
    assert sorted(stored_ids(IndexReader.open(tmp_path))) == sorted(live)


def test_close_aborts_a_running_merge_cleanly(tmp_path: Path) -> None:
    config = WriterConfig(max_buffered_docs=500, merge_policy=NoMergePolicy)
    with IndexWriter(tmp_path, config) as w:
        w.add_documents(doc(i) for i in range(6000))
        w.commit({"block": "599"})
    committed = sorted(os.listdir(tmp_path))
    policy = TieredMergePolicy(segments_per_tier=2, max_merge_at_once=12, floor_segment_bytes=1)
    w = IndexWriter(tmp_path, WriterConfig(merge_policy=policy))
    w.maybe_merge()  # starts merging 12 segments in the background
    w.close()  # at once: the merge is aborted at its next checkpoint, or finishes unswapped
    assert sorted(os.listdir(tmp_path)) == committed
    reader = IndexReader.open(tmp_path)
    assert sorted(stored_ids(reader)) == list(range(6000))


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline()):
        with pytest.raises(IndexLockedError, match="open for writing by another process"):
            IndexWriter(tmp_path, inline())
        IndexReader.open(tmp_path)  # readers never need the lock
    with IndexWriter(tmp_path, inline()) as w:  # released on close
        w.add_document(doc(1))


def test_closed_writer_refuses_work(tmp_path: Path) -> None:
    w = IndexWriter(tmp_path, inline())
    w.close()
    w.close()  # idempotent
    with pytest.raises(TextIndexError, match="closed"):
        w.add_document(doc(1))


def test_orphans_from_a_crash_are_removed_at_open(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline()) as w:
        w.add_documents(doc(i) for i in range(10))
        w.commit()
    (tmp_path / "_zz.seg").write_bytes(b"partial segment of a crashed flush")
    (tmp_path / "segments_9.tmp").write_bytes(b"partial commit")
    (tmp_path / "_0_7.liv").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    with IndexWriter(tmp_path, inline()):
        names = set(os.listdir(tmp_path))
    assert "_zz.seg" not in names
    assert "segments_9.tmp" not in names
    assert "_0_7.liv" not in names
    assert "notes.txt" in names  # never touch files that are not the index's


def test_damaged_files_are_clear_errors(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline()) as w:
        w.add_documents(doc(i) for i in range(10))
        w.commit()
    commit_file = next(p for p in tmp_path.iterdir() if p.name.startswith("segments_"))
    raw = bytearray(commit_file.read_bytes())
    raw[12] ^= 0x55
    commit_file.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="checksum"):
        IndexReader.open(tmp_path)
    with pytest.raises(IndexCorruptError):
        IndexWriter(tmp_path, inline())


def test_nrt_readers_are_snapshots(tmp_path: Path) -> None:
    with IndexWriter(tmp_path, inline()) as w:
        w.add_documents(doc(i) for i in range(10))
        w.flush()
        before = w.reader()
        w.delete_documents(TermQuery("parity", "odd"))
        after = w.reader()
        assert len(stored_ids(before)) == 10  # an earlier snapshot never changes
        assert len(stored_ids(after)) == 5
        live = after.leaves[0].live
        assert live is not None
        assert np.count_nonzero(live) == 5


def test_concurrent_searches_and_writes(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()
    with IndexWriter(tmp_path, WriterConfig(max_buffered_docs=40)) as w:
        w.add_documents(doc(i) for i in range(200))
        w.flush()

        def search() -> None:
            try:
                while not stop.is_set():
                    searcher = IndexSearcher(w.reader())
                    n = searcher.count(TermQuery("name", "common"))
                    assert n >= 200
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=search) for _ in range(3)]
        for t in threads:
            t.start()
        for start in range(200, 1200, 100):
            w.add_documents(doc(i) for i in range(start, start + 100))
            w.flush()
        stop.set()
        for t in threads:
            t.join()
        w.wait_for_merges(60)
        w.commit()
    assert not errors
    assert len(stored_ids(IndexReader.open(tmp_path))) == 1200


def test_point_range_through_doc_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chainindex.textindex.query import pointrange
    from chainindex.textindex.query.boolean import BooleanQuery, Occur

    used = []
    original = pointrange._ColumnRangeScorer.evaluate

    def spy(self: object, candidates: object = None) -> object:
        fast = candidates is not None and len(candidates) * 8 < self.cost()  # type: ignore[arg-type, attr-defined]
        used.append(fast)
        return original(self, candidates)  # type: ignore[arg-type]

    monkeypatch.setattr(pointrange._ColumnRangeScorer, "evaluate", spy)
    docs = []
    for i in range(3000):
        d = doc(i)
        d.points.append(("copy", i // 10))  # the same values, without a mirroring column
        docs.append(d)
    with IndexWriter(tmp_path, inline(merge_policy=NoMergePolicy)) as w:
        w.add_documents(docs)
        w.commit()
        searcher = IndexSearcher(w.reader())
        for low, high in [(0, 299), (10, 20), (150, None), (None, 3), (400, 500)]:
            for field, word in (("name", "word3"), ("name", "word0"), ("id", "id1234")):
                mirrored = BooleanQuery.of(
                    (Occur.MUST, TermQuery(field, word)),
                    (Occur.FILTER, PointRangeQuery("block", low, high)),
                )
                plain = BooleanQuery.of(
                    (Occur.MUST, TermQuery(field, word)),
                    (Occur.FILTER, PointRangeQuery("copy", low, high)),
                )
                expected = sorted(
                    i
                    for i in range(3000)
                    if (f"word{i % 7}" if field == "name" else f"id{i}") == word
                    and (low is None or i // 10 >= low)
                    and (high is None or i // 10 <= high)
                )
                for query in (mirrored, plain):
                    top = searcher.search(query, 3000)
                    assert sorted(int(searcher.stored(h.leaf, h.doc)) for h in top.hits) == expected
    assert any(used)  # the column path was taken (a rare term, a wide range)
