"""Running merges against a writer's segments: registering what the policy asks, merging,
swapping the result in (tantivy's ``SegmentUpdater``; Lucene's ``IndexWriter.registerMerge``,
``merge`` and ``commitMerge``).

A :class:`SegmentUpdater` works on the :class:`~chainindex.textindex.segmentset.SegmentSet` it
shares with the :class:`~chainindex.textindex.writer.IndexWriter`. A merge runs outside the
set's lock on segments that never change; when it finishes, the merged segment is swapped in
for its sources under the lock, carrying over the deletions that reached the sources while
the merge ran (Lucene's ``commitMergedDeletes``): each source's live docs at registration are
compared with its live docs now, and the newly deleted documents are cleared in the merged
segment through the doc map. A merge aborted or failed leaves its sources as they were and
removes its partial file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.merge.merger import MergeAbortedError, merge_segments
from chainindex.textindex.merge.policy import MergePolicy, SegmentSize
from chainindex.textindex.merge.scheduler import MergeScheduler
from chainindex.textindex.segmentreader import SegmentReader
from chainindex.textindex.segmentset import SegmentSet
from chainindex.textindex.segmentstate import OneMerge, SegmentState

__all__ = ["SegmentUpdater"]


class SegmentUpdater:
    """Merges the segments of a :class:`SegmentSet` as ``policy`` asks, on a background
    thread (``background``) or inline in the thread that asks."""

    def __init__(self, segments: SegmentSet, policy: MergePolicy, background: bool) -> None:
        self._set = segments
        self._policy = policy
        self._scheduler = MergeScheduler(self._run_pending) if background else None

    def _register_merges(self) -> int:
        idle = self._set.idle()
        sizes = [
            SegmentSize(s.name, s.reader.max_doc, s.del_count, s.reader.size_bytes()) for s in idle
        ]
        by_name = {s.name: s for s in idle}
        registered = 0
        for group in self._policy(sizes):
            members = [by_name[n] for n in group if n in by_name and not by_name[n].merging]
            if len(members) < 2:
                continue
            self._set.pending_merges.append(self._set.register(members))
            registered += 1
        return registered

    def maybe_merge(self) -> None:
        """Register the merges the policy asks for and get them run."""
        with self._set.mutex:
            if self._set.closed or not self._register_merges():
                return
        if self._scheduler is not None:
            self._scheduler.trigger()
        else:
            self._run_pending(threading.Event())

    def register_all(self) -> OneMerge | None:
        """Under the set's lock: register a merge of every idle segment into one, or ``None``
        when there is nothing to gain (one segment or none, no deletions)."""
        idle = self._set.idle()
        if len(idle) < 2 and not any(s.del_count for s in idle):
            return None
        return self._set.register(idle)

    def _run_pending(self, abort: threading.Event) -> None:
        while not abort.is_set():
            with self._set.mutex:
                if not self._set.pending_merges or self._set.closed:
                    return
                merge = self._set.pending_merges.pop(0)
            self.execute(merge, abort)

    def execute(self, merge: OneMerge, abort: threading.Event) -> None:
        """Run a registered merge in this thread and swap it in (unless aborted)."""
        directory = self._set.directory
        path = directory.file(directory.segment_file(merge.name))
        sources = [
            (s.reader, snap) for s, snap in zip(merge.segments, merge.snapshots, strict=True)
        ]
        total_live = sum(
            s.max_doc if snap is None else int(np.count_nonzero(snap)) for s, snap in sources
        )
        try:
            maps = merge_segments(sources, path, merge.name, abort)[1] if total_live else []
        except MergeAbortedError:
            with self._set.mutex:
                self._set.abandon(merge)
            return
        except BaseException:
            with self._set.mutex:
                self._set.abandon(merge)
            raise
        with self._set.mutex:
            if self._set.closed or abort.is_set():
                self._set.abandon(merge)
                return
            self._set.replace(merge, _merged(merge, path, maps))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until background merges are done; True if they are."""
        if self._scheduler is None:
            return True
        return self._scheduler.wait_idle(timeout)

    @property
    def errors(self) -> list[BaseException]:
        """Errors of background merges that failed (their segments stayed unmerged)."""
        return [] if self._scheduler is None else list(self._scheduler.errors)

    def close(self) -> None:
        """Stop the background thread: a merge in progress aborts at its next checkpoint."""
        if self._scheduler is not None:
            self._scheduler.close()


def _merged(merge: OneMerge, path: Path, maps: list[I64]) -> list[SegmentState]:
    """The merged segment with the deletions its sources got while it ran (none when every
    source document was deleted)."""
    if not maps:
        return []
    reader = SegmentReader(path, merge.name)
    live = np.ones(reader.max_doc, dtype=bool)
    for segment, snapshot, doc_map in zip(merge.segments, merge.snapshots, maps, strict=True):
        if segment.live is None:
            continue
        before = np.ones(segment.reader.max_doc, dtype=bool) if snapshot is None else snapshot
        live[doc_map[before & ~segment.live]] = False
    deleted = int(reader.max_doc - np.count_nonzero(live))
    return [SegmentState(reader, live if deleted else None, 0, deleted, dirty=deleted > 0)]
