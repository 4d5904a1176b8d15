"""Reading the stored exact index: which logs of a run of sections hold a filter's values.

A filter is a list of groups (the address list, one per topic position with values), each an
OR of values; the groups are ANDed (go-ethereum's ``filterLogs`` rule, without the count of
topics a log must have, which verification applies). Each value's records over the sections
are one range scan. The groups are evaluated sparsest first, as Elasticsearch orders the
clauses of a conjunction by cost (Lucene's ``ConjunctionDISI`` sorts by ``cost()``): the size
of a group's records stands for its cardinality before any is decoded, the sparsest group's
records are decoded, and every other group only in the sections still alive, ANDed section
by section with roaring's operations. The answer is absolute positions
(:mod:`~chainindex.store.exact.positions`), ascending.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from chainindex.store.exact.chunks import decode_chunk
from chainindex.store.exact.keys import ValueKey, chunk_range, parse_chunk_key
from chainindex.store.exact.positions import PositionLayout
from chainindex.store.kv import KeyValueReader

__all__ = ["stored_positions"]

U64 = npt.NDArray[np.uint64]


def _group_records(
    reader: KeyValueReader, values: list[ValueKey], first: int, last: int
) -> tuple[dict[int, list[bytes]], int]:
    """The records of ``values`` in sections ``first..last`` by section, and their bytes."""
    by_section: dict[int, list[bytes]] = defaultdict(list)
    size = 0
    for value in values:
        for key, record in reader.iterate(*chunk_range(value, first, last)):
            by_section[parse_chunk_key(key)[1]].append(record)
            size += len(record)
    return by_section, size


def _union(records: list[bytes], where: str) -> BitMap:
    bitmaps = [decode_chunk(r, where) for r in records]
    return bitmaps[0] if len(bitmaps) == 1 else BitMap.union(*bitmaps)


def stored_positions(
    reader: KeyValueReader,
    layout: PositionLayout,
    groups: list[list[ValueKey]],
    first: int,
    last: int,
) -> U64:
    """Absolute positions of the logs of blocks ``first..last`` (all in stored sections with
    records) holding a value of every group."""
    size = layout.section_size
    s_first, s_last = first // size, last // size
    found = [_group_records(reader, values, s_first, s_last) for values in groups]
    found.sort(key=lambda group: group[1])
    if not found or not found[0][0]:
        return np.zeros(0, dtype=np.uint64)
    where = f"exact index, sections {s_first}..{s_last}"
    alive = {s: _union(records, where) for s, records in found[0][0].items()}
    for by_section, _ in found[1:]:
        narrowed: dict[int, BitMap] = {}
        for section, bitmap in alive.items():
            records = by_section.get(section)
            if records:
                both = bitmap & _union(records, where)
                if both:
                    narrowed[section] = both
        alive = narrowed
        if not alive:
            break
    parts = [
        layout.absolute(section, np.frombuffer(alive[section].to_array(), dtype=np.uint32))
        for section in sorted(alive)
    ]
    if not parts:
        return np.zeros(0, dtype=np.uint64)
    positions = np.concatenate(parts)
    lo, hi = layout.block_range(first, last)
    if (s_first * size < first and len(positions) and positions[0] < lo) or (
        len(positions) and positions[-1] >= hi
    ):
        positions = positions[(positions >= lo) & (positions < hi)]
    return positions
