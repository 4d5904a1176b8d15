"""The writer's merging: registering what the policy asks, running merges, swapping them in.

:class:`MergingWriter` is the part of :class:`~chainindex.textindex.writer.IndexWriter` that
merges (kept apart for size). A merge runs outside the writer's lock on segments that never
change; when it finishes, the writer swaps the merged segment in for its sources under the
lock, carrying over the deletions that reached the sources while the merge ran (Lucene's
``commitMergedDeletes``): each source's live docs at registration are compared with its live
docs now, and the newly deleted documents are cleared in the merged segment through the doc
map. A merge aborted or failed leaves its sources as they were and removes its partial file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chainindex.textindex.directory import Directory
from chainindex.textindex.merge.merger import MergeAbortedError, merge_segments
from chainindex.textindex.merge.policy import MergePolicy, SegmentSize
from chainindex.textindex.merge.scheduler import MergeScheduler
from chainindex.textindex.segmentreader import SegmentReader
from chainindex.textindex.segmentstate import OneMerge, SegmentState

__all__ = ["MergingWriter"]


class MergingWriter:
    """Merge orchestration; the writer provides the state below."""

    directory: Directory
    _mutex: threading.RLock
    _segments: list[SegmentState]
    _pending_merges: list[OneMerge]
    _pending_files: set[str]
    _closed: bool
    _changed: bool
    _scheduler: MergeScheduler | None
    version: int
    dropped_segment_listeners: list[Callable[[int], None]]

    def _merge_policy(self) -> MergePolicy:
        raise NotImplementedError

    def _new_name(self) -> str:
        raise NotImplementedError

    def _check_open(self) -> None:
        raise NotImplementedError

    def _flush_locked(self) -> None:
        raise NotImplementedError

    def _notify_dropped(self, segment: SegmentState) -> None:
        for listener in self.dropped_segment_listeners:
            listener(segment.reader.core_key)

    def _register_merges(self) -> int:
        idle = [s for s in self._segments if not s.merging]
        sizes = [
            SegmentSize(s.name, s.reader.max_doc, s.del_count, s.reader.size_bytes()) for s in idle
        ]
        by_name = {s.name: s for s in idle}
        registered = 0
        for group in self._merge_policy()(sizes):
            members = [by_name[n] for n in group if n in by_name and not by_name[n].merging]
            if len(members) < 2:
                continue
            for member in members:
                member.merging = True
            merge = OneMerge(members, [m.live for m in members], self._new_name())
            self._pending_files.add(self.directory.segment_file(merge.name))
            self._pending_merges.append(merge)
            registered += 1
        return registered

    def maybe_merge(self) -> None:
        """Register the merges the policy asks for and get them run."""
        with self._mutex:
            if self._closed or not self._register_merges():
                return
        if self._scheduler is not None:
            self._scheduler.trigger()
        else:
            self._run_pending_merges(threading.Event())

    def _run_pending_merges(self, abort: threading.Event) -> None:
        while not abort.is_set():
            with self._mutex:
                if not self._pending_merges or self._closed:
                    return
                merge = self._pending_merges.pop(0)
            self._execute(merge, abort)

    def _abandon(self, merge: OneMerge) -> None:
        for segment in merge.segments:
            segment.merging = False
        file_name = self.directory.segment_file(merge.name)
        self._pending_files.discard(file_name)
        self.directory.delete([file_name])

    def _execute(self, merge: OneMerge, abort: threading.Event) -> None:
        path = self.directory.file(self.directory.segment_file(merge.name))
        sources = [
            (s.reader, snap) for s, snap in zip(merge.segments, merge.snapshots, strict=True)
        ]
        total_live = sum(
            s.max_doc if snap is None else int(np.count_nonzero(snap)) for s, snap in sources
        )
        try:
            maps = merge_segments(sources, path, merge.name, abort)[1] if total_live else []
        except MergeAbortedError:
            with self._mutex:
                self._abandon(merge)
            return
        except BaseException:
            with self._mutex:
                self._abandon(merge)
            raise
        with self._mutex:
            if self._closed or abort.is_set():
                self._abandon(merge)
                return
            self._swap_in(merge, path, maps)

    def _swap_in(self, merge: OneMerge, path: Path, maps: list[npt.NDArray[np.int64]]) -> None:
        at = self._segments.index(merge.segments[0])
        remaining = [s for s in self._segments if s not in merge.segments]
        replacement: list[SegmentState] = []
        if maps:
            reader = SegmentReader(path, merge.name)
            live = np.ones(reader.max_doc, dtype=bool)
            for segment, snapshot, doc_map in zip(
                merge.segments, merge.snapshots, maps, strict=True
            ):
                if segment.live is None:
                    continue
                before = (
                    np.ones(segment.reader.max_doc, dtype=bool) if snapshot is None else snapshot
                )
                live[doc_map[before & ~segment.live]] = False
            deleted = int(reader.max_doc - np.count_nonzero(live))
            replacement = [
                SegmentState(reader, live if deleted else None, 0, deleted, dirty=deleted > 0)
            ]
        before_count = sum(1 for s in self._segments[:at] if s not in merge.segments)
        self._segments = remaining[:before_count] + replacement + remaining[before_count:]
        self._pending_files.discard(self.directory.segment_file(merge.name))
        self._changed = True
        self.version += 1
        for segment in merge.segments:
            self._notify_dropped(segment)

    def wait_for_merges(self, timeout: float | None = None) -> bool:
        """Wait until background merges are done; True if they are."""
        if self._scheduler is None:
            return True
        return self._scheduler.wait_idle(timeout)

    def force_merge(self) -> None:
        """Merge every segment into one, now, in this thread."""
        with self._mutex:
            self._check_open()
            self._flush_locked()
            idle = [s for s in self._segments if not s.merging]
            if len(idle) < 2 and not any(s.del_count for s in idle):
                return
            for s in idle:
                s.merging = True
            merge = OneMerge(idle, [s.live for s in idle], self._new_name())
            self._pending_files.add(self.directory.segment_file(merge.name))
        self._execute(merge, threading.Event())

    @property
    def merge_errors(self) -> list[BaseException]:
        """Errors of background merges that failed (their segments stayed unmerged)."""
        return [] if self._scheduler is None else list(self._scheduler.errors)
