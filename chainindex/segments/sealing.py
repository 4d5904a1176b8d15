"""The head store's oldest part sealed into segments as it becomes final (``sync`` on a
data directory that has sealed history).

Once the head store (``DATADIR`` itself) holds a whole segment's worth of sectioned blocks at
or below its final block (the synced head minus ``--confirmations``, and never its head), the
sealer, in three steps, each leaving a directory that opens and answers the same:

1. builds and seals the segment (:func:`~.build.build_segment`, from the upstream: the same
   records as a backfill of the range), and checks its hash links: its first block's parent
   is the last sealed block, its last block is the head store's canonical one (a reorg never
   touches a sealed segment, since only final blocks are sealed);
2. publishes the manifest with it appended (atomically: the old manifest or the new one);
3. drops those blocks from the head store in one write batch (:func:`drop_through`): the
   ``h c n l`` records of the blocks, the ``S B X x`` records of their sections, the ``R``
   rows of groups wholly below, and ``tail``/``sections-first``/``exact-first`` moved up.

A kill between 2 and 3 leaves the manifest ahead of the head store's tail, both holding the
blocks; queries answer the same (the segmented engine takes the head store's range from
it), and :func:`finish_sealing` redoes step 3 before sync starts. A kill during 1 leaves an
unsealed directory that the next build deletes, or a sealed one not listed, which the next
build takes as it is. Like go-ethereum's freezer moving final blocks out of the key-value
store (``core/rawdb/chain_freezer.go``); what differs: the frozen part is a segment store of
the same format, and it is written from the upstream, not copied from the head store.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_typing import BlockNumber

from chainindex.aio import first_error, run_to_completion
from chainindex.errors import SegmentError
from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.manifest import (
    MANIFEST_NAME,
    Manifest,
    SealedSegment,
    check_links,
    read_manifest,
    segment_dir,
    write_json,
)
from chainindex.source import SourceOptions
from chainindex.store import schema
from chainindex.store.exact.keys import counts_key, parse_chunk_key
from chainindex.store.kv import KeyValueStore
from chainindex.store.sections import SectionStore

__all__ = [
    "SEAL_INTERVAL",
    "HeadSealer",
    "drop_through",
    "finish_sealing",
    "keep_sealed",
    "segment_size",
]

log = logging.getLogger("chainindex.segments")

_BITS = 2048
SEAL_INTERVAL = 1.0
"""Seconds between checks for a segment due, while sync runs."""


def _tail(store: KeyValueStore) -> int | None:
    raw = store.get(schema.meta_key(schema.META_TAIL))
    return None if raw is None else schema.decode_block_ref(raw)[0]


def _head(store: KeyValueStore) -> int | None:
    raw = store.get(schema.meta_key(schema.META_HEAD))
    return None if raw is None else schema.decode_block_ref(raw)[0]


def drop_through(store: KeyValueStore, last: int, section_size: int) -> None:
    """Delete the head store's blocks from its tail through ``last`` (the end of a section,
    below its head, every section of them stored) in one write batch (see the module)."""
    tail = _tail(store)
    if tail is None or tail > last:
        return
    if tail % section_size or (last + 1) % section_size:
        raise SegmentError(f"blocks {tail}..{last} are not whole sections")
    head = _head(store)
    sections = SectionStore(store, section_size)
    first_section, end_section = tail // section_size, (last + 1) // section_size
    if head is None or head <= last or sections.count() < end_section:
        raise SegmentError(f"the head store has not sectioned blocks {tail}..{last} yet")
    new_tail = store.get(schema.canonical_hash_key(BlockNumber(last + 1)))
    assert new_tail is not None
    with store.snapshot() as snap, store.batch() as batch:
        for key, _ in snap.iterate(*schema.header_range(tail, last)):
            number, block_hash = schema.parse_header_key(key)
            batch.delete(key)
            batch.delete(schema.hash_to_number_key(block_hash))
            batch.delete(schema.canonical_hash_key(number))
        for key, _ in snap.iterate(*schema.logs_range(tail, last)):
            batch.delete(key)
        for section in range(first_section, end_section):
            batch.delete(schema.section_head_key(section))
            batch.delete(counts_key(section))
        groups_end = end_section // sections.group_size  # groups wholly below: dropped
        for bit in range(_BITS):
            for key, _ in snap.iterate(
                *schema.bloom_bits_range(bit, first_section, end_section - 1)
            ):
                batch.delete(key)
            if groups_end:
                for key, _ in snap.iterate(*schema.bloom_rows_range(bit, 0, groups_end - 1)):
                    batch.delete(key)
        for key, _ in snap.iterate(schema.EXACT_PREFIX, b"y"):
            if first_section <= parse_chunk_key(key)[1] < end_section:
                batch.delete(key)
        batch.put(schema.meta_key(schema.META_TAIL), schema.encode_block_ref(last + 1, new_tail))
        batch.put(schema.meta_key(schema.META_SECTION_FIRST), schema.encode_u64(end_section))
        exact_first = snap.get(schema.meta_key(schema.META_EXACT_FIRST))
        if exact_first is not None and schema.decode_u64(exact_first) < end_section:
            batch.put(schema.meta_key(schema.META_EXACT_FIRST), schema.encode_u64(end_section))


def finish_sealing(store: KeyValueStore, datadir: str | Path, section_size: int) -> None:
    """Redo step 3 of a seal cut short: drop the head store's blocks that the manifest lists
    as sealed (nothing to do without a manifest, or when none overlap)."""
    manifest = read_manifest(datadir)
    tail = _tail(store)
    if manifest is not None and tail is not None and tail <= manifest.last:
        log.info("finishing the seal of blocks %d..%d", tail, manifest.last)
        drop_through(store, manifest.last, section_size)


@dataclass
class HeadSealer:
    """Seals the head store's oldest final blocks into segments (see the module)."""

    datadir: str
    """The data directory (with a manifest: only segmented directories are sealed)."""
    upstream: str
    """The upstream the segments are built from (``--upstream``)."""
    section_size: int
    """Blocks per section."""
    segment_blocks: int
    """Blocks per segment sealed from the head (a multiple of ``section_size``)."""
    confirmations: int = 0
    """Blocks below the head that are not final yet."""
    headers_only: bool = False
    """``--no-logs``."""
    chain_id: int | None = None
    """``--chain-id``."""
    options: SourceOptions = field(default_factory=SourceOptions)
    """How the upstream is talked to."""
    stop_after: int = 3
    """Steps done per seal (tests stop earlier to leave what a kill would)."""

    def due(self, store: KeyValueStore) -> tuple[int, int] | None:
        """The next segment to seal, or None (no manifest, or not enough final blocks): from
        the head store's tail to the next multiple of ``segment_blocks``, as a backfill
        aligns its segments."""
        manifest = read_manifest(self.datadir)
        tail, head = _tail(store), _head(store)
        if manifest is None or tail is None or head is None or tail != manifest.last + 1:
            return None
        last = (tail // self.segment_blocks + 1) * self.segment_blocks - 1
        final = head - self.confirmations
        sectioned = SectionStore(store, self.section_size).count() * self.section_size - 1
        if last > min(final, sectioned) or last >= head:
            return None
        return tail, last

    def publish_next(self, store: KeyValueStore, lock: threading.Lock) -> SealedSegment | None:
        """Steps 1 and 2 of the next seal, if one is due (blocking: run it on a thread): the
        build runs beside sync, the check and the publication under the writer's ``lock``.
        Returns the seal (None: none due); the head store still holds its blocks."""
        with lock:
            span = self.due(store)
        if span is None:
            return None
        task = SegmentTask(
            upstream=self.upstream,
            directory=str(segment_dir(self.datadir, *span)),
            first=span[0],
            last=span[1],
            section_size=self.section_size,
            headers_only=self.headers_only,
            chain_id=self.chain_id,
            options=self.options,
        )
        seal = build_segment(task)  # step 1
        with lock:
            manifest = read_manifest(self.datadir)
            assert manifest is not None
            ours = store.get(schema.canonical_hash_key(BlockNumber(span[1])))
            try:
                check_links([*manifest.segments, seal])
                if ours is None or "0x" + ours.hex() != seal.last_hash:
                    raise SegmentError(
                        f"segment {seal.name} ends at a block the head store does not have "
                        "(a reorg below --confirmations?)"
                    )
            except SegmentError:
                shutil.rmtree(task.directory, ignore_errors=True)
                raise
            if self.stop_after >= 2:
                published = Manifest((*manifest.segments, seal))
                write_json(Path(self.datadir) / MANIFEST_NAME, published.to_json())  # step 2
        return seal

    def drop(self, store: KeyValueStore, lock: threading.Lock, seal: SealedSegment) -> None:
        """Step 3 of a published seal: its blocks dropped from the head store, under the
        writer's ``lock`` (blocking)."""
        with lock:
            drop_through(store, seal.last, self.section_size)
        log.info("sealed blocks %d..%d of the head store into a segment", seal.first, seal.last)

    def seal_one(self, store: KeyValueStore, lock: threading.Lock) -> SealedSegment | None:
        """Seal the next segment if one is due (blocking: run it on a thread): the three
        steps, :meth:`publish_next` then :meth:`drop`. Returns the seal."""
        seal = self.publish_next(store, lock)
        if seal is not None and self.stop_after >= 3:
            self.drop(store, lock, seal)
        return seal

    def seal_due(self, store: KeyValueStore, lock: threading.Lock) -> list[SealedSegment]:
        """Seal every segment that is due; returns their seals."""
        seals = []
        while (seal := self.seal_one(store, lock)) is not None:
            seals.append(seal)
            if self.stop_after < 3:
                break
        return seals


def segment_size(manifest: Manifest) -> int:
    """The segment size of a backfilled history: its longest segment."""
    return max(s.last - s.first + 1 for s in manifest.segments)


async def keep_sealed(
    work: Awaitable[None],
    sealer: HeadSealer,
    store: KeyValueStore,
    lock: threading.Lock,
    started: Callable[[], bool],
) -> None:
    """Await ``work`` (a sync) while sealing what becomes due every :data:`SEAL_INTERVAL`
    seconds once ``started()`` (the sync has checked the directory's tail against its
    settings), then once more at its end."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(SEAL_INTERVAL)
            if started():
                await run_to_completion(sealer.seal_due, store, lock)

    try:
        async with asyncio.TaskGroup() as tasks:
            sealing = tasks.create_task(loop())
            try:
                await work
            finally:
                sealing.cancel()
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    await run_to_completion(sealer.seal_due, store, lock)
