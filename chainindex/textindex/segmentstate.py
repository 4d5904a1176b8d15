"""The writer's view of its segments: live docs, deletion generation, merge registration."""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.textindex.arrays import Mask
from chainindex.textindex.segmentreader import SegmentReader

__all__ = ["OneMerge", "SegmentState"]


@dataclass(eq=False)
class SegmentState:
    """The writer's state of one segment."""

    reader: SegmentReader
    """The segment."""
    live: Mask | None
    """Mask documents (``None`` = none deleted); replaced, never mutated, on delete."""
    del_gen: int
    """Generation of the live-docs file the last commit wrote (0 = none)."""
    del_count: int
    """Deleted documents."""
    dirty: bool = False
    """Deletions not yet written to a live-docs file."""
    merging: bool = False
    """Registered in a merge (the policy does not see it again meanwhile)."""

    @property
    def name(self) -> str:
        """The segment's name."""
        return self.reader.name


@dataclass(eq=False)
class OneMerge:
    """A registered merge."""

    segments: list[SegmentState]
    """The segments merged, in index order."""
    snapshots: list[Mask | None]
    """Each source's live docs when the merge was registered."""
    name: str
    """The merged segment's name."""
