"""The write side of the chain store: :class:`ChainWriter`, used only by the indexer.

Every method is one atomic, synced LevelDB batch, and every state between two batches is one
the indexer can resume from after ``kill -9``:

* :meth:`ChainWriter.append`: blocks extending the head, their canonical hashes, logs and the
  new head together (the first append also fixes tail, chain id and mode);
* :meth:`ChainWriter.reorg`: blocks above the common ancestor deleted, sections whose last
  block is above it truncated, the replacement blocks written and the head moved, together;
* :meth:`ChainWriter.build_section`: one section's 2048 vectors, its head and the section
  count, together, with the section's exact-index records when the directory stores logs
  (sections are derived from stored headers and logs, so a section missing after a crash is
  simply built at the next start); the records come from the entries the writer kept while
  appending the section's blocks (:mod:`chainindex.store.exact.pending`), or from the stored
  logs when it did not see them all;
* :meth:`ChainWriter.build_index_step`: the exact-index records of one section stored before
  the index existed (a migrated directory), built downward
  (:mod:`chainindex.store.exact.build`).

A reorg's batch also deletes the exact-index records of the sections it truncates.

Calls block; the indexer runs them in worker threads, serialised by the writer's lock (the
index build runs beside sync). There is one writer per data directory (LevelDB's lock
guarantees it across processes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from eth_typing import BlockNumber, Hash32

from bloombits.generator import Generator
from chainindex.errors import (
    ChainMismatchError,
    ConfigMismatchError,
    CorruptDataError,
    ExactIndexError,
    SyncError,
)
from chainindex.store import schema
from chainindex.store.codec import decode_logs, encode_logs
from chainindex.store.damage import LOGS, damage
from chainindex.store.exact.build import BuildProgress, build_next
from chainindex.store.exact.index import ExactIndexStore, write_entries
from chainindex.store.exact.pending import PendingEntries
from chainindex.store.headerrecord import encode_header
from chainindex.store.kv import KeyValueStore, WriteBatch
from chainindex.store.reader import ChainState, ChainView
from chainindex.store.sections import SectionStore
from chainindex.types import Block, Header

__all__ = [
    "ChainWriter",
    "set_chain_id",
]


class ChainWriter:
    """Appends, reorganises and builds sections in one data directory."""

    def __init__(self, store: KeyValueStore, section_size: int) -> None:
        """Bind to ``store``; fails with ConfigMismatchError if it has another section size."""
        self.store = store
        """The underlying store."""
        self.sections = SectionStore(store, section_size)
        """The bloom sections (fixes or checks the section size)."""
        self.index = ExactIndexStore(section_size)
        """The exact log index's records."""
        self.pending = PendingEntries(self.index.layout)
        """Index entries of the blocks appended since the last stored section."""
        self.lock = threading.Lock()
        """Held by every write (and the reads it depends on)."""

    @property
    def section_size(self) -> int:
        """Blocks per section."""
        return self.sections.section_size

    def state(self) -> ChainState:
        """The synced state (the writer is the only writer: no snapshot needed)."""
        return ChainView(self.store, self.sections).state()

    def check_config(self, *, chain_id: int | None, headers_only: bool, tail: int | None) -> None:
        """Refuse to continue a directory synced from another chain or in another mode.

        ``tail`` is the ``--from-block`` asked for, if any.
        """
        state = self.state()
        if chain_id is not None and state.chain_id is not None and chain_id != state.chain_id:
            raise ChainMismatchError(
                f"the data directory indexes chain {state.chain_id}, "
                f"the upstream is chain {chain_id}"
            )
        if state.tail is None:
            return
        if headers_only != state.headers_only:
            mode = "headers only (--no-logs)" if state.headers_only else "with logs"
            raise ConfigMismatchError(
                f"the data directory was synced {mode}; run sync with the same mode"
            )
        if tail is not None and tail != state.tail:
            raise ConfigMismatchError(
                f"the data directory starts at block {state.tail}, not {tail} (--from-block)"
            )

    def _put_blocks(self, batch: WriteBatch, blocks: Sequence[Block]) -> list[tuple[int, bytes]]:
        """Put ``blocks`` into ``batch``; returns their encoded logs records."""
        records: list[tuple[int, bytes]] = []
        for block in blocks:
            h = block.header
            batch.put(schema.header_key(h.number, h.hash), encode_header(h))
            batch.put(schema.canonical_hash_key(h.number), h.hash)
            batch.put(schema.hash_to_number_key(h.hash), schema.encode_u64(h.number))
            if block.logs is not None:
                record = encode_logs(block.logs)
                batch.put(schema.logs_key(h.number, h.hash), record)
                records.append((h.number, record))
        return records

    def _keep_entries(self, records: list[tuple[int, bytes]]) -> None:
        """Hand the logs records just written to the pending entries of the exact index."""
        if not records or self.index.first(self.store) is None:
            return
        for number, record in records:
            try:
                self.pending.add(number, record)
            except ExactIndexError:  # the section is built from its logs, which says why
                self.pending.drop_from(number)

    def append(
        self,
        blocks: Sequence[Block],
        *,
        chain_id: int | None = None,
        headers_only: bool = False,
    ) -> None:
        """Store ``blocks``, which must extend the synced head (or start the chain)."""
        if not blocks:
            return
        with self.lock:
            self._append(blocks, chain_id=chain_id, headers_only=headers_only)

    def _append(self, blocks: Sequence[Block], *, chain_id: int | None, headers_only: bool) -> None:
        first = blocks[0].header
        state = self.state()
        with self.store.batch() as batch:
            if state.head is None:
                self._start(batch, first, chain_id=chain_id, headers_only=headers_only)
            elif first.number != state.head.number + 1 or first.parent_hash != state.head.hash:
                raise SyncError(
                    f"block {first.number} does not extend the synced head {state.head.number}"
                )
            records = self._put_blocks(batch, blocks)
            last = blocks[-1].header
            batch.put(
                schema.meta_key(schema.META_HEAD), schema.encode_block_ref(last.number, last.hash)
            )
        self._keep_entries(records)

    def _start(
        self, batch: WriteBatch, first: Header, *, chain_id: int | None, headers_only: bool
    ) -> None:
        """Fix the directory's chain: tail, chain id, mode and first section."""
        batch.put(
            schema.meta_key(schema.META_TAIL), schema.encode_block_ref(first.number, first.hash)
        )
        if chain_id is not None:
            batch.put(schema.meta_key(schema.META_CHAIN_ID), schema.encode_u64(chain_id))
        batch.put(schema.meta_key(schema.META_HEADERS_ONLY), b"\x01" if headers_only else b"\x00")
        first_section = schema.encode_u64(first.number // self.section_size)
        batch.put(schema.meta_key(schema.META_SECTION_FIRST), first_section)
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), first_section)
        if not headers_only:
            self.index.start(batch, first.number // self.section_size)

    def reorg(self, ancestor: Header, blocks: Sequence[Block]) -> list[Block]:
        """Replace every block above ``ancestor`` with ``blocks`` (which extend it; possibly
        none). Returns the removed blocks in chain order, with their stored logs."""
        with self.lock:
            return self._reorg(ancestor, blocks)

    def _reorg(self, ancestor: Header, blocks: Sequence[Block]) -> list[Block]:
        state = self.state()
        if state.head is None or state.tail is None:
            raise SyncError("nothing synced: no reorg possible")
        if ancestor.number < state.tail:
            raise SyncError(f"reorg below the first synced block {state.tail}")
        view = ChainView(self.store, self.sections)
        if view.canonical_hash(ancestor.number) != ancestor.hash:
            raise SyncError(f"block {ancestor.number} is not the stored canonical block")
        if blocks and blocks[0].header.parent_hash != ancestor.hash:
            raise SyncError(f"block {blocks[0].header.number} does not extend the ancestor")
        removed: list[Block] = []
        with self.store.batch() as batch:
            for header in view.headers(ancestor.number + 1, state.head.number):
                raw = self.store.get(schema.logs_key(header.number, header.hash))
                logs = None if raw is None else decode_logs(raw, header)
                removed.append(Block(header, logs))
                batch.delete(schema.header_key(header.number, header.hash))
                batch.delete(schema.canonical_hash_key(header.number))
                batch.delete(schema.hash_to_number_key(header.hash))
                batch.delete(schema.logs_key(header.number, header.hash))
            if len(removed) != state.head.number - ancestor.number:
                raise CorruptDataError(
                    f"{len(removed)} header records above block {ancestor.number}, expected "
                    f"{state.head.number - ancestor.number}"
                )
            keep = max((ancestor.number + 1) // self.section_size, state.first_section)
            self.index.truncate(batch, self.store, keep, state.sections, state.tail)
            self.sections.truncate(batch, keep)
            records = self._put_blocks(batch, blocks)
            head = blocks[-1].header if blocks else ancestor
            batch.put(
                schema.meta_key(schema.META_HEAD), schema.encode_block_ref(head.number, head.hash)
            )
        self.pending.drop_from(ancestor.number + 1)
        self._keep_entries(records)
        return removed

    def build_section(self, confirmed: int) -> int | None:
        """Build the next section if its last block is synced and at most ``confirmed``.

        Returns the section built, or None. Blocks of the first section below the tail
        count as empty (no bloom bits).
        """
        with self.lock:
            return self._build_section(confirmed)

    def _build_section(self, confirmed: int) -> int | None:
        state = self.state()
        if state.head is None or state.tail is None:
            return None
        section = state.sections
        size = self.section_size
        last = (section + 1) * size - 1
        if last > min(confirmed, state.head.number):
            return None
        first = section * size
        run = ChainView(self.store, self.sections).blooms(max(first, state.tail), last)
        if len(run) != last - max(first, state.tail) + 1:
            raise CorruptDataError(f"section {section} lacks header records")
        generator = Generator(size)
        offset = run.first - first
        if offset:
            generator.add_blooms(0, [bytes(256)] * offset)
        generator.add_blooms(offset, run.blooms)
        head = Hash32(run.hashes[-1])
        indexed = self.index.first(self.store) is not None
        kept = self.pending.take(section, max(first, state.tail), last)
        with self.store.batch() as batch:
            if indexed and kept is not None:
                write_entries(batch, kept)
            elif indexed:
                with damage(LOGS, max(first, state.tail), last):  # what the records come from
                    self.index.write_section(batch, self.store, section, state.tail)
            self.sections.write_section(batch, section, head, generator.vectors())
        return section

    def build_index_step(self) -> BuildProgress | None:
        """Build the exact-index records of the highest section stored without them (a
        directory migrated from schema version 2), in one batch; None when none is left."""
        with self.lock:
            return build_next(self.store, self.index)

    def header(self, number: int) -> Header | None:
        """The stored canonical header at ``number``."""
        return ChainView(self.store, self.sections).header(BlockNumber(number))


def set_chain_id(store: KeyValueStore, chain_id: int) -> bool:
    """Record ``chain_id`` as the directory's; False when it already was. A directory of
    another chain is a :class:`ChainMismatchError`, and nothing is written."""
    key = schema.meta_key(schema.META_CHAIN_ID)
    raw = store.get(key)
    known = None if raw is None else schema.decode_u64(raw)
    if known is not None and known != chain_id:
        raise ChainMismatchError(f"the data directory indexes chain {known}, not chain {chain_id}")
    if known == chain_id:
        return False
    with store.batch() as batch:
        batch.put(key, schema.encode_u64(chain_id))
    return True
