"""Keeping the text index in step with the chain store: catch up, then follow chain events.

The chain store (LevelDB, written by :class:`~chainindex.sync.indexer.ChainIndexer`) is the
source of truth; the text index (:class:`~chainindex.logsearch.index.TextIndex`) follows
it:

1. **Catch up** from the store: from the block after the text index's last commit to the
   store's head, in batches of blocks, committing the text index after each batch with the
   batch's last block and hash. If the text index's committed block is no longer canonical
   (the chain was reorganised while the service was down, or the index is ahead of a store
   that was rebuilt), the feed walks back to the newest indexed block that is still
   canonical and deletes everything above it first.
2. **Follow** :class:`~chainindex.sync.events.ChainEvent`\\ s: a reorg deletes every document above
   the last common block, added blocks are indexed; the text index commits at most every
   ``commit_seconds`` (and whenever a catch-up batch ends), so a crash loses at most that
   much, which the next start replays from the store.
On a directory with sealed history (``logfilter backfill``), the catch-up starts at the
history's first block and reads sealed blocks from their segments, so the text index covers
what a plain sync's would.
3. A subscription that falls behind (the store is read faster than events are buffered)
   is dropped by the publisher: the feed subscribes again and catches up from the store.

Text-index calls block (disk, CPU): they run on worker threads, so the event loop stays
responsive. A headers-only data directory stores no logs: there is nothing to feed, and the
feed says so once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from eth_typing import BlockNumber

from chainindex.errors import EventsLaggedError
from chainindex.logsearch.index import TextIndex
from chainindex.segments.history import SegmentHistory
from chainindex.store.reader import ChainReader, ChainState
from chainindex.sync.events import ChainEvent, ChainEvents
from chainindex.sync.indexer import ChainIndexer
from chainindex.types import ChainLog, Header

__all__ = ["TextFeed", "sync_with_text_index"]

log = logging.getLogger("chainindex.logsearch.feed")


class TextFeed:
    """Feeds one text index from one chain store (see the module docstring).

    Every change to the text index runs on a worker thread together with the update of
    :attr:`indexed`, so that a cancellation in the middle never leaves the two apart: the
    thread finishes, and :meth:`run` waits for it before its final commit.
    """

    def __init__(
        self,
        index: TextIndex,
        reader: ChainReader,
        events: ChainEvents,
        *,
        batch_blocks: int = 256,
        commit_seconds: float = 5.0,
        max_events: int = ChainEvents.DEFAULT_MAX_EVENTS,
        max_logs: int = ChainEvents.DEFAULT_MAX_LOGS,
        history: SegmentHistory | None = None,
    ) -> None:
        self.index = index
        """The text index fed."""
        self.reader = reader
        """The chain store read."""
        self.events = events
        """Where sync commits are announced."""
        self.batch_blocks = batch_blocks
        """Blocks read from the store per catch-up step."""
        self.commit_seconds = commit_seconds
        """Longest time indexed logs wait for a text-index commit while following."""
        self.max_events = max_events
        """Events the subscription buffers before the publisher drops it."""
        self.max_logs = max_logs
        """Logs the subscription buffers before the publisher drops it."""
        self.history = history
        """Sealed history below the store (``logfilter backfill``): its blocks are indexed
        too, read from their segments."""
        self.resubscriptions = 0
        """Times the feed fell behind and caught up from the store again."""
        self.indexed: Header | None = None
        """The last block whose logs are in the text index (committed or not)."""
        self._last_commit = time.monotonic()
        self._dirty = False
        self._progress = asyncio.Event()
        self._inflight: asyncio.Future[None] | None = None

    async def wait_indexed(self, number: int, block_hash: bytes | None = None) -> None:
        """Wait until the block ``number`` (with ``block_hash``, if given) is indexed."""
        while True:
            head = self.indexed
            if head is not None and head.number == number and block_hash in (None, head.hash):
                return
            self._progress.clear()
            await self._progress.wait()

    # -- changes, each on a worker thread with its bookkeeping ------------------------

    def _add(self, logs: list[ChainLog], head: Header) -> None:
        if logs:
            self.index.add_logs(logs)
        self.indexed = head
        self._dirty = True

    def _delete_above(self, block: int, head: Header | None) -> None:
        self.index.delete_from_block(block)
        self.indexed = head
        self._dirty = True

    def _commit_now(self) -> None:
        head = self.indexed
        if head is None or not self._dirty:
            return
        self.index.commit(head.number, head.hash)
        self._dirty = False
        self._last_commit = time.monotonic()

    async def _in_thread(self, fn: Callable[..., None], *args: object) -> None:
        """Run one change on a worker thread; a cancellation does not interrupt it."""
        future = asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
        self._inflight = future
        await asyncio.shield(future)
        self._progress.set()

    # -- running ----------------------------------------------------------------------

    async def run(self) -> None:
        """Catch up and follow until cancelled (then commit what is indexed)."""
        try:
            while True:
                sub = self.events.subscribe(max_events=self.max_events, max_logs=self.max_logs)
                async with sub:
                    await self.catch_up()
                    try:
                        async for event in sub:
                            await self.apply(event)
                    except EventsLaggedError:
                        log.info("text index fell behind the chain events; catching up")
                        self.resubscriptions += 1
                        continue
                return
        finally:
            inflight = self._inflight
            if inflight is not None and not inflight.done():
                await asyncio.wait([inflight])
            self._progress.set()
            await asyncio.shield(asyncio.to_thread(self._commit_now))

    # -- catching up ------------------------------------------------------------------

    def _reader_at(self, number: int) -> tuple[ChainReader, int]:
        """The store holding block ``number`` (a sealed segment, else the head store) and
        the last block it holds (the head store: unbounded)."""
        history = self.history
        if history is not None and number <= history.last:
            for segment in history.overlapping(number, number):
                return segment.reader, segment.seal.last
        return self.reader, -1

    async def _state(self) -> ChainState:
        """The store's state widened to the sealed history (its tail, and its last block
        while the store is empty)."""
        state = await self.reader.state()
        history = self.history
        if history is None or not history.segments:
            return state
        head = state.head if state.head is not None else history.segments[-1].head
        return replace(state, tail=BlockNumber(history.first), head=head)

    async def catch_up(self) -> None:
        """Index every stored block after the text index's last commit, committing as it goes."""
        state = await self._state()
        if state.head is None:
            return
        if state.headers_only:
            log.warning("headers-only data directory: no logs stored, the text index stays empty")
            return
        start = await self._resume_point(state)
        head = state.head.number
        while start <= head:
            reader, holds = self._reader_at(start)
            last = min(head, start + self.batch_blocks - 1)
            if holds >= 0:
                last = min(last, holds)
            headers = await reader.headers(start, last)
            logs: list[ChainLog] = []
            for header in headers:
                logs.extend(await reader.logs(header))
            await self._in_thread(self._add, logs, headers[-1])
            await self._in_thread(self._commit_now)
            start = last + 1

    async def _canonical_hash(self, number: int) -> bytes | None:
        return await self._reader_at(number)[0].canonical_hash(number)

    async def _resume_point(self, state: ChainState) -> int:
        """First block to index; deletes what is no longer canonical first."""
        tail = state.tail or 0
        committed = self.index.committed_head()
        if self.indexed is not None:
            committed = (self.indexed.number, self.indexed.hash)
        if committed is None:
            return tail
        number, block_hash = committed
        canonical = await self._canonical_hash(number)
        if canonical is not None and (block_hash is None or canonical == block_hash):
            return number + 1
        top = min(number, state.head.number) if state.head is not None else number
        ancestor = await self._newest_canonical(top)
        head = await self._reader_at(ancestor)[0].header(ancestor) if ancestor >= 0 else None
        await self._in_thread(self._delete_above, ancestor, head)
        log.info("text index rolled back to block %d (the chain changed under it)", ancestor)
        return max(ancestor + 1, tail)

    async def _newest_canonical(self, below: int) -> int:
        """The newest indexed block at or below ``below`` whose logs are still canonical (the
        index's own stored block hashes tell); -1 when none is."""
        k = below
        while k >= 0:
            page = await asyncio.to_thread(
                self.index.search, "", to_block=k, limit=1, sort="block_desc"
            )
            if not page.hits:
                return -1
            indexed = page.hits[0].log
            if await self._canonical_hash(indexed.block_number) == indexed.block_hash:
                return indexed.block_number
            k = indexed.block_number - 1
        return -1

    # -- following --------------------------------------------------------------------

    async def apply(self, event: ChainEvent) -> None:
        """Apply one sync commit: deletions of a reorg, then the added blocks."""
        indexed = self.indexed
        if event.removed and indexed is not None:
            first_removed = event.removed[0].header.number
            if first_removed <= indexed.number:
                keep = first_removed - 1
                head = await self.reader.header(keep) if keep >= 0 else None
                await self._in_thread(self._delete_above, keep, head)
                indexed = head
        since = -1 if indexed is None else indexed.number
        logs: list[ChainLog] = []
        for block in event.added:
            if block.header.number > since:
                logs.extend(block.logs or ())
        if event.added or event.removed:
            await self._in_thread(self._add, logs, event.head)
        if time.monotonic() - self._last_commit >= self.commit_seconds:
            await self._in_thread(self._commit_now)


async def sync_with_text_index(
    indexer: ChainIndexer, text: TextIndex, history: SegmentHistory | None = None
) -> None:
    """Sync, feeding the text index as blocks are committed (and the blocks of ``history``,
    sealed below the store, first); when sync stops (``--until``, end of an archive), index
    what is left and commit."""
    feed = TextFeed(text, indexer.reader, indexer.events, history=history)
    async with asyncio.TaskGroup() as tasks:
        feeding = tasks.create_task(feed.run())
        try:
            await indexer.run()
        finally:
            feeding.cancel()
    await feed.catch_up()
