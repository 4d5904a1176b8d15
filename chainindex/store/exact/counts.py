"""The ``X`` record of a section: how many logs each of its blocks holds, which turns the
dense positions of the section's ``x`` records back into blocks and log indexes.

A record's positions are dense within its section: the i-th log of the section (blocks in
order, logs in block order) is position ``i`` (:mod:`~chainindex.store.exact.chunks`). The
``X`` record keeps the section's per-block log counts (``section_size`` u32 little-endian;
blocks below the first synced one count 0), 4 bytes a block; their running sum says where
each block's logs start. :meth:`SectionCounts.absolute` maps dense positions to the absolute
``block << log_bits | log index`` of :mod:`~chainindex.store.exact.positions`, which the
query path and the head index use.

Dense positions are what make the records small: format 3 put the block offset in the high
bits of a position, so a common value's positions were spread over a 2^32 space and roaring
kept one container per block; dense, they are neighbours, and a value's gaps are as small as
its frequency allows. go-ethereum's FilterMaps (EIP-7745) likewise number logs densely, with
a map from block to its first log index.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chainindex.errors import CorruptDataError
from chainindex.store.exact.positions import PositionLayout

__all__ = ["SectionCounts"]

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


class SectionCounts:
    """One section's per-block log counts (the ``X`` record)."""

    def __init__(self, layout: PositionLayout, section: int, counts: U32) -> None:
        if len(counts) != layout.section_size:
            raise ValueError(f"{len(counts)} counts for a section of {layout.section_size}")
        self.layout = layout
        """The directory's position layout."""
        self.section = section
        """The section described."""
        self.counts = counts
        """Logs of each block of the section, by offset."""
        starts: I64 = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        self.starts = starts
        """Dense position of each block's first log; the last item is the section's logs."""

    @property
    def total(self) -> int:
        """Logs of the section."""
        return int(self.starts[-1])

    def encode(self) -> bytes:
        """The stored form."""
        return self.counts.astype("<u4").tobytes()

    @classmethod
    def decode(cls, layout: PositionLayout, section: int, raw: bytes | None) -> SectionCounts:
        """The record ``raw`` of ``section``; a missing or malformed one is CorruptDataError."""
        if raw is None:
            raise CorruptDataError(f"exact index: section {section} has no log counts record")
        if len(raw) != 4 * layout.section_size:
            raise CorruptDataError(
                f"exact index: log counts record of section {section} has {len(raw)} bytes, "
                f"expected {4 * layout.section_size}"
            )
        counts = np.frombuffer(raw, dtype="<u4").astype(np.uint32, copy=False)
        return cls(layout, section, counts)

    def absolute(self, dense: U32) -> U64:
        """Absolute positions of the section's dense positions ``dense`` (ascending); one
        beyond the section's logs is CorruptDataError."""
        if not len(dense):
            return np.zeros(0, dtype=np.uint64)
        if int(dense[-1]) >= self.total:
            raise CorruptDataError(
                f"exact index: position {int(dense[-1])} beyond the {self.total} logs of "
                f"section {self.section}"
            )
        positions = dense.astype(np.int64)
        offsets = np.searchsorted(self.starts, positions, side="right") - 1
        logs = positions - self.starts[offsets]
        blocks = offsets + self.section * self.layout.section_size
        out: U64 = (blocks.astype(np.uint64) << np.uint64(self.layout.log_bits)) | logs.astype(
            np.uint64
        )
        return out
