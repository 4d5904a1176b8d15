"""``ExactIndexStore``: the exact log index's records in a data directory, written in the
batches of the sections they describe.

* **Coverage.** ``meta/exact-first`` says which sections have records: ``exact-first ..
  sections - 1``. A directory that stores logs gets it with its first sync (the first
  section), so every section it builds has records; a headers-only directory has none. A
  directory migrated from schema version 2 or 3 starts with it at its section count and has
  the sections below built downward (:mod:`~chainindex.store.exact.build`).
* **A section** (:meth:`ExactIndexStore.write_section`): its blocks' logs records are read (one
  range scan: only canonical blocks are stored), their entries grouped by value
  (:mod:`~chainindex.store.exact.extract`), and one record per (fingerprint, section) plus
  the section's ``X`` counts put into the caller's batch, the one that writes the section's
  bloom vectors and count (:func:`write_entries`: records encoded :data:`ENCODE_GROUPS` at a
  time, with numpy).
* **Truncation** (:meth:`ExactIndexStore.truncate`, in a reorg's batch): the records of the
  sections removed are named by the same logs records (their values' fingerprints), still
  stored when the batch is made, and deleted with the ``X`` counts; ``exact-first`` never
  stays above the new section count.

Unlike the bloom vectors (:mod:`chainindex.store.sections`), records are not merged into rows
of a group of sections: a section of a saturated chain has about 500k distinct values, so a
group of 64 would rewrite some 30M records in one batch (gigabytes); and since the section
is the last part of the key, the records of one value are already one range scan, what the
bloom rows buy the vectors. A record covers one section: bounded whatever the chain's length.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from chainindex.errors import CorruptDataError
from chainindex.store import schema
from chainindex.store.codec import LogsColumns, logs_columns
from chainindex.store.exact.chunks import encode_chunk, encode_chunks
from chainindex.store.exact.counts import SectionCounts
from chainindex.store.exact.extract import SectionEntries
from chainindex.store.exact.keys import chunk_key, counts_key, fingerprint
from chainindex.store.exact.positions import PositionLayout
from chainindex.store.kv import KeyValueReader, WriteBatch

__all__ = ["ENCODE_GROUPS", "ExactIndexStore", "read_records", "write_entries"]

ENCODE_GROUPS = 1 << 13
"""Most records encoded at a time (bounds the memory of a section's encoding)."""
ENCODE_POSITIONS = 1 << 17
"""Most positions encoded at a time, unless one record alone has more: the encoding's
temporaries take tens of bytes a position, and a group of records holding a value found in
most logs (a saturated section's ``Transfer``: about a million positions) beside others
cost 142 MiB above the kept entries at the peak of a saturated section's build; 51 MiB
with this bound and the narrow varints of :mod:`~chainindex.store.exact.chunks`
(measured, BENCHMARKS.md)."""


def read_records(
    reader: KeyValueReader, first: int, last: int
) -> Iterator[tuple[int, bytes, LogsColumns]]:
    """``(number, hash, value columns)`` of the stored logs of blocks ``first..last``,
    ascending."""
    for key, value in reader.iterate(*schema.logs_range(first, last)):
        number, block_hash = schema.parse_logs_key(key)
        yield number, block_hash, logs_columns(value, f"logs of block {number}")


class ExactIndexStore:
    """Reads the coverage of, writes and truncates the exact index of one data directory."""

    def __init__(self, section_size: int) -> None:
        self.section_size = section_size
        """Blocks per section."""
        self._layout: PositionLayout | None = None

    @property
    def layout(self) -> PositionLayout:
        """Position layout (built on first use: a section size too large for positions is a
        ConfigError only for a directory that has an index)."""
        if self._layout is None:
            self._layout = PositionLayout(self.section_size)
        return self._layout

    def first(self, reader: KeyValueReader) -> int | None:
        """First section with records (None: the directory has no exact index)."""
        raw = reader.get(schema.meta_key(schema.META_EXACT_FIRST))
        return None if raw is None else schema.decode_u64(raw)

    def start(self, batch: WriteBatch, first_section: int) -> None:
        """Give a new directory that stores logs its index, from its first section."""
        _ = self.layout  # refuse a section size positions cannot address, before any write
        batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(first_section))

    def entries(self, reader: KeyValueReader, section: int, tail: int) -> SectionEntries:
        """The entries of the stored logs of ``section``'s blocks (from ``tail`` on)."""
        size = self.section_size
        first, last = max(section * size, tail), (section + 1) * size - 1
        entries = SectionEntries(self.layout, section)
        expected = first
        for number, _, record in read_records(reader, first, last):
            if number != expected:
                raise CorruptDataError(f"section {section}: no logs record of block {expected}")
            entries.add(number, record)
            expected += 1
        if expected != last + 1:
            raise CorruptDataError(f"section {section}: no logs record of block {expected}")
        return entries

    def write_section(
        self, batch: WriteBatch, reader: KeyValueReader, section: int, tail: int
    ) -> int:
        """Add ``section``'s records to ``batch`` (built from its stored logs); returns how
        many ``x`` records."""
        return write_entries(batch, self.entries(reader, section, tail))

    def truncate(
        self, batch: WriteBatch, reader: KeyValueReader, keep: int, count: int, tail: int
    ) -> None:
        """Add to ``batch`` the removal of the records of sections ``keep .. count - 1``
        (``reader`` still holding their blocks' logs, which name the keys), and lower
        ``exact-first`` to ``keep`` if it is above."""
        first = self.first(reader)
        if first is None:
            return
        for section in range(max(keep, first), count):
            keys, _, _ = self.entries(reader, section, tail).value_groups()
            for fp in {fingerprint(key) for key in keys}:
                batch.delete(chunk_key(fp, section))
            batch.delete(counts_key(section))
        if first > keep:
            batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(keep))


def write_entries(batch: WriteBatch, entries: SectionEntries) -> int:
    """Put the records of a whole section's ``entries`` into ``batch``: one ``x`` record per
    fingerprint (values sharing one merged: a collision only adds candidates) and the ``X``
    record of its log counts; returns how many ``x`` records. Consumes the entries."""
    section = entries.section
    counts = SectionCounts(entries.layout, section, entries.counts)
    keys, positions, bounds = entries.value_stream()
    groups = len(bounds) - 1
    fps = np.fromiter((fingerprint(key) for key in keys), dtype=np.uint64, count=groups)
    positions = entries.dense(positions)
    merged = _shared_fingerprints(fps)
    edges = bounds.tolist()
    lo = 0
    while lo < groups:
        limit = int(np.searchsorted(bounds, edges[lo] + ENCODE_POSITIONS, side="right")) - 1
        hi = min(lo + ENCODE_GROUPS, groups, max(lo + 1, limit))
        part = bounds[lo : hi + 1]
        records = encode_chunks(positions[edges[lo] : edges[hi]], part - part[0])
        for fp, record in zip(fps[lo:hi].tolist(), records, strict=True):
            if fp not in merged:
                batch.put(chunk_key(fp, section), record)
        lo = hi
    for fp, members in merged.items():
        union = np.unique(
            np.concatenate([positions[edges[i] : edges[i + 1]] for i in members])
        ).astype(np.uint32)
        batch.put(chunk_key(fp, section), encode_chunk(union))
    batch.put(counts_key(section), counts.encode())
    return groups - sum(len(m) - 1 for m in merged.values())


def _shared_fingerprints(fps: npt.NDArray[np.uint64]) -> dict[int, list[int]]:
    """Each fingerprint that several groups share, with those groups in order."""
    order = np.argsort(fps, kind="stable")
    ordered = fps[order]
    merged: dict[int, list[int]] = {}
    for at in np.flatnonzero(ordered[1:] == ordered[:-1]).tolist():
        fp = int(ordered[at])
        merged.setdefault(fp, [int(order[at])]).append(int(order[at + 1]))
    return merged
