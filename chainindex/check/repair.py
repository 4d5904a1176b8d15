"""Rebuilding the derived data of a data directory from its primary data.

``logfilter repair`` (:func:`repair_datadir`):

1. check the directory (:func:`~chainindex.check.datadir.check_store`);
2. when LevelDB itself found blocks unreadable, salvage the database first with LevelDB's
   ``RepairDB`` (``plyvel.repair_db``: every table is read again, damaged blocks dropped, a
   new manifest written) and check again: what those blocks held is now missing;
3. bloom sections or exact index damaged: every section from the group holding the first
   damaged one is removed (:func:`rebuild_sections`: vectors, rows, heads and exact-index
   records, found by their key ranges, not by reading them) and built again from the stored
   headers and logs as sync builds them (:meth:`~chainindex.store.writer.ChainWriter.
   build_section`), up to the section count there was;
4. text index damaged: its folder is removed and it is indexed again from the stored logs
   (:meth:`~chainindex.logsearch.feed.TextFeed.catch_up`);
5. check again. Damage of headers or logs stays: only the node can give them again.

go-ethereum rebuilds its bloom-bits sections the same way when a section head no longer
matches (``core/chain_indexer.go``, ``setValidSections`` lowered, then processed again).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import plyvel

from bloombits.bloom import BLOOM_BIT_LENGTH
from chainindex.check.datadir import check_store, open_for_check
from chainindex.check.problems import CheckReport, Problem
from chainindex.check.text import text_index_path
from chainindex.errors import DataDamagedError
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.logsearch.feed import TextFeed
from chainindex.logsearch.index import TextIndex
from chainindex.store import schema
from chainindex.store.damage import EXACT_INDEX, SECTIONS, TEXT_INDEX
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import ChainReader
from chainindex.store.writer import ChainWriter
from chainindex.sync.events import ChainEvents

__all__ = ["RepairOutcome", "rebuild_sections", "rebuild_text_index", "repair_datadir"]

log = logging.getLogger("chainindex.check")

_END = (1 << 64) - 2
"""The highest section or group a key range reaches."""


@dataclass(slots=True)
class RepairOutcome:
    """What a repair did."""

    before: CheckReport
    """The first check."""
    after: CheckReport
    """The check after the repair."""
    salvaged: bool = False
    """Whether LevelDB's RepairDB ran."""
    rebuilt: list[str] = field(default_factory=list)
    """What was rebuilt, in words."""


def _sections_from(problems: list[Problem], size: int) -> int | None:
    """The first section a rebuild must start from (None: sections and index are sound)."""
    damaged = [p for p in problems if p.component in (SECTIONS, EXACT_INDEX)]
    if not damaged:
        return None
    return min((p.first or 0) // size for p in damaged)


def rebuild_sections(store: KeyValueStore, from_section: int) -> tuple[int, int]:
    """Remove every section from the group holding ``from_section`` on, with its exact-index
    records, and build them again from the stored headers and logs; returns the first and
    last section rebuilt."""
    raw = store.get(schema.meta_key(schema.META_SECTION_SIZE))
    if raw is None:
        return from_section, from_section - 1
    writer = ChainWriter(store, schema.decode_u64(raw))
    state = writer.state()
    count, group = state.sections, writer.sections.group_size
    keep = max(state.first_section, from_section // group * group)
    if state.tail is None or keep >= count:
        return keep, keep - 1
    with writer.lock, store.batch() as batch:
        writer.index.truncate(batch, store, keep, count, state.tail)
        for bit in range(BLOOM_BIT_LENGTH):
            for key, _ in store.iterate(*schema.bloom_bits_range(bit, keep, _END)):
                batch.delete(key)
            for key, _ in store.iterate(*schema.bloom_rows_range(bit, keep // group, _END)):
                batch.delete(key)
        start, stop = schema.section_head_key(keep), schema.section_head_key(_END + 1)
        for key, _ in store.iterate(start, stop):
            batch.delete(key)
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(keep))
    confirmed = count * writer.section_size - 1
    while writer.build_section(confirmed) is not None:
        pass
    return keep, count - 1


async def rebuild_text_index(
    store: KeyValueStore, datadir: str | Path, registry: AbiRegistry | None = None
) -> None:
    """Remove the data directory's text index and index the stored logs again."""
    shutil.rmtree(text_index_path(datadir), ignore_errors=True)
    text = TextIndex.in_datadir(datadir, registry=registry or AbiRegistry())
    try:
        await TextFeed(text, ChainReader(store), ChainEvents()).catch_up()
    finally:
        text.close()


async def repair_derived(
    store: KeyValueStore,
    datadir: str | Path,
    problems: list[Problem],
    registry: AbiRegistry | None = None,
) -> list[str]:
    """Rebuild what ``problems`` say is damaged among the derived data; returns what was
    rebuilt, in words."""
    rebuilt: list[str] = []
    raw = store.get(schema.meta_key(schema.META_SECTION_SIZE))
    size = schema.decode_u64(raw) if raw is not None else 1
    first = _sections_from(problems, size)
    if first is not None:
        lo, hi = await asyncio.to_thread(rebuild_sections, store, first)
        if hi >= lo:
            rebuilt.append(
                f"bloom sections and exact index of blocks {lo * size}-{(hi + 1) * size - 1}"
            )
    if any(p.component == TEXT_INDEX for p in problems):
        await rebuild_text_index(store, datadir, registry)
        rebuilt.append("text index")
    for what in rebuilt:
        log.warning("rebuilt the %s from the stored chain", what)
    return rebuilt


def repair_datadir(datadir: str | Path, registry: AbiRegistry | None = None) -> RepairOutcome:
    """Check, salvage LevelDB if it found damaged blocks, rebuild the derived data, check
    again (see the module docstring)."""
    store = open_for_check(datadir)
    try:
        before = check_store(store, datadir)
        report, salvaged = before, False
        if any(p.storage for p in before.problems):
            store.close()
            plyvel.repair_db(str(datadir), paranoid_checks=True)  # drops damaged blocks
            salvaged = True
            store = open_for_check(datadir)
            report = check_store(store, datadir)
        rebuilt: list[str] = []
        if report.derived:
            try:
                rebuilt = asyncio.run(repair_derived(store, datadir, report.problems, registry))
            except DataDamagedError as err:  # primary data under the derived: reported below
                log.warning("rebuild stopped: %s", err)
            report = check_store(store, datadir)
        return RepairOutcome(before, report, salvaged, rebuilt)
    finally:
        store.close()
