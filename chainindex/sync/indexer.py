"""The chain indexer: follows a source, stores headers and logs, builds bloom sections.

go-ethereum's ``ChainIndexer`` with its bloom back end, for a service beside a node:

* **Backfill** from the tail (``from_block``) to the upstream head: runs of blocks are
  fetched ahead (at most ``fetch_ahead`` runs in flight) and committed strictly in order,
  each run one atomic batch (:class:`~chainindex.store.writer.ChainWriter`).
* **Sections**: section ``s`` is built as soon as its last block is synced and has
  ``confirmations`` blocks on top of it at the upstream head.
* **Follow**: after backfill, new heads come from the source (newHeads on WebSocket, polling
  on HTTP); the indexer stays within a block of the head.
* **Reorgs**: a run whose first block does not extend the synced head, or an upstream head
  that differs from the stored block at its height, starts a walk back to the highest block
  both agree on. Blocks above it are replaced in one batch, sections above it truncated, and a
  :class:`~chainindex.sync.events.ChainEvent` with the removed and added blocks published. A walk
  deeper than ``max_reorg_depth`` stops sync with :class:`~chainindex.errors.ReorgTooDeepError`.
* **Bad archive records**: the good blocks of a run before a bad archive line
  (:attr:`~chainindex.errors.ArchiveError.good`) are committed, then the error is raised.
* **Crash safety**: the store is only changed by :class:`ChainWriter` batches, each leaving a
  state sync resumes from; at start the indexer reads that state and carries on.
* **Exact index of older sections**: in a directory migrated from schema version 2, the
  exact-index records of the sections stored before it are built beside sync, one section per
  batch, downward (:mod:`chainindex.sync.indexbuild`); sync's own sections get theirs as they
  are built. A finite sync waits for it.

Lifecycle: ``await indexer.run()`` runs everything inside a :class:`asyncio.TaskGroup` the
indexer owns (the head watcher and the fetches); it returns when ``until`` is reached (or
the source is finite and exhausted, or ``follow`` is off and the head reached), raises the
first error otherwise, and on cancellation stops promptly, leaving no task behind and no
write half done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing

from chainindex.aio import first_error, run_to_completion
from chainindex.errors import (
    ArchiveError,
    MissingBlockError,
    SourceError,
    UpstreamError,
)
from chainindex.source.base import ChainSource
from chainindex.source.ondemand import LogCache
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import ChainReader, ChainState
from chainindex.store.writer import ChainWriter
from chainindex.sync.checkpoint import guard_source
from chainindex.sync.config import SyncConfig, SyncCounters, SyncObserver, SyncPhase, SyncStatus
from chainindex.sync.events import ChainEvent, ChainEvents
from chainindex.sync.identity import check_identity
from chainindex.sync.indexbuild import build_exact_index
from chainindex.sync.pipeline import FetchResult, fetch_in_order, fetch_run
from chainindex.sync.reorg import (
    InconsistentAnswers,
    ReplanError,
    fetch_branch,
    find_common_ancestor,
)
from chainindex.types import Block, Header

__all__ = ["ChainIndexer", "SyncConfig", "SyncObserver", "SyncStatus"]

OUTAGE_MAX_PAUSE = 30.0
"""Longest pause between two attempts to reach a failing upstream once caught up."""

log = logging.getLogger("chainindex.sync.indexer")


class ChainIndexer:
    """Syncs ``source`` into ``store`` (see the module docstring)."""

    def __init__(
        self,
        store: KeyValueStore,
        source: ChainSource,
        config: SyncConfig | None = None,
        *,
        events: ChainEvents | None = None,
        observer: SyncObserver | None = None,
    ) -> None:
        self.config = config or SyncConfig()
        """What to sync and how."""
        self.writer = ChainWriter(store, self.config.section_size)
        """The store's write side (fails here on a section-size mismatch)."""
        self.source = guard_source(source, self.config.checkpoint, self.writer)
        """Where blocks come from (checked against the checkpoint, when there is one)."""
        self.events = events or ChainEvents()
        """Where each commit is published."""
        self.observer = observer
        """Told about progress, if given."""
        self.logs_cache = LogCache(source) if self.config.headers_only else None
        """Logs fetched on demand (headers-only mode)."""
        self.reader = ChainReader(store, fetcher=self.logs_cache)
        """The read side, for the query path."""
        self.counters = SyncCounters()
        """Blocks, logs, reorgs and sections done so far."""
        self._state: ChainState = self.writer.state()
        self._upstream: Header | None = None
        self._news = asyncio.Event()
        self._progress = asyncio.Condition()
        self._phase: SyncPhase = "starting"
        self._logs_per_block = 0.0
        self._chain_id: int | None = None
        self._inconsistent = InconsistentAnswers(self.config.max_inconsistent)
        self._caught_up = False

    # --- public ------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        """Where sync stands now."""
        head = self._state.head
        return SyncStatus(
            phase=self._phase,
            tail=self._state.tail,
            synced_head=None if head is None else head.number,
            upstream_head=None if self._upstream is None else self._upstream.number,
            sections=self._state.sections,
        )

    @property
    def head(self) -> Header | None:
        """The synced head."""
        return self._state.head

    @property
    def chain_id(self) -> int | None:
        """The chain id the upstream (or ``--chain-id``) gave at start, before any block of
        it is stored; None until then, or when neither has one."""
        return self._chain_id

    async def wait_synced(self, number: int) -> Header:
        """Wait until block ``number`` is synced; returns the synced head then."""
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._state.head is not None and self._state.head.number >= number
            )
            assert self._state.head is not None
            return self._state.head

    async def run(self) -> None:
        """Sync until done (see the module docstring); raises the first error."""
        try:
            await self._start()
            async with asyncio.TaskGroup() as tasks:
                watcher = tasks.create_task(self.source.watch_heads(self._on_head))
                builder = tasks.create_task(build_exact_index(self.writer))
                try:
                    await self._sync_loop(tasks)
                    await builder
                finally:
                    watcher.cancel()
                    builder.cancel()
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        finally:
            self._phase = "stopped"

    # --- start ------------------------------------------------------------------------------

    async def _start(self) -> None:
        self._upstream = await self.source.latest()
        state = await run_to_completion(self.writer.state)
        self._chain_id = await check_identity(self.source, self.writer, self.config, state)
        self._state = await run_to_completion(self.writer.state)
        if state.head is not None:
            log.info(
                "resuming at block %d (synced %d..%d)",
                state.head.number + 1,
                state.tail,
                state.head.number,
            )
        await self._build_sections()

    def _on_head(self, header: Header) -> None:
        current = self._upstream
        if current is None or (header.number, header.hash) != (current.number, current.hash):
            self._upstream = header
            self._news.set()

    # --- main loop ----------------------------------------------------------------------------

    def _done(self) -> bool:
        head = self._state.head
        if head is None:
            return False
        if self.config.until is not None and head.number >= self.config.until:
            return True
        assert self._upstream is not None
        at_head = head.number >= self._upstream.number
        return at_head and (self.source.finite or not self.config.follow)

    async def _sync_loop(self, tasks: asyncio.TaskGroup) -> None:
        """Steps until done. Once caught up with the head, an upstream outage (errors after
        all retries) no longer stops sync: it is logged and waited out with a growing pause,
        up to :data:`OUTAGE_MAX_PAUSE`; before that, it is raised (a user starting a sync
        against an unreachable node is told at once)."""
        pause = 0.0
        while True:
            try:
                if await self._step(tasks):
                    return
                pause = 0.0
            except UpstreamError as err:
                if not self._caught_up:
                    raise
                pause = min(max(2 * pause, 1.0), OUTAGE_MAX_PAUSE)
                log.warning("the upstream is failing (%s): trying again in %.0fs", err, pause)
                await asyncio.sleep(pause)

    async def _step(self, tasks: asyncio.TaskGroup) -> bool:
        """One round of the sync loop; True when sync is done."""
        config = self.config
        upstream = self._upstream
        assert upstream is not None
        head = self._state.head
        if head is not None and upstream.number <= head.number and await self._diverged(upstream):
            await self._reorg()
            return False
        if self._done():
            return True
        start = (config.from_block or 0) if head is None else head.number + 1
        target = upstream.number if config.until is None else min(upstream.number, config.until)
        if start > target:
            self._phase = "following"
            self._caught_up = True
            await self._wait_for_news()
            return False
        self._phase = "syncing"
        try:
            await self._sync_range(tasks, start, target)
        except ReplanError:
            await self._refresh_upstream()
        return False

    async def _wait_for_news(self) -> None:
        self._news.clear()
        try:
            await asyncio.wait_for(self._news.wait(), self.config.refresh_interval)
        except TimeoutError:
            await self._refresh_upstream()

    async def _refresh_upstream(self) -> None:
        self._on_head(await self.source.latest())

    async def _diverged(self, upstream: Header) -> bool:
        """Whether the upstream's head (at or below ours) shows that our chain left it."""
        head = self._state.head
        assert head is not None
        if upstream.number == head.number:
            return upstream.hash != head.hash
        ours = await run_to_completion(self.writer.header, upstream.number)
        if ours is None or ours.hash != upstream.hash:
            return True
        # The upstream is behind us on the same chain: is our head still there?
        probe = await self.source.header_at(head.number)
        return probe is None or probe.hash != head.hash

    async def _fetch(self, first: int, last: int) -> FetchResult:
        return await fetch_run(self.source, first, last, with_logs=not self.config.headers_only)

    def _fetch_size(self) -> int:
        config = self.config
        if config.headers_only:
            return config.headers_per_fetch
        if self._logs_per_block <= 0:
            return config.blocks_per_fetch
        fit = int(config.logs_per_fetch / self._logs_per_block)
        return max(1, min(config.blocks_per_fetch, fit))

    async def _sync_range(self, tasks: asyncio.TaskGroup, first: int, last: int) -> None:
        """Fetch ``first..last`` ahead and commit it in order; raises ReplanError when the
        upstream no longer fits the plan (the caller re-plans)."""
        runs = fetch_in_order(
            tasks,
            self._fetch,
            first,
            last,
            run_size=self._fetch_size,
            ahead=self.config.fetch_ahead,
        )
        async with aclosing(runs):
            async for result in runs:
                if isinstance(result, MissingBlockError):
                    raise ReplanError
                if isinstance(result, SourceError):
                    head = self._state.head
                    good = result.good if isinstance(result, ArchiveError) else ()
                    if good and (head is None or good[0].header.parent_hash == head.hash):
                        await self._commit(list(good))  # an archive's blocks before a bad line
                    raise result
                head = self._state.head
                if head is not None and result[0].header.parent_hash != head.hash:
                    log.info("block %d does not extend the synced head", result[0].header.number)
                    await runs.aclose()  # cancel the fetches in flight before walking back
                    await self._reorg(result[0].header)
                    raise ReplanError
                await self._commit(result)

    # --- commits ------------------------------------------------------------------------------

    async def _commit(self, blocks: list[Block]) -> None:
        await run_to_completion(
            lambda: self.writer.append(
                blocks, chain_id=self._chain_id, headers_only=self.config.headers_only
            )
        )
        logs = sum(len(b.logs or ()) for b in blocks)
        self.counters.committed(len(blocks), logs)
        per_block = logs / len(blocks)
        self._logs_per_block = (
            per_block
            if not self._logs_per_block
            else (0.7 * self._logs_per_block + 0.3 * per_block)
        )
        self._inconsistent = InconsistentAnswers(self.config.max_inconsistent)
        self._caught_up = False
        await self._committed(ChainEvent((), tuple(blocks), blocks[-1].header))
        if self.observer is not None:
            self.observer.on_commit(self.status, len(blocks), logs)

    async def _committed(self, event: ChainEvent) -> None:
        """After a commit: build the sections it completed, then publish and wake waiters
        (so that whoever sees the event also sees the sections it completed)."""
        await self._build_sections()
        self.events.publish(event)
        async with self._progress:
            self._progress.notify_all()

    async def _build_sections(self) -> None:
        if self._upstream is None:
            return
        confirmed = self._upstream.number - self.config.confirmations
        while True:
            started = time.perf_counter()
            section = await run_to_completion(self.writer.build_section, confirmed)
            if section is None:
                break
            self.counters.section_built(time.perf_counter() - started)
            log.debug("section %d built", section)
            if self.observer is not None:
                self.observer.on_section(section)
        self._state = await run_to_completion(self.writer.state)

    # --- reorgs -------------------------------------------------------------------------------

    async def _find_ancestor(self) -> Header:
        state = self._state
        assert state.head is not None
        assert state.tail is not None
        return await find_common_ancestor(
            self.reader, self.source, state.head, state.tail, self.config.max_reorg_depth
        )

    async def _reorg(self, suspect: Header | None = None) -> None:
        """Replace our blocks above the common ancestor with the upstream's.

        ``suspect`` is the fetched block that did not extend the synced head, if that is what
        started the walk. When the upstream turns out to agree with our whole chain, there was
        no fork but an inconsistent answer: it is logged and retried after a pause, and raised
        once it has happened ``max_inconsistent`` times in a row.
        """
        while True:
            ancestor = await self._find_ancestor()
            assert self._state.head is not None
            old_head = self._state.head.number
            if ancestor.number == old_head:
                await self._inconsistent.pause_or_raise(ancestor, suspect)
                return
            upstream = await self.source.latest()
            self._on_head(upstream)
            last = min(upstream.number, old_head)
            try:
                blocks = await fetch_branch(self._fetch, ancestor, last, self._fetch_size)
            except ReplanError:
                continue
            removed = await run_to_completion(self.writer.reorg, ancestor, blocks)
            break
        log.info(
            "reorg: %d blocks above %d replaced by %d", len(removed), ancestor.number, len(blocks)
        )
        head = blocks[-1].header if blocks else ancestor
        self.counters.reorged(len(removed), len(blocks), sum(len(b.logs or ()) for b in blocks))
        if self.observer is not None:
            self.observer.on_reorg(ancestor.number, len(removed), len(blocks))
        await self._committed(ChainEvent(tuple(removed), tuple(blocks), head))
