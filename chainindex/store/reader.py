"""The read side of the chain store, for the query path: :class:`ChainReader`.

Callers never see a key: they ask for the synced state, canonical headers (by number or
hash), runs of header blooms, a block's logs and bloom-section vectors.

* :class:`ChainView` answers synchronously from one LevelDB snapshot, so a read that spans
  several keys (the state and the headers it names, a run of blooms, a section count and its
  vectors) is consistent even while sync commits.
* :class:`ChainReader` is the asyncio face: each method runs in a worker thread over a fresh
  snapshot; :meth:`ChainReader.read` runs any function of a :class:`ChainView` in one
  snapshot, for compound reads.

Only canonical blocks are stored (see :mod:`chainindex.store.schema`), ``tail`` through
``head`` with no gap; in headers-only mode their logs come from the upstream on demand
(:class:`chainindex.source.ondemand.LogCache`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from eth_typing import BlockNumber, Hash32

from bloombits.arrays import U8
from bloombits.bloom import BLOOM_BYTE_LENGTH
from chainindex.errors import CorruptDataError, LogsUnavailableError, StoreError
from chainindex.store import schema
from chainindex.store.codec import LogsRecord
from chainindex.store.damage import HEADERS, LOGS, SECTIONS, damage, section_blocks
from chainindex.store.headerrecord import decode_header, header_bloom
from chainindex.store.kv import KeyValueReader, KeyValueStore
from chainindex.store.sections import SectionStore
from chainindex.types import ChainLog, Header

__all__ = ["BloomRun", "ChainReader", "ChainState", "ChainView", "LogFetcher"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChainState:
    """What the store holds, read from one snapshot."""

    section_size: int
    """Blocks per bloom section."""
    sections: int
    """Index of the first section not stored: sections ``first_section .. sections - 1``
    are."""
    first_section: int
    """First section stored (``tail // section_size``; blocks of it below ``tail`` count as
    empty)."""
    tail: BlockNumber | None
    """First block synced, or None when nothing is synced yet."""
    head: Header | None
    """The synced head, or None when nothing is synced yet."""
    chain_id: int | None
    """Chain id of the upstream (None for an archive)."""
    headers_only: bool
    """True when logs are not stored (fetched from the upstream on demand)."""

    @property
    def indexed_until(self) -> int:
        """Last block covered by stored sections (-1 when none)."""
        return self.sections * self.section_size - 1 if self.sections > self.first_section else -1


@dataclass(frozen=True, slots=True)
class BloomRun:
    """Header blooms of consecutive canonical blocks ``first .. first + len - 1``."""

    first: int
    """Number of the first block of the run."""
    hashes: tuple[Hash32, ...]
    """Block hashes, one per row."""
    blooms: npt.NDArray[np.uint8]
    """``(n, 256)`` logsBlooms, one row per block."""

    def __len__(self) -> int:
        return len(self.hashes)


class LogFetcher(Protocol):
    """Where logs not stored locally come from (headers-only mode)."""

    async def logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The logs of the block ``header``."""
        ...


def _u64(reader: KeyValueReader, name: str) -> int | None:
    raw = reader.get(schema.meta_key(name))
    return None if raw is None else schema.decode_u64(raw)


class ChainView:
    """Synchronous reads from one consistent reader (a snapshot, or the live store)."""

    def __init__(self, reader: KeyValueReader, sections: SectionStore) -> None:
        self.reader = reader
        """The snapshot read from."""
        self._sections = sections

    def state(self) -> ChainState:
        """The synced state."""
        r = self.reader
        size = self._sections.section_size
        tail_raw = r.get(schema.meta_key(schema.META_TAIL))
        tail = None if tail_raw is None else schema.decode_block_ref(tail_raw)[0]
        head_raw = r.get(schema.meta_key(schema.META_HEAD))
        head = None
        if head_raw is not None:
            number, block_hash = schema.decode_block_ref(head_raw)
            head = self.header_with_hash(number, block_hash)
            if head is None:
                raise CorruptDataError(f"the synced head, block {number}, has no header record")
        mode = r.get(schema.meta_key(schema.META_HEADERS_ONLY))
        first_section = self._sections.first(r)
        return ChainState(
            section_size=size,
            sections=self._sections.count(r) if tail is not None else 0,
            first_section=first_section,
            tail=tail,
            head=head,
            chain_id=_u64(r, schema.META_CHAIN_ID),
            headers_only=mode == b"\x01",
        )

    def header_with_hash(self, number: int, block_hash: Hash32) -> Header | None:
        """The stored header of block ``number`` with hash ``block_hash``, or None."""
        with damage(HEADERS, number, number):
            raw = self.reader.get(schema.header_key(BlockNumber(number), block_hash))
            return None if raw is None else decode_header(number, block_hash, raw)

    def canonical_hash(self, number: int) -> Hash32 | None:
        """Hash of the canonical block at ``number``, or None if not synced."""
        with damage(HEADERS, number, number):
            raw = self.reader.get(schema.canonical_hash_key(BlockNumber(number)))
            if raw is not None and len(raw) != 32:
                raise CorruptDataError(f"malformed canonical hash record of block {number}")
        return None if raw is None else Hash32(raw)

    def header(self, number: int) -> Header | None:
        """The canonical header at ``number``, or None if not synced."""
        block_hash = self.canonical_hash(number)
        return None if block_hash is None else self.header_with_hash(number, block_hash)

    def header_by_hash(self, block_hash: bytes) -> Header | None:
        """The canonical header with hash ``block_hash``, or None."""
        raw = self.reader.get(schema.hash_to_number_key(Hash32(bytes(block_hash))))
        if raw is None:
            return None
        return self.header_with_hash(schema.decode_u64(raw), Hash32(bytes(block_hash)))

    def headers(self, first: int, last: int) -> list[Header]:
        """Canonical headers of the synced blocks among ``first..last``, in order."""
        if last < first:
            return []
        start, stop = schema.header_range(first, last)
        out = []
        with damage(HEADERS, first, last):
            for key, value in self.reader.iterate(start, stop):
                number, block_hash = schema.parse_header_key(key)
                out.append(decode_header(number, block_hash, value))
        return out

    def blooms(self, first: int, last: int) -> BloomRun:
        """Blooms of the synced blocks among ``first..last`` (one range scan).

        The run starts at the first synced block in the range (blocks are stored without
        gaps) and is empty when none is.
        """
        hashes: list[Hash32] = []
        parts: list[bytes] = []
        start_number = first
        if last >= first:
            with damage(HEADERS, first, last):
                hashes, parts, start_number = self._bloom_parts(first, last)
        blooms = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(-1, BLOOM_BYTE_LENGTH)
        return BloomRun(start_number, tuple(hashes), blooms)

    def _bloom_parts(self, first: int, last: int) -> tuple[list[Hash32], list[bytes], int]:
        """Hashes and blooms of the synced blocks among ``first..last``, and the first's
        number."""
        hashes: list[Hash32] = []
        parts: list[bytes] = []
        start_number = first
        for key, value in self.reader.iterate(*schema.header_range(first, last)):
            number, block_hash = schema.parse_header_key(key)
            if not hashes:
                start_number = number
            elif number != start_number + len(hashes):
                raise CorruptDataError(f"header records skip from {start_number} to {number}")
            hashes.append(block_hash)
            parts.append(header_bloom(value))
        return hashes, parts, start_number

    def logs_raw(self, header: Header) -> bytes | None:
        """The stored logs record of ``header``'s block as stored (unchecked), or None."""
        with damage(LOGS, header.number, header.number):
            raw: bytes | None = self.reader.get(schema.logs_key(header.number, header.hash))
        return raw

    def logs_record(self, header: Header) -> LogsRecord | None:
        """The stored logs of ``header``'s block as columns, or None when not stored."""
        raw = self.logs_raw(header)
        if raw is None:
            return None
        with damage(LOGS, header.number, header.number):
            return LogsRecord.parse(raw, f"logs of block {header.number}")

    def logs(self, header: Header) -> tuple[ChainLog, ...] | None:
        """The stored logs of ``header``'s block, or None when not stored (headers-only
        mode, or a block not synced)."""
        record = self.logs_record(header)
        return None if record is None else record.logs(header)

    def bit_vectors(self, bit: int, first: int, last: int) -> tuple[U8, npt.NDArray[np.bool_]]:
        """Vectors of bloom bit ``bit`` for sections ``first..last``, decoded, and which were
        found; see :meth:`SectionStore.read_vectors`."""
        with damage(SECTIONS, *section_blocks(self._sections.section_size, first, last)):
            return self._sections.read_vectors(bit, first, last, self.reader)

    def section_head(self, section: int) -> Hash32 | None:
        """Head hash (last block's hash) of stored section ``section``, or None."""
        return self._sections.head(section, self.reader)

    def section_heads(self, first: int, last: int) -> list[Hash32 | None]:
        """Head hashes of sections ``first..last`` (None where not stored), one range scan."""
        return self._sections.heads(first, last, self.reader)


class ChainReader:
    """Asyncio reads of the chain store; blocking work runs in a thread pool.

    ``fetcher`` supplies logs that are not stored (headers-only mode); without it such a
    block's logs raise :class:`~chainindex.errors.LogsUnavailableError`.
    """

    def __init__(
        self,
        store: KeyValueStore,
        *,
        fetcher: LogFetcher | None = None,
        executor: Executor | None = None,
    ) -> None:
        raw = store.get(schema.meta_key(schema.META_SECTION_SIZE))
        if raw is None:
            raise StoreError("the data directory has not been synced yet (run `logfilter sync`)")
        self.store = store
        """The underlying store."""
        self.sections = SectionStore(store, schema.decode_u64(raw))
        """The bloom sections of the store (what the matcher's ``SectionRetriever`` reads)."""
        self.fetcher = fetcher
        """Source of logs that are not stored, if any."""
        self._executor = executor

    def view_sync(self, fn: Callable[[ChainView], T]) -> T:
        """Run ``fn`` over one snapshot, in the calling thread (blocking)."""
        with self.store.snapshot() as snap:
            return fn(ChainView(snap, self.sections))

    async def read(self, fn: Callable[[ChainView], T]) -> T:
        """Run ``fn`` over one snapshot in a worker thread: the way to make a compound read
        consistent."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.view_sync, fn)

    async def state(self) -> ChainState:
        """The synced state."""
        return await self.read(ChainView.state)

    async def canonical_hash(self, number: int) -> Hash32 | None:
        """Hash of the canonical block at ``number``, or None."""
        return await self.read(partial(ChainView.canonical_hash, number=number))

    async def header(self, number: int) -> Header | None:
        """The canonical header at ``number``, or None."""
        return await self.read(partial(ChainView.header, number=number))

    async def header_by_hash(self, block_hash: bytes) -> Header | None:
        """The canonical header with hash ``block_hash``, or None."""
        return await self.read(partial(ChainView.header_by_hash, block_hash=block_hash))

    async def headers(self, first: int, last: int) -> list[Header]:
        """Canonical headers of the synced blocks among ``first..last``."""
        return await self.read(partial(ChainView.headers, first=first, last=last))

    async def blooms(self, first: int, last: int) -> BloomRun:
        """Header blooms of the synced blocks among ``first..last`` as ``(n, 256)``."""
        return await self.read(partial(ChainView.blooms, first=first, last=last))

    async def bit_vectors(
        self, bit: int, first: int, last: int
    ) -> tuple[U8, npt.NDArray[np.bool_]]:
        """Vectors of bloom bit ``bit`` for sections ``first..last``, and which were found."""
        return await self.read(partial(ChainView.bit_vectors, bit=bit, first=first, last=last))

    async def logs_record(self, header: Header) -> LogsRecord | None:
        """The stored logs of ``header``'s block as columns (None when not stored)."""
        return await self.read(partial(ChainView.logs_record, header=header))

    async def logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The logs of ``header``'s block: from the store, else from the fetcher."""
        stored = await self.read(partial(ChainView.logs, header=header))
        if stored is not None:
            return stored
        if self.fetcher is None:
            raise LogsUnavailableError(
                f"block {header.number}: logs are not stored and no upstream is configured"
            )
        return await self.fetcher.logs(header)
