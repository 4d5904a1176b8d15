"""Building the exact index of sections stored before it existed: the migration of a
schema-2 directory, and ``logfilter build-index``.

The migration step (:func:`mark_unbuilt`, run in the batch that restamps the directory) sets
``exact-first`` to the section count: sections synced from then on get their records as
usual, and :func:`build_next` builds the ones below, downward, one section per batch that also
lowers ``exact-first`` past it. The index thus always covers one unbroken run of sections,
``exact-first .. sections - 1``, and a ``kill -9`` loses at most the section being built;
the query path uses the bloom sections below ``exact-first`` meanwhile.

go-ethereum's FilterMaps indexer likewise fills its history backwards from the head
(``core/filtermaps/indexer.go``, ``tailTarget``) while new blocks keep being indexed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.store import schema
from chainindex.store.exact.index import ExactIndexStore
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch

__all__ = ["BuildProgress", "build_next", "mark_unbuilt", "pending_sections"]


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """What one step of the build did."""

    section: int
    """The section built."""
    left: int
    """Sections still to build below it."""
    records: int
    """Records written for it."""


def _u64(reader: KeyValueReader, name: str) -> int | None:
    raw = reader.get(schema.meta_key(name))
    return None if raw is None else schema.decode_u64(raw)


def mark_unbuilt(reader: KeyValueReader, batch: WriteBatch) -> None:
    """Migration step 2 → 3: a directory that stores logs gets an index covering no section
    yet (``exact-first`` at its section count), to be built downward."""
    if reader.get(schema.meta_key(schema.META_TAIL)) is None:
        return  # nothing synced: the first sync starts the index
    if reader.get(schema.meta_key(schema.META_HEADERS_ONLY)) == b"\x01":
        return
    count = _u64(reader, schema.META_SECTION_COUNT) or 0
    batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(count))


def pending_sections(reader: KeyValueReader) -> int:
    """Sections below ``exact-first`` still to build (0 without an index)."""
    first = _u64(reader, schema.META_EXACT_FIRST)
    if first is None:
        return 0
    return max(0, first - (_u64(reader, schema.META_SECTION_FIRST) or 0))


def build_next(kv: KeyValueStore, index: ExactIndexStore) -> BuildProgress | None:
    """Build the section just below ``exact-first`` in one batch; None when none is left.
    The caller serialises this with the directory's other writes (a reorg may truncate the
    sections concerned)."""
    exact_first = index.first(kv)
    if exact_first is None:
        return None
    first_section = _u64(kv, schema.META_SECTION_FIRST) or 0
    tail_raw = kv.get(schema.meta_key(schema.META_TAIL))
    if exact_first <= first_section or tail_raw is None:
        return None
    tail = schema.decode_block_ref(tail_raw)[0]
    section = exact_first - 1
    with kv.batch() as batch:
        records = index.write_section(batch, kv, section, tail)
        batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(section))
    return BuildProgress(section, section - first_section, records)
