"""The sealed history of a data directory, opened for reading, and where the head continues.

:class:`SegmentHistory` opens every segment the manifest lists, checks that each store holds
exactly the blocks its seal names (first, last, last hash), and gives a
:class:`~chainindex.store.reader.ChainReader` per segment; nothing is ever written to them.
:func:`head_start` is where the head store (``DATADIR`` itself) starts after a backfill:
the block after the last sealed one; :func:`check_boundary` checks that the upstream a sync
follows has the last sealed block (the hash link between history and head, as
go-ethereum's freezer checks its last frozen block against the live chain).
"""

from __future__ import annotations

import bisect
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from chainindex.errors import ChainMismatchError, ConfigError, SegmentError
from chainindex.segments.manifest import Manifest, SealedSegment, read_manifest, segment_dir
from chainindex.source.base import ChainSource
from chainindex.store import LevelDBStore
from chainindex.store.migrate import MIGRATIONS
from chainindex.store.reader import ChainReader, LogFetcher
from chainindex.store.schema import check_schema
from chainindex.types import Header

__all__ = ["OpenSegment", "SegmentHistory", "check_boundary", "head_start", "open_segment"]


@dataclass(frozen=True, slots=True)
class OpenSegment:
    """One sealed segment, open for reading."""

    seal: SealedSegment
    """What the manifest says of it."""
    store: LevelDBStore
    """Its store."""
    reader: ChainReader
    """Its read side."""
    head: Header
    """Its last block's header (the history's head when it is the last segment)."""


class SegmentHistory:
    """The segments of a data directory's manifest, open for reading (see the module)."""

    def __init__(
        self,
        datadir: str | Path,
        manifest: Manifest,
        *,
        fetcher: LogFetcher | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.manifest = manifest
        """The manifest the segments were opened from."""
        self.segments: list[OpenSegment] = []
        """The segments, ascending."""
        try:
            for seal in manifest.segments:
                self.segments.append(open_segment(datadir, seal, fetcher, executor))
        except BaseException:
            self.close()
            raise
        self._lasts = [s.seal.last for s in self.segments]

    @classmethod
    def open(
        cls,
        datadir: str | Path,
        *,
        fetcher: LogFetcher | None = None,
        executor: Executor | None = None,
    ) -> SegmentHistory | None:
        """The history of ``datadir``, None when it has no manifest."""
        manifest = read_manifest(datadir)
        if manifest is None:
            return None
        return cls(datadir, manifest, fetcher=fetcher, executor=executor)

    @property
    def first(self) -> int:
        """First block of the history."""
        return self.manifest.first

    @property
    def last(self) -> int:
        """Last sealed block."""
        return self.manifest.last

    def append(self, segment: OpenSegment) -> None:
        """Add a segment just sealed from the head store (it must continue the last one:
        :class:`SegmentError` otherwise)."""
        seal, previous = segment.seal, self.segments[-1].seal if self.segments else None
        if previous is not None and (
            seal.first != previous.last + 1 or seal.parent_hash != previous.last_hash
        ):
            raise SegmentError(f"segment {seal.name} does not continue {previous.name}")
        self.segments.append(segment)
        self._lasts.append(seal.last)
        self.manifest = Manifest((*self.manifest.segments, seal))

    def overlapping(self, first: int, last: int) -> list[OpenSegment]:
        """The segments holding blocks of ``first..last``, ascending."""
        at = bisect.bisect_left(self._lasts, first)
        out = []
        for segment in self.segments[at:]:
            if segment.seal.first > last:
                break
            out.append(segment)
        return out

    def close(self) -> None:
        """Close every segment's store."""
        for segment in self.segments:
            if not segment.store.closed:
                segment.store.close()


def open_segment(
    datadir: str | Path,
    seal: SealedSegment,
    fetcher: LogFetcher | None = None,
    executor: Executor | None = None,
) -> OpenSegment:
    """The segment ``seal`` names, opened for reading (blocking) and checked against it:
    :class:`SegmentError` when it is missing or holds other blocks."""
    directory = segment_dir(datadir, seal.first, seal.last)
    if not directory.is_dir():
        raise SegmentError(f"segment {seal.name} listed in the manifest is missing ({directory})")
    store = LevelDBStore(directory, create=False)
    try:
        check_schema(store, str(directory), MIGRATIONS)
        reader = ChainReader(store, fetcher=fetcher, executor=executor)
        state = reader.view_sync(lambda view: view.state())
        head = state.head
        if (
            head is None
            or state.tail != seal.first
            or head.number != seal.last
            or "0x" + head.hash.hex() != seal.last_hash
        ):
            raise SegmentError(f"segment {seal.name} does not hold what its seal says")
    except BaseException:
        store.close()
        raise
    return OpenSegment(seal, store, reader, head)


def head_start(datadir: str | Path, from_block: int | None) -> int | None:
    """The first block of the head store: after a backfill, the block after the last sealed
    one (``--from-block``, if given, must say the same); else ``from_block``."""
    manifest = read_manifest(datadir)
    if manifest is None:
        return from_block
    start = manifest.last + 1
    if from_block is not None and from_block != start:
        raise ConfigError(
            f"{datadir} holds sealed history up to block {manifest.last}: its head continues "
            f"at block {start}, not {from_block} (--from-block)"
        )
    return start


async def check_boundary(source: ChainSource, datadir: str | Path) -> None:
    """:class:`ChainMismatchError` unless ``source`` has the last sealed block of
    ``datadir``'s history (nothing to check without a manifest)."""
    manifest = read_manifest(datadir)
    if manifest is None:
        return
    last = manifest.segments[-1]
    header = await source.header_at(last.last)
    if header is None or "0x" + header.hash.hex() != last.last_hash:
        raise ChainMismatchError(
            f"{source.name} does not have block {last.last} of the sealed history "
            f"({last.last_hash}): it serves another chain"
        )
