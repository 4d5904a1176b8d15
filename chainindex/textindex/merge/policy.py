"""Merge policies: which segments to merge, as plain callables (Lucene's
``MergePolicy``).

A policy takes the writer's segments (in index order, with their sizes and deletions) that
are not already being merged, and returns groups of segment names to merge, each group into
one new segment. Two are provided, after Lucene's defaults:

- :class:`TieredMergePolicy`: budgets a number of segments per size tier; when there are more
  than the budget allows, picks the cheapest merge of up to ``max_merge_at_once`` segments of
  similar size (not necessarily adjacent), scored by skew (how lopsided the merge is), size,
  and the share of deleted documents it reclaims; segments with many deletions are merged
  sooner.
- :class:`LogMergePolicy`: groups adjacent segments into levels by the logarithm of their
  size and merges ``merge_factor`` adjacent segments of the same level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["LogMergePolicy", "MergePolicy", "NoMergePolicy", "SegmentSize", "TieredMergePolicy"]


@dataclass(frozen=True, slots=True)
class SegmentSize:
    """What a policy knows of a segment."""

    name: str
    max_doc: int
    del_count: int
    size_bytes: int

    @property
    def live_bytes(self) -> float:
        """Size discounted by the share of deleted documents."""
        if self.max_doc == 0:
            return 0.0
        return self.size_bytes * (1 - self.del_count / self.max_doc)


MergePolicy = Callable[[Sequence[SegmentSize]], list[list[str]]]
"""A merge policy: segments in, groups of names to merge out."""


def NoMergePolicy(segments: Sequence[SegmentSize]) -> list[list[str]]:  # noqa: N802
    """Never merge."""
    return []


@dataclass(frozen=True)
class TieredMergePolicy:
    """Lucene's TieredMergePolicy, simplified (see the module docstring)."""

    segments_per_tier: int = 10
    max_merge_at_once: int = 10
    max_merged_segment_bytes: int = 5 << 30
    floor_segment_bytes: int = 2 << 20
    deletes_pct_allowed: float = 33.0

    def _allowed_count(self, sizes: list[float]) -> int:
        total = sum(sizes)
        level = max(min(sizes), self.floor_segment_bytes)
        allowed = 0
        while True:
            count = total / level
            if count < self.segments_per_tier:
                allowed += math.ceil(count)
                break
            allowed += self.segments_per_tier
            total -= self.segments_per_tier * level
            level *= self.max_merge_at_once
        return max(allowed, self.segments_per_tier)

    def _score(self, group: list[SegmentSize]) -> float:
        sizes = [max(s.live_bytes, self.floor_segment_bytes) for s in group]
        total = sum(sizes)
        skew = max(sizes) / total if len(group) > 1 else 1.0
        before = sum(s.size_bytes for s in group) or 1
        after = sum(s.live_bytes for s in group)
        reclaim = (after / before) ** 2
        return skew * math.pow(total, 0.05) * reclaim

    def __call__(self, segments: Sequence[SegmentSize]) -> list[list[str]]:
        eligible = sorted(
            (s for s in segments if s.live_bytes <= self.max_merged_segment_bytes / 2),
            key=lambda s: s.live_bytes,
            reverse=True,
        )
        merges: list[list[str]] = []
        if len(eligible) < 2:
            return merges
        allowed = self._allowed_count([max(s.live_bytes, 1.0) for s in eligible])
        deleted_heavy = any(
            s.max_doc and 100 * s.del_count / s.max_doc > self.deletes_pct_allowed for s in eligible
        )
        while len(eligible) > allowed or (deleted_heavy and len(eligible) >= 2):
            best: list[SegmentSize] | None = None
            best_score = math.inf
            for start in range(len(eligible) - 1):
                group: list[SegmentSize] = []
                total = 0.0
                for s in eligible[start:]:
                    if len(group) == self.max_merge_at_once:
                        break
                    if total + s.live_bytes > self.max_merged_segment_bytes:
                        continue
                    group.append(s)
                    total += s.live_bytes
                if len(group) < 2:
                    continue
                score = self._score(group)
                if score < best_score:
                    best, best_score = group, score
            if best is None:
                break
            merges.append([s.name for s in best])
            chosen = {s.name for s in best}
            eligible = [s for s in eligible if s.name not in chosen]
            deleted_heavy = False
        return merges


@dataclass(frozen=True)
class LogMergePolicy:
    """Lucene's LogByteSizeMergePolicy, simplified (see the module docstring)."""

    merge_factor: int = 10
    min_merge_bytes: int = 1 << 20
    max_merge_bytes: int = 2 << 30
    level_log_span: float = 0.75

    def __call__(self, segments: Sequence[SegmentSize]) -> list[list[str]]:
        logs = math.log(self.merge_factor)
        levels = [math.log(max(s.live_bytes, self.min_merge_bytes, 1.0)) / logs for s in segments]
        merges: list[list[str]] = []
        start = 0
        n = len(segments)
        while start < n:
            top = max(levels[start:])
            floor = top - self.level_log_span
            upto = max(i for i in range(start, n) if levels[i] >= floor)
            first = start
            while first + self.merge_factor <= upto + 1:
                group = segments[first : first + self.merge_factor]
                if all(s.live_bytes < self.max_merge_bytes for s in group):
                    merges.append([s.name for s in group])
                first += self.merge_factor
            start = upto + 1
        return merges
