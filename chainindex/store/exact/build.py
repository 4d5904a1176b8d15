"""Building the exact index of sections stored without it: the migration of a schema-2
directory (no index) or a schema-3 one (the index in format 3), and ``logfilter build-index``.

The migration step (:func:`mark_unbuilt` from version 2, :func:`mark_rebuild` from version
3, run in the batch that restamps the directory) sets ``exact-first`` to the section count:
sections synced from then on get their records as usual, and :func:`build_next` builds the
ones below, downward, one section per batch that also lowers ``exact-first`` past it. The
index thus always covers one unbroken run of sections, ``exact-first .. sections - 1``, and a
``kill -9`` loses at most the section being built; the query path uses the bloom sections
below ``exact-first`` meanwhile.

From version 3, the format-3 ``x`` keys (30 or 42 bytes, under ``x`` followed by a kind byte
0..4) are deleted first, :data:`PURGE_KEYS` per batch, each batch recording the last key it
deleted in ``meta/exact-purge`` (so a ``kill -9`` resumes after it); the marker goes with the
last batch, and the build starts. Format-4 keys (13 bytes) written meanwhile by sync are left
alone.

go-ethereum's FilterMaps indexer likewise fills its history backwards from the head
(``core/filtermaps/indexer.go``, ``tailTarget``) while new blocks keep being indexed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.store import schema
from chainindex.store.exact.index import ExactIndexStore
from chainindex.store.exact.keys import KEY_LENGTH, KINDS
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch

__all__ = [
    "PURGE_KEYS",
    "BuildProgress",
    "build_next",
    "mark_rebuild",
    "mark_unbuilt",
    "pending_sections",
    "purge_pending",
]

PURGE_KEYS = 20_000
"""Format-3 keys deleted per batch of a migration from schema version 3."""

_OLD_FIRST = schema.EXACT_PREFIX + bytes([0])
_OLD_STOP = schema.EXACT_PREFIX + bytes([KINDS])


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """What one step of the build did."""

    section: int
    """The section built (-1 for a step that deleted format-3 keys)."""
    left: int
    """Sections still to build below it."""
    records: int
    """Records written for it."""
    purged: int = 0
    """Format-3 keys deleted by this step."""


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


def mark_rebuild(reader: KeyValueReader, batch: WriteBatch) -> None:
    """Migration step 3 → 4: a directory with a format-3 index has its keys marked for
    deletion and its index covering no section (``exact-first`` at the section count), to be
    rebuilt downward in format 4 once they are gone."""
    if reader.get(schema.meta_key(schema.META_EXACT_FIRST)) is None:
        return  # no index (headers only, nothing synced, or a version-2 directory migrating)
    count = _u64(reader, schema.META_SECTION_COUNT) or 0
    batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(count))
    batch.put(schema.meta_key(schema.META_EXACT_PURGE), b"")


def purge_pending(reader: KeyValueReader) -> bool:
    """Whether format-3 keys are still to delete."""
    return reader.get(schema.meta_key(schema.META_EXACT_PURGE)) is not None


def pending_sections(reader: KeyValueReader) -> int:
    """Sections below ``exact-first`` still to build (0 without an index)."""
    first = _u64(reader, schema.META_EXACT_FIRST)
    if first is None:
        return 0
    return max(0, first - (_u64(reader, schema.META_SECTION_FIRST) or 0))


def _purge_step(kv: KeyValueStore, left: int) -> BuildProgress:
    """Delete the next :data:`PURGE_KEYS` format-3 keys in one batch."""
    marker = schema.meta_key(schema.META_EXACT_PURGE)
    after = kv.get(marker) or b""
    start = after + b"\x00" if after else _OLD_FIRST
    deleted = 0
    last = b""
    with kv.batch() as batch:
        for key, _ in kv.iterate(start, _OLD_STOP):
            if len(key) == KEY_LENGTH:
                continue  # format 4, written since the migration
            batch.delete(key)
            deleted += 1
            last = key
            if deleted == PURGE_KEYS:
                break
        if deleted == PURGE_KEYS:
            batch.put(marker, last)
        else:
            batch.delete(marker)
    return BuildProgress(-1, left, 0, deleted)


def build_next(kv: KeyValueStore, index: ExactIndexStore) -> BuildProgress | None:
    """Delete the next format-3 keys if any are left, else build the section just below
    ``exact-first``; one batch either way; None when nothing is left. The caller serialises
    this with the directory's other writes (a reorg may truncate the sections concerned)."""
    exact_first = index.first(kv)
    if exact_first is None:
        return None
    first_section = _u64(kv, schema.META_SECTION_FIRST) or 0
    if purge_pending(kv):
        return _purge_step(kv, max(0, exact_first - first_section))
    tail_raw = kv.get(schema.meta_key(schema.META_TAIL))
    if exact_first <= first_section or tail_raw is None:
        return None
    tail = schema.decode_block_ref(tail_raw)[0]
    section = exact_first - 1
    with kv.batch() as batch:
        records = index.write_section(batch, kv, section, tail)
        batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(section))
    return BuildProgress(section, section - first_section, records)
