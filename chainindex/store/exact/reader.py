"""Reading the stored exact index: which logs of a run of sections hold a filter's values.

A filter is a list of groups (the address list, one per topic position with values), each an
OR of values; the groups are ANDed (go-ethereum's ``filterLogs`` rule, without the count of
topics a log must have, which verification applies). Each value's records over the sections
are one range scan. The groups are evaluated sparsest first, as Elasticsearch orders the
clauses of a conjunction by cost (Lucene's ``ConjunctionDISI`` sorts by ``cost()``): the size
of a group's records stands for its cardinality before any is decoded, the sparsest group's
records are decoded, and every other group only in the sections still alive, ANDed section
by section with roaring's operations, on the dense positions of the records; the surviving
sections' ``X`` records (:mod:`~chainindex.store.exact.counts`) then turn them into absolute
positions (:mod:`~chainindex.store.exact.positions`), ascending. A value is found by its
fingerprint (:mod:`~chainindex.store.exact.keys`): a fingerprint shared with another value
only adds candidates. Decoded bitmaps of values in repeated use are kept by an
:class:`~chainindex.store.exact.cache.ExactBitmapCache` when one is given.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
from pyroaring import AbstractBitMap, BitMap

from chainindex.store.exact.cache import ExactBitmapCache
from chainindex.store.exact.chunks import decode_chunk
from chainindex.store.exact.counts import SectionCounts
from chainindex.store.exact.keys import (
    ValueKey,
    chunk_range,
    counts_key,
    fingerprint,
    parse_chunk_key,
)
from chainindex.store.exact.positions import PositionLayout
from chainindex.store.kv import KeyValueReader

__all__ = ["stored_positions"]

U64 = npt.NDArray[np.uint64]


def _group_records(
    reader: KeyValueReader, values: list[ValueKey], first: int, last: int
) -> tuple[dict[int, list[tuple[int, bytes]]], int]:
    """The records of ``values`` in sections ``first..last`` by section (with their
    fingerprints), and their bytes."""
    by_section: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    size = 0
    for fp in sorted({fingerprint(v) for v in values}):
        for key, record in reader.iterate(*chunk_range(fp, first, last)):
            by_section[parse_chunk_key(key)[1]].append((fp, record))
            size += len(record)
    return by_section, size


def _union(
    records: list[tuple[int, bytes]], section: int, where: str, cache: ExactBitmapCache | None
) -> AbstractBitMap:
    bitmaps = [
        cache.decode(fp, section, r, where) if cache is not None else decode_chunk(r, where)
        for fp, r in records
    ]
    return bitmaps[0] if len(bitmaps) == 1 else BitMap.union(*bitmaps)


def stored_positions(
    reader: KeyValueReader,
    layout: PositionLayout,
    groups: list[list[ValueKey]],
    first: int,
    last: int,
    cache: ExactBitmapCache | None = None,
) -> U64:
    """Absolute positions of the logs of blocks ``first..last`` (all in stored sections with
    records) holding a value of every group (a value sharing another's fingerprint may add
    logs that do not hold it: verification turns them away). ``cache``, when given, keeps the
    decoded bitmaps of values queries keep using."""
    size = layout.section_size
    s_first, s_last = first // size, last // size
    if cache is not None:
        cache.begin_query({fingerprint(v) for values in groups for v in values})
    found = [_group_records(reader, values, s_first, s_last) for values in groups]
    found.sort(key=lambda group: group[1])
    if not found or not found[0][0]:
        return np.zeros(0, dtype=np.uint64)
    where = f"exact index, sections {s_first}..{s_last}"
    alive = {s: _union(records, s, where, cache) for s, records in found[0][0].items()}
    for by_section, _ in found[1:]:
        narrowed: dict[int, AbstractBitMap] = {}
        for section, bitmap in alive.items():
            records = by_section.get(section)
            if records:
                both = bitmap & _union(records, section, where, cache)
                if both:
                    narrowed[section] = both
        alive = narrowed
        if not alive:
            break
    parts = []
    for section in sorted(alive):
        counts = SectionCounts.decode(layout, section, reader.get(counts_key(section)))
        dense = np.frombuffer(alive[section].to_array(), dtype=np.uint32)
        parts.append(counts.absolute(dense))
    if not parts:
        return np.zeros(0, dtype=np.uint64)
    positions = np.concatenate(parts)
    lo, hi = layout.block_range(first, last)
    if (s_first * size < first and len(positions) and positions[0] < lo) or (
        len(positions) and positions[-1] >= hi
    ):
        positions = positions[(positions >= lo) & (positions < hi)]
    return positions
