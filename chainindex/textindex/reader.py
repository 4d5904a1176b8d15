"""A point-in-time view of the index: its segments and their live documents.

An :class:`IndexReader` never changes: the writer hands out a new one after flushes,
deletes and merges (near-real-time), and :meth:`IndexReader.open` reads the newest commit
point from disk (what another process, such as ``logfilter search``, sees). Each
:class:`LeafReader` is one segment with the deletions of that moment and its document base
(its first document's number in the whole index).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from chainindex.textindex.arrays import Mask
from chainindex.textindex.codec.livedocs import read_live_docs
from chainindex.textindex.commit import CommitPoint, read_latest_commit
from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import IndexCorruptError, TextIndexError
from chainindex.textindex.segmentreader import SegmentReader

__all__ = ["IndexReader", "LeafReader"]

_OPEN_RETRIES = 5


@dataclass(frozen=True, eq=False)
class LeafReader:
    """One segment as seen by one snapshot."""

    segment: SegmentReader
    """The segment."""
    live: Mask | None
    """Live documents (``None`` = no deletions). Never mutated: deletes make a new array."""
    ord: int
    """Position of the leaf in its reader."""
    doc_base: int
    """Index-wide number of the leaf's document 0."""

    @property
    def max_doc(self) -> int:
        """Documents in the segment, deleted ones included."""
        return self.segment.max_doc

    @cached_property
    def num_docs(self) -> int:
        """Live documents."""
        return self.max_doc if self.live is None else int(np.count_nonzero(self.live))

    def field_stats(self, name: str) -> tuple[int, int]:
        """``(live docs with the field, sum of their field lengths)``."""
        cached = self._stats.get(name)
        if cached is None:
            field_reader = self.segment.field(name)
            cached = (0, 0) if field_reader is None else field_reader.norms.stats(self.live)
            self._stats[name] = cached
        return cached

    _stats: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)


class IndexReader:
    """A snapshot of the whole index."""

    def __init__(self, leaves: list[LeafReader], commit: CommitPoint | None = None) -> None:
        self.leaves = tuple(leaves)
        """The segments, in order."""
        self.commit = commit
        """The commit point this snapshot was opened from, if any."""

    @property
    def max_doc(self) -> int:
        """Documents in all segments, deleted ones included."""
        return sum(leaf.max_doc for leaf in self.leaves)

    @property
    def num_docs(self) -> int:
        """Live documents."""
        return sum(leaf.num_docs for leaf in self.leaves)

    def tokenized(self, name: str) -> bool:
        """True when some segment indexed analyzed text in the field."""
        return name in self._tokenized

    @cached_property
    def _tokenized(self) -> frozenset[str]:
        return frozenset(
            n
            for leaf in self.leaves
            for n in leaf.segment.field_names
            if (leaf.segment.field_info(n) or {}).get("tokenized")
        )

    @cached_property
    def _term_fields(self) -> frozenset[str]:
        return frozenset(n for leaf in self.leaves for n in leaf.segment.field_names)

    @cached_property
    def _point_fields(self) -> frozenset[str]:
        return frozenset(n for leaf in self.leaves for n in leaf.segment.point_names)

    def term_fields(self) -> frozenset[str]:
        """Names of the term fields of any segment."""
        return self._term_fields

    def point_fields(self) -> frozenset[str]:
        """Names of the point fields of any segment."""
        return self._point_fields

    def field_stats(self, name: str) -> tuple[int, int]:
        """``(live docs with the field, total field length)`` over the whole index."""
        docs = total = 0
        for leaf in self.leaves:
            d, t = leaf.field_stats(name)
            docs += d
            total += t
        return docs, total

    @staticmethod
    def open(path: str | Path) -> IndexReader:
        """A reader over the newest commit in ``path`` (retrying if a writer moves on)."""
        directory = Directory(path, create=False)
        last_error: Exception | None = None
        for attempt in range(_OPEN_RETRIES):
            try:
                commit = read_latest_commit(directory)
                if commit is None:
                    return IndexReader([], None)
                return IndexReader(open_leaves(directory, commit), commit)
            except (FileNotFoundError, IndexCorruptError) as err:
                # A concurrent commit may have deleted what the previous one named.
                last_error = err
                time.sleep(0.01 * (attempt + 1))
        if isinstance(last_error, IndexCorruptError):
            raise last_error
        raise TextIndexError(f"cannot open the text index at {path}: {last_error}")


def open_leaves(directory: Directory, commit: CommitPoint) -> list[LeafReader]:
    """Open every segment of a commit with its deletions."""
    leaves = []
    base = 0
    for i, info in enumerate(commit.segments):
        segment = SegmentReader(directory.file(directory.segment_file(info.name)), info.name)
        if segment.max_doc != info.max_doc:
            raise IndexCorruptError(f"segment {info.name} does not match its commit point")
        live = None
        if info.del_gen:
            live = read_live_docs(
                directory.file(directory.live_docs_file(info.name, info.del_gen)), info.max_doc
            )
        leaves.append(LeafReader(segment, live, i, base))
        base += info.max_doc
    return leaves
