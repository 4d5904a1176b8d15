"""Segment merging: policies (which), the merger (how), the scheduler (when, in background)."""

from chainindex.textindex.merge.policy import (
    LogMergePolicy,
    MergePolicy,
    NoMergePolicy,
    SegmentSize,
    TieredMergePolicy,
)

__all__ = ["LogMergePolicy", "MergePolicy", "NoMergePolicy", "SegmentSize", "TieredMergePolicy"]
