"""IndexWriter: add, delete, flush, merge and commit (Lucene's ``IndexWriter``).

- **Add**: documents are inverted into an in-memory buffer; when it holds
  ``max_buffered_docs`` documents or ``ram_buffer_bytes`` of memory it is **flushed** into a
  new immutable segment file (Lucene's FlushByRamOrCountsPolicy).
- **Delete** (``delete_documents(query)``; a chain reorganisation deletes every log above a
  block): the buffer is flushed first, then the matching documents are cleared in each
  segment's live-docs bitset (copy on write: snapshots already handed out do not change).
- **Merge**: after flushes and commits the merge policy picks segments to merge; merges run
  on a background thread (or inline) and are swapped in atomically, carrying over deletions
  that happened while they ran.
- **Commit**: flush, write the changed live-docs generations, then the commit point
  atomically (see :mod:`.commit`); files no commit or live state needs are deleted after.
  Nothing becomes durable before :meth:`IndexWriter.commit`; :meth:`IndexWriter.close`
  without a commit discards what was not committed (Lucene's rollback).

One writer per index (an exclusive lock file); any number of readers, in this process
(:meth:`IndexWriter.reader`, near real time) or in others (``IndexReader.open``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chainindex.textindex.buffer import SegmentBuffer
from chainindex.textindex.codec.livedocs import write_live_docs
from chainindex.textindex.commit import (
    CommitPoint,
    SegmentCommitInfo,
    read_latest_commit,
    write_commit,
)
from chainindex.textindex.directory import Directory
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import MergePolicy, TieredMergePolicy
from chainindex.textindex.merge.updater import SegmentUpdater
from chainindex.textindex.query.base import Query
from chainindex.textindex.reader import IndexReader, LeafReader, open_leaves
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.segmentreader import SegmentReader
from chainindex.textindex.segmentset import SegmentSet
from chainindex.textindex.segmentstate import SegmentState
from chainindex.textindex.segmentwriter import write_segment

__all__ = ["IndexWriter", "WriterConfig"]

_RAM_CHECK_EVERY = 1024


@dataclass
class WriterConfig:
    """Settings of an :class:`IndexWriter`."""

    max_buffered_docs: int = 100_000
    """Flush once the buffer holds this many documents."""
    ram_buffer_bytes: int = 256 << 20
    """Flush once the buffer holds about this much memory."""
    merge_policy: MergePolicy = field(default_factory=TieredMergePolicy)
    """Which segments to merge."""
    background_merges: bool = True
    """Merge on a background thread (else inline, after flushes and commits)."""


class IndexWriter:
    """The single writer of a text index folder. Its segments are a
    :class:`~chainindex.textindex.segmentset.SegmentSet` it shares with its
    :class:`~chainindex.textindex.merge.updater.SegmentUpdater`, which runs the merges."""

    def __init__(self, path: str | Path, config: WriterConfig | None = None) -> None:
        self.config = config or WriterConfig()
        """Settings."""
        self.directory = Directory(path)
        """The index folder."""
        self._lock_file = self.directory.lock()
        try:
            committed = read_latest_commit(self.directory) or CommitPoint(0, 0)
            leaves = open_leaves(self.directory, committed)
        except BaseException:
            self._lock_file.release()
            raise
        self._committed = committed
        segments = [
            SegmentState(leaf.segment, leaf.live, info.del_gen, info.del_count)
            for leaf, info in zip(leaves, committed.segments, strict=True)
        ]
        self._set = SegmentSet(self.directory, segments, committed.counter)
        self._merges = SegmentUpdater(
            self._set, self.config.merge_policy, self.config.background_merges
        )
        self._buffer = SegmentBuffer()
        self._delete_unreferenced()

    # -- state ------------------------------------------------------------------------

    @property
    def committed(self) -> CommitPoint:
        """The last commit point (as read at open, or as written by :meth:`commit`)."""
        return self._committed

    @property
    def version(self) -> int:
        """Incremented by every change visible to a new reader."""
        return self._set.version

    @property
    def dropped_segment_listeners(self) -> list[Callable[[int], None]]:
        """Called with a segment's ``core_key`` when the segment leaves the index."""
        return self._set.dropped_listeners

    @property
    def has_uncommitted_changes(self) -> bool:
        """True when adds, deletes or merges happened since the last commit."""
        return self._set.changed or self._buffer.num_docs > 0

    @property
    def buffered_docs(self) -> int:
        """Documents added but not yet flushed."""
        return self._buffer.num_docs

    # -- adding -----------------------------------------------------------------------

    def add_document(self, doc: Document) -> None:
        """Add one document (searchable after the next flush)."""
        self.add_documents((doc,))

    def add_documents(self, docs: Iterable[Document]) -> int:
        """Add documents; returns how many."""
        count = 0
        flushed = False
        with self._set.mutex:
            self._set.check_open()
            buffer_limit = self.config.max_buffered_docs
            for doc in docs:
                self._buffer.add(doc)
                count += 1
                n = self._buffer.num_docs
                if n >= buffer_limit or (
                    n % _RAM_CHECK_EVERY == 0
                    and self._buffer.ram_bytes() >= self.config.ram_buffer_bytes
                ):
                    self._flush_locked()
                    flushed = True
            if count:
                self._set.changed = True
        if flushed:
            self.maybe_merge()
        return count

    def _flush_locked(self) -> None:
        if self._buffer.num_docs == 0:
            return
        name = self._set.new_name()
        file_name = self.directory.segment_file(name)
        path = self.directory.file(file_name)
        write_segment(path, name, self._buffer.to_inputs())
        self._set.segments.append(SegmentState(SegmentReader(path, name), None, 0, 0))
        self._buffer = SegmentBuffer()
        self._set.version += 1

    def flush(self) -> None:
        """Write the buffered documents into a new segment (not yet committed)."""
        with self._set.mutex:
            self._set.check_open()
            self._flush_locked()
        self.maybe_merge()

    # -- deleting ---------------------------------------------------------------------

    def delete_documents(self, query: Query) -> int:
        """Delete every document matching ``query``; returns how many were live."""
        with self._set.mutex:
            self._set.check_open()
            self._flush_locked()
            searcher = IndexSearcher(self._snapshot())
            deleted = 0
            matching = searcher.matching_docs(query)
            for segment, docs in zip(self._set.segments, matching, strict=True):
                if len(docs) == 0:
                    continue
                live = (
                    np.ones(segment.reader.max_doc, dtype=bool)
                    if segment.live is None
                    else segment.live.copy()
                )
                live[docs] = False
                segment.live = live
                segment.del_count += len(docs)
                segment.dirty = True
                deleted += len(docs)
            if deleted:
                self._set.changed = True
                self._set.version += 1
            return deleted

    # -- readers ----------------------------------------------------------------------

    def _snapshot(self) -> IndexReader:
        leaves = []
        base = 0
        for i, segment in enumerate(self._set.segments):
            leaves.append(LeafReader(segment.reader, segment.live, i, base))
            base += segment.reader.max_doc
        return IndexReader(leaves, self._committed)

    def reader(self) -> IndexReader:
        """A snapshot of every flushed segment with the current deletions (near real time)."""
        with self._set.mutex:
            self._set.check_open()
            return self._snapshot()

    # -- committing -------------------------------------------------------------------

    def commit(self, user_data: dict[str, str] | None = None) -> CommitPoint:
        """Make every change durable, with ``user_data``, atomically."""
        with self._set.mutex:
            self._set.check_open()
            self._flush_locked()
            dropped = [
                s for s in self._set.segments if s.del_count >= s.reader.max_doc and not s.merging
            ]
            keep = [s for s in self._set.segments if s not in dropped]
            new_gens: dict[int, int] = {}
            for segment in keep:
                if segment.dirty:
                    gen = segment.del_gen + 1
                    assert segment.live is not None
                    name = self.directory.live_docs_file(segment.name, gen)
                    write_live_docs(self.directory.file(name), segment.live)
                    new_gens[id(segment)] = gen
            commit = CommitPoint(
                self._committed.generation + 1,
                self._set.counter,
                tuple(
                    SegmentCommitInfo(
                        s.name,
                        s.reader.max_doc,
                        new_gens.get(id(s), s.del_gen),
                        s.del_count,
                    )
                    for s in keep
                ),
                dict(user_data or {}),
            )
            try:
                write_commit(self.directory, commit)
            except BaseException:
                # A failure after the rename (the folder's fsync) leaves the new commit point
                # in place: it is the index's state now, whatever the error says.
                if self.directory.file(commit.file_name()).exists():
                    self._adopt(commit, keep, dropped, new_gens)
                raise
            self._adopt(commit, keep, dropped, new_gens)
            self._delete_unreferenced()
        self.maybe_merge()
        return commit

    def _adopt(
        self,
        commit: CommitPoint,
        keep: list[SegmentState],
        dropped: list[SegmentState],
        new_gens: dict[int, int],
    ) -> None:
        """Bring the in-memory state in line with a commit point now on disk."""
        for segment in keep:
            if id(segment) in new_gens:
                segment.del_gen = new_gens[id(segment)]
                segment.dirty = False
        if dropped:
            self._set.segments = keep
            self._set.version += 1
            self._set.dropped(dropped)
        self._committed = commit
        self._set.changed = False

    def _live_files(self) -> set[str]:
        names = set(self._committed.files(self.directory))
        for segment in self._set.segments:
            names.add(self.directory.segment_file(segment.name))
            if segment.del_gen:
                names.add(self.directory.live_docs_file(segment.name, segment.del_gen))
        return names | self._set.pending_files

    def _delete_unreferenced(self) -> None:
        self._delete_all_but(self._live_files())

    def _delete_all_but(self, keep: set[str]) -> None:
        """Delete the index files not in ``keep``: stale commit points first, so that a crash
        midway never leaves a commit point whose files are gone."""
        stale = [n for n in self.directory.index_files() if n not in keep]
        stale.sort(key=lambda n: (not n.startswith("segments_"), n))
        self.directory.delete(stale)

    # -- merging ----------------------------------------------------------------------

    def maybe_merge(self) -> None:
        """Register the merges the policy asks for and get them run."""
        self._merges.maybe_merge()

    def wait_for_merges(self, timeout: float | None = None) -> bool:
        """Wait until background merges are done; True if they are."""
        return self._merges.wait(timeout)

    def force_merge(self) -> None:
        """Merge every segment into one, now, in this thread."""
        with self._set.mutex:
            self._set.check_open()
            self._flush_locked()
            merge = self._merges.register_all()
        if merge is not None:
            self._merges.execute(merge, threading.Event())

    @property
    def merge_errors(self) -> list[BaseException]:
        """Errors of background merges that failed (their segments stayed unmerged)."""
        return self._merges.errors

    # -- closing ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop merges, discard what was not committed, release the index."""
        if self._set.closed:
            return
        self._merges.close()
        with self._set.mutex:
            self._set.closed = True
            self._set.pending_merges.clear()
            self._set.pending_files.clear()
            self._delete_all_but(self._committed.files(self.directory))
            self._lock_file.release()

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
