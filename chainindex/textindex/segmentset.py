"""The segments of an open writer, shared by the writer and the merges (tantivy's
``SegmentManager``; in Lucene this state lives in ``IndexWriter`` itself: ``segmentInfos``,
``pendingMerges``, ``mergingSegments``).

A :class:`SegmentSet` is the one mutable record of what the writer has: the segments in index
order with their live docs, the merges registered and not yet run, the files that merges in
progress are writing, a name counter, a version bumped by every change a new reader would see,
and the listeners told when a segment leaves. The :class:`~chainindex.textindex.writer.IndexWriter`
(adds, deletes, commits) and the :class:`~chainindex.textindex.merge.updater.SegmentUpdater`
(merges, on a background thread or inline) both change it, always under :attr:`SegmentSet.mutex`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import TextIndexError
from chainindex.textindex.segmentstate import OneMerge, SegmentState

__all__ = ["SegmentSet"]


def _base36(n: int) -> str:
    return np.base_repr(n, 36).lower()


class SegmentSet:
    """What an open writer holds, and the lock that guards it (see the module docstring)."""

    def __init__(self, directory: Directory, segments: list[SegmentState], counter: int) -> None:
        self.directory = directory
        """The index folder."""
        self.mutex = threading.RLock()
        """Guards every attribute below."""
        self.segments = segments
        """The segments, in index order (replaced, not mutated, when a merge swaps in)."""
        self.counter = counter
        """The next segment name's number (Lucene's ``SegmentInfos.counter``)."""
        self.pending_merges: list[OneMerge] = []
        """Merges registered and not yet started."""
        self.pending_files: set[str] = set()
        """Files merges in progress write (kept when unreferenced files are deleted)."""
        self.closed = False
        """Set when the writer is closed."""
        self.changed = False
        """Adds, deletes or merges happened since the last commit."""
        self.version = 0
        """Incremented by every change visible to a new reader."""
        self.dropped_listeners: list[Callable[[int], None]] = []
        """Called with a segment's ``core_key`` when the segment leaves the index."""

    def check_open(self) -> None:
        """Raise when the writer is closed."""
        if self.closed:
            raise TextIndexError("the index writer is closed")

    def new_name(self) -> str:
        """A fresh segment name (``_0``, ``_1``, ... in base 36, as Lucene's)."""
        name = "_" + _base36(self.counter)
        self.counter += 1
        return name

    def idle(self) -> list[SegmentState]:
        """The segments no merge is working on."""
        return [s for s in self.segments if not s.merging]

    def register(self, members: list[SegmentState]) -> OneMerge:
        """Register a merge of ``members`` (marked merging, its output file reserved); the
        caller queues it or runs it."""
        for member in members:
            member.merging = True
        merge = OneMerge(members, [m.live for m in members], self.new_name())
        self.pending_files.add(self.directory.segment_file(merge.name))
        return merge

    def abandon(self, merge: OneMerge) -> None:
        """Give up a merge: its sources stay as they are, its partial file is removed."""
        for segment in merge.segments:
            segment.merging = False
        file_name = self.directory.segment_file(merge.name)
        self.pending_files.discard(file_name)
        self.directory.delete([file_name])

    def replace(self, merge: OneMerge, replacement: list[SegmentState]) -> None:
        """Put ``replacement`` where the merge's first source was and drop its sources."""
        at = self.segments.index(merge.segments[0])
        remaining = [s for s in self.segments if s not in merge.segments]
        before = sum(1 for s in self.segments[:at] if s not in merge.segments)
        self.segments = remaining[:before] + replacement + remaining[before:]
        self.pending_files.discard(self.directory.segment_file(merge.name))
        self.changed = True
        self.version += 1
        self.dropped(merge.segments)

    def dropped(self, segments: list[SegmentState]) -> None:
        """Tell the listeners that ``segments`` left the index."""
        for segment in segments:
            for listener in self.dropped_listeners:
                listener(segment.reader.core_key)
