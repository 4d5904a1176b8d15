"""Segment merging.

- :mod:`.policy`: which segments to merge (Lucene's ``TieredMergePolicy``, ``LogMergePolicy``);
- :mod:`.merger`: how: segments merged into one (Lucene's ``SegmentMerger``);
- :mod:`.scheduler`: when, in the background (Lucene's ``ConcurrentMergeScheduler``);
- :mod:`.updater`: registering, running and swapping merges into the writer's segments
  (tantivy's ``SegmentUpdater``).
"""

from chainindex.textindex.merge.policy import (
    LogMergePolicy,
    MergePolicy,
    NoMergePolicy,
    SegmentSize,
    TieredMergePolicy,
)

__all__ = ["LogMergePolicy", "MergePolicy", "NoMergePolicy", "SegmentSize", "TieredMergePolicy"]
