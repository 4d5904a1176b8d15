"""A chain archive replayed as a growing chain: :class:`ReplaySource`.

The source shows the archive's blocks up to a *released* height only, as a node shows its
chain up to its head; :meth:`ReplaySource.release` moves that head forward (up to the
archive's last block), and :meth:`~ReplaySource.watch_heads` announces each new head as a
node's ``newHeads`` would. ``logfilter demo`` uses it to let installed filters and
subscriptions see new blocks arrive; tests can use it to drive a following indexer one
block at a time without a node.

Blocks are read, validated and linked by the wrapped
:class:`~chainindex.source.archive.ArchiveSource`; a block above the released head is
:class:`~chainindex.errors.MissingBlockError`, as for a node that does not have it yet.
"""

from __future__ import annotations

import asyncio
import inspect

from chainindex.errors import MissingBlockError
from chainindex.source.archive import ArchiveSource
from chainindex.source.base import HeadCallback
from chainindex.source.wire import ArchiveRecord
from chainindex.types import Block, ChainLog, Header

__all__ = ["ReplaySource"]


class ReplaySource:
    """An archive's blocks up to a released head (see the module docstring)."""

    finite = False
    """More blocks come (when released), so a following indexer keeps following."""

    def __init__(self, archive: ArchiveSource, released: int) -> None:
        """Serve ``archive`` up to block ``released`` (clamped to the archive's blocks)."""
        self.archive = archive
        """The blocks, read and validated."""
        self._released = min(max(released, archive.first), archive.last)
        self._moved = asyncio.Condition()

    @property
    def name(self) -> str:
        return f"{self.archive.name} (replayed)"

    @property
    def released(self) -> int:
        """The highest block shown."""
        return self._released

    @property
    def remaining(self) -> int:
        """Blocks of the archive not released yet."""
        return self.archive.last - self._released

    async def release(self, count: int = 1) -> int:
        """Show ``count`` more blocks (fewer at the archive's end); returns how many."""
        step = max(0, min(count, self.remaining))
        if step:
            async with self._moved:
                self._released += step
                self._moved.notify_all()
        return step

    def _check(self, last: int) -> None:
        if last > self._released:
            raise MissingBlockError(self._released + 1)

    async def chain_id(self) -> int | None:
        return await self.archive.chain_id()

    async def latest(self) -> Header:
        header = await self.archive.header_at(self._released)
        assert header is not None  # released lies within the archive
        return header

    async def header_at(self, number: int) -> Header | None:
        if number > self._released:
            return None
        return await self.archive.header_at(number)

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        self._check(last)
        return await self.archive.blocks(first, last, with_logs=with_logs)

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        self._check(last)
        return await self.archive.records(first, last, with_logs=with_logs)

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        self._check(header.number)
        return await self.archive.block_logs(header)

    async def watch_heads(self, on_head: HeadCallback) -> None:
        """Call ``on_head`` with the head each time blocks are released, until cancelled."""
        seen = self._released
        while True:
            async with self._moved:
                while self._released <= seen:
                    await self._moved.wait()
                seen = self._released
            outcome = on_head(await self.latest())
            if inspect.isawaitable(outcome):
                await outcome

    async def aclose(self) -> None:
        await self.archive.aclose()
