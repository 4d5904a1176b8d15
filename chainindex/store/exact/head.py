"""``HeadIndex``: the exact index of the blocks above the last stored section, in memory.

Sections are built only once confirmed, so the newest few thousand blocks have no stored
records; the head index serves them. It reflects one snapshot's canonical chain at a time:
:meth:`HeadIndex.positions` first brings it up to date with the snapshot the query planned on
(:meth:`HeadIndex.sync_to`), under its lock, then answers from it, so a query never mixes the
index of one chain with the blocks of another. Bringing it up to date compares the hashes it
holds with the snapshot's canonical hashes from the top down (a block hash commits to its
ancestors), drops the blocks above the highest one both agree on (a reorg, undone exactly),
drops the blocks now covered by stored sections, and adds the missing ones from their stored
logs records (one range scan). Started empty, the first call builds it from the stored
records; the service also calls :meth:`HeadIndex.sync_to` after each commit, so that queries
seldom do that work.

Entries are kept as ``(fingerprint of the value, position)`` pairs in sorted runs of blocks
of one section (added :data:`RUN_BLOCKS` blocks at a time at most) (12 bytes an entry, the
position relative to the section as in the stored records): a lookup is a binary search per
run. Runs are merged as they come, the newest with the one before while that one is not
larger (a binary counter: O(log n) runs per section). A fingerprint is a 64-bit hash of the
value and its kind; two values that share one only make a log a candidate it should not be,
which verification against the logs turns away.

Memory is about 12 bytes per (value, log) entry of the blocks above the last section: bounded
by the section size plus the confirmations, whatever the chain's length.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from eth_typing import BlockNumber

from chainindex.errors import CorruptDataError
from chainindex.store.exact.extract import SectionEntries, value_fingerprints
from chainindex.store.exact.index import read_records
from chainindex.store.exact.keys import ValueKey
from chainindex.store.exact.positions import PositionLayout
from chainindex.store.kv import KeyValueReader
from chainindex.store.schema import canonical_hash_key

__all__ = ["HeadCoverage", "HeadIndex"]

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

_EMPTY = np.zeros(0, dtype=np.uint64)

RUN_BLOCKS = 256
"""Most blocks added as one run (bounds the memory of building the index at start)."""


@dataclass(slots=True)
class _Run:
    """Entries of blocks ``first..last`` of one section, sorted by fingerprint, position."""

    section: int
    first: int
    last: int
    fps: U64
    positions: U32

    def cut_above(self, block: int, layout: PositionLayout) -> None:
        """Keep only the entries of blocks up to ``block``."""
        limit = (block - self.section * layout.section_size + 1) << layout.log_bits
        keep = self.positions < limit
        self.fps, self.positions = self.fps[keep], self.positions[keep]
        self.last = block

    def cut_below(self, block: int, layout: PositionLayout) -> None:
        """Keep only the entries of blocks from ``block`` on."""
        limit = (block - self.section * layout.section_size) << layout.log_bits
        keep = self.positions >= limit
        self.fps, self.positions = self.fps[keep], self.positions[keep]
        self.first = block


@dataclass(frozen=True, slots=True)
class HeadCoverage:
    """What the head index answered for."""

    first: int
    """First block covered (blocks of the stretch below it would not be: the caller scans
    them; the index reads any it lacks, so this is the stretch's first)."""
    positions: U64
    """Absolute positions of the matching logs of blocks ``first..`` the stretch's end."""


class HeadIndex:
    """The in-memory exact index of the blocks above the stored sections (see the module)."""

    def __init__(self, section_size: int) -> None:
        self.section_size = section_size
        """Blocks per section of the directory."""
        self._layout: PositionLayout | None = None
        self._lock = threading.Lock()
        self._runs: list[_Run] = []
        self._hashes: list[bytes] = []
        """Hash of each block ``base .. top``."""
        self.base = 0
        """First block held."""

    @property
    def layout(self) -> PositionLayout:
        """The directory's position layout."""
        if self._layout is None:
            self._layout = PositionLayout(self.section_size)
        return self._layout

    @property
    def top(self) -> int:
        """Last block held (``base - 1`` when empty)."""
        return self.base + len(self._hashes) - 1

    def summary(self) -> tuple[tuple[int, int] | None, int]:
        """First and last block held (None: none), and the (value, log) entries held."""
        with self._lock:
            span = (self.base, self.top) if self._hashes else None
            return span, sum(len(run.fps) for run in self._runs)

    # --- keeping up with the store ---------------------------------------------------------

    def sync_to(self, reader: KeyValueReader, base: int, head: int) -> int:
        """Make the index hold the canonical blocks ``base..head`` of ``reader`` (a snapshot):
        from the first block above the stored sections to the synced head. Returns the first
        block it holds for that snapshot (``base``)."""
        with self._lock:
            return self._sync(reader, base, head)

    def _sync(self, reader: KeyValueReader, base: int, head: int) -> int:
        layout = self.layout
        agreed = min(self.top, head)
        while agreed >= self.base and not self._agrees(reader, agreed):
            agreed -= 1
        if agreed < min(self.top, head):  # another chain from agreed + 1 on
            self._drop_above(agreed)
        if not self._hashes or self.top < base - 1 or base < self.base:
            # Empty, or nothing to keep: a snapshot wanting blocks below those held (a reorg
            # truncated stored sections; or, with several query threads, a snapshot older
            # than the index) has them all read again.
            self._runs, self._hashes, self.base = [], [], base
        elif base > self.base:
            self._drop_below(base)
        start = self.top + 1
        if start <= head:
            self._add(reader, start, head, layout)
        return max(base, self.base)

    def _agrees(self, reader: KeyValueReader, number: int) -> bool:
        """Whether the index holds the snapshot's canonical block ``number``."""
        stored = reader.get(canonical_hash_key(BlockNumber(number)))
        return stored == self._hashes[number - self.base]

    def _drop_above(self, block: int) -> None:
        layout = self.layout
        kept: list[_Run] = []
        for run in self._runs:
            if run.first > block:
                continue
            if run.last > block:
                run.cut_above(block, layout)
            kept.append(run)
        self._runs = kept
        del self._hashes[max(0, block + 1 - self.base) :]

    def _drop_below(self, block: int) -> None:
        layout = self.layout
        kept: list[_Run] = []
        for run in self._runs:
            if run.last < block:
                continue
            if run.first < block:
                run.cut_below(block, layout)
            kept.append(run)
        self._runs = kept
        del self._hashes[: block - self.base]
        self.base = block

    def _add(self, reader: KeyValueReader, first: int, last: int, layout: PositionLayout) -> None:
        size = layout.section_size
        entries: SectionEntries | None = None
        run_first = first
        expected = first
        for number, block_hash, record in read_records(reader, first, last):
            if number != expected:
                raise CorruptDataError(f"no logs record of block {expected}")
            section = number // size
            if entries is not None and (
                entries.section != section or number - run_first >= RUN_BLOCKS
            ):
                self._append_run(entries, run_first, number - 1)
                entries, run_first = None, number
            if entries is None:
                entries = SectionEntries(layout, section)
            entries.add(number, record)
            self._hashes.append(block_hash)
            expected += 1
        if expected != last + 1:
            raise CorruptDataError(f"no logs record of block {expected}")
        if entries is not None:
            self._append_run(entries, run_first, last)

    def _append_run(self, entries: SectionEntries, first: int, last: int) -> None:
        fps, positions = entries.fingerprints()
        runs = self._runs
        runs.append(_Run(entries.section, first, last, fps, positions))
        while (
            len(runs) >= 2
            and runs[-2].section == runs[-1].section
            and len(runs[-2].fps) <= 2 * len(runs[-1].fps)
        ):
            newer = runs.pop()
            older = runs[-1]
            fps = np.concatenate([older.fps, newer.fps])
            # The newer run's blocks are above the older's: a stable sort by fingerprint
            # keeps each fingerprint's positions ascending.
            order = np.argsort(fps, kind="stable")
            positions = np.concatenate([older.positions, newer.positions])[order]
            runs[-1] = _Run(older.section, older.first, newer.last, fps[order], positions)

    # --- answering ----------------------------------------------------------------------------

    def positions(
        self,
        reader: KeyValueReader,
        groups: list[list[ValueKey]],
        first: int,
        last: int,
        base: int,
    ) -> HeadCoverage:
        """Sync to ``reader`` (blocks ``base..last`` and above as stored; see
        :meth:`sync_to`), then the absolute positions of the logs of blocks ``first..last``
        holding a value of every group (an OR within a group, an AND across them; sparsest
        group first)."""
        head_raw = reader.get(canonical_hash_key(BlockNumber(last)))
        if head_raw is None:
            raise CorruptDataError(f"block {last} is not stored")
        with self._lock:
            covered = max(first, self._sync(reader, base, last))
            lo, hi = self.layout.block_range(covered, last)
            per_group = [self._lookup(values, lo, hi) for values in groups]
        per_group.sort(key=len)
        result = per_group[0] if per_group else _EMPTY
        for other in per_group[1:]:
            if not len(result):
                break
            result = np.intersect1d(result, other, assume_unique=True)
        return HeadCoverage(covered, result)

    def _lookup(self, values: list[ValueKey], lo: int, hi: int) -> U64:
        """Absolute positions in ``[lo, hi)`` of the logs holding any of ``values``."""
        fps = value_fingerprints(values)
        layout = self.layout
        parts: list[U64] = []
        for run in self._runs:
            base = layout.section_base(run.section)
            if (run.last + 1) << layout.log_bits <= lo or run.first << layout.log_bits >= hi:
                continue
            starts = np.searchsorted(run.fps, fps, side="left")
            stops = np.searchsorted(run.fps, fps, side="right")
            for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
                if stop > start:
                    found = run.positions[start:stop].astype(np.uint64) + np.uint64(base)
                    parts.append(found[(found >= lo) & (found < hi)])
        if not parts:
            return _EMPTY
        if len(parts) == 1:
            return parts[0]
        return np.unique(np.concatenate(parts))
