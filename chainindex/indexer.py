"""The chain indexer: follows a source, stores headers and logs, builds bloom sections.

go-ethereum's ``ChainIndexer`` with its bloom back end, for a service beside a node:

* **Backfill** from the tail (``from_block``) to the upstream head: runs of blocks are
  fetched ahead (at most ``fetch_ahead`` runs in flight) and committed strictly in order,
  each run one atomic batch (:class:`~chainindex.writer.ChainWriter`).
* **Sections**: section ``s`` is built as soon as its last block is synced and has
  ``confirmations`` blocks on top of it at the upstream head.
* **Follow**: after backfill, new heads come from the source (newHeads on WebSocket, polling
  on HTTP); the indexer stays within a block of the head.
* **Reorgs**: a run whose first block does not extend the synced head, or an upstream head
  that differs from the stored block at its height, starts a walk back to the highest block
  both agree on. Blocks above it are replaced in one batch, sections above it truncated, and a
  :class:`~chainindex.events.ChainEvent` with the removed and added blocks published. A walk
  deeper than ``max_reorg_depth`` stops sync with :class:`~chainindex.errors.ReorgTooDeepError`.
* **Crash safety**: the store is only changed by :class:`ChainWriter` batches, each leaving a
  state sync resumes from; at start the indexer reads that state and carries on.

Lifecycle: ``await indexer.run()`` runs everything inside a :class:`asyncio.TaskGroup` the
indexer owns (the head watcher and the fetches); it returns when ``until`` is reached (or
the source is finite and exhausted, or ``follow`` is off and the head reached), raises the
first error otherwise, and on cancellation stops promptly, leaving no task behind and no
write half done.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bloombits.errors import LogfilterError
from chainindex.errors import (
    ArchiveError,
    ChainMismatchError,
    InvalidBlockError,
    MissingBlockError,
    ReorgTooDeepError,
    SourceError,
    SyncError,
    UpstreamError,
)
from chainindex.events import ChainEvent, ChainEvents
from chainindex.logstore import ChainReader, ChainState
from chainindex.ondemand import LogCache
from chainindex.source.base import ChainSource
from chainindex.store.kv import KeyValueStore
from chainindex.types import Block, Header
from chainindex.writer import ChainWriter

__all__ = ["ChainIndexer", "SyncConfig", "SyncObserver", "SyncStatus"]

T = TypeVar("T")

OUTAGE_MAX_PAUSE = 30.0
"""Longest pause between two attempts to reach a failing upstream once caught up."""

log = logging.getLogger("chainindex.indexer")


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """What to sync and how."""

    section_size: int = 4096
    """Blocks per bloom section (a multiple of 8; fixed per data directory)."""
    confirmations: int = 256
    """Blocks on top of a section's last block before the section is built (0 allowed)."""
    from_block: int | None = None
    """First block to sync into a new data directory (default 0); must match on resume."""
    until: int | None = None
    """Stop once this block is synced (None: no limit)."""
    follow: bool = True
    """Keep following new heads after catching up (ignored for a finite source)."""
    headers_only: bool = False
    """Store headers and sections only; logs are fetched on demand (``--no-logs``)."""
    max_reorg_depth: int = 1024
    """Deepest reorg handled; a deeper one stops sync with an error."""
    blocks_per_fetch: int = 32
    """Most blocks (with logs) per upstream fetch."""
    headers_per_fetch: int = 512
    """Most headers per upstream fetch in headers-only mode."""
    logs_per_fetch: int = 20_000
    """Fetches are shrunk so that one holds about this many logs (adapted as sync goes)."""
    fetch_ahead: int = 4
    """Fetches in flight ahead of the commit."""
    refresh_interval: float = 2.0
    """Seconds without news from the head watcher before the indexer asks for the head."""
    max_inconsistent: int = 6
    """Answers in a row that contradict the upstream's own chain (a block not extending the
    head the upstream still reports) before sync stops with an error."""

    def __post_init__(self) -> None:
        if self.section_size <= 0 or self.section_size % 8:
            raise ValueError(f"section size {self.section_size} is not a positive multiple of 8")
        for name in ("confirmations", "max_reorg_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("blocks_per_fetch", "headers_per_fetch", "logs_per_fetch", "fetch_ahead"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.from_block is not None and self.from_block < 0:
            raise ValueError("from_block must not be negative")


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where sync stands."""

    phase: str
    """``"starting"``, ``"syncing"`` (behind the head), ``"following"`` (at the head) or
    ``"stopped"``."""
    tail: int | None
    """First synced block (None before the first commit)."""
    synced_head: int | None
    """Highest synced block (None before the first commit)."""
    upstream_head: int | None
    """The upstream's head as last seen."""
    sections: int
    """Index of the next section to build (sections below it, from the tail's, are stored)."""


class SyncObserver(Protocol):
    """Told about sync progress (e.g. :class:`~chainindex.progress.ProgressReporter`)."""

    def on_commit(self, status: SyncStatus, blocks: int, logs: int) -> None:
        """``blocks`` blocks with ``logs`` logs were committed."""
        ...

    def on_reorg(self, ancestor: int, removed: int, added: int) -> None:
        """Blocks above ``ancestor`` were replaced."""
        ...

    def on_section(self, section: int) -> None:
        """A section was built."""
        ...


class _ReplanError(Exception):
    """Internal: the planned fetches no longer fit the upstream (divergence, missing block)."""


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The most telling error of a task group's failure: a deliberate one first."""
    flat: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            flat.append(exc)

    walk(group)
    for exc in flat:
        if isinstance(exc, LogfilterError):
            return exc
    return flat[0]


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
        self.source = source
        """Where blocks come from."""
        self.writer = ChainWriter(store, self.config.section_size)
        """The store's write side (fails here on a section-size mismatch)."""
        self.events = events or ChainEvents()
        """Where each commit is published."""
        self.observer = observer
        """Told about progress, if given."""
        self.logs_cache = LogCache(source) if self.config.headers_only else None
        """Logs fetched on demand (headers-only mode)."""
        self.reader = ChainReader(store, fetcher=self.logs_cache)
        """The read side, for the query path."""
        self._state: ChainState = self.writer.state()
        self._upstream: Header | None = None
        self._news = asyncio.Event()
        self._progress = asyncio.Condition()
        self._phase = "starting"
        self._logs_per_block = 0.0
        self._chain_id: int | None = None
        self._inconsistent = 0
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
                try:
                    await self._sync_loop(tasks)
                finally:
                    watcher.cancel()
        except BaseExceptionGroup as group:
            raise _first_error(group) from None
        finally:
            self._phase = "stopped"

    # --- blocking work off the loop ----------------------------------------------------------

    async def _blocking(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn`` in a thread; if cancelled meanwhile, let it finish first (a write batch
        is never abandoned half way, and the store is never closed under it)."""
        future = asyncio.get_running_loop().run_in_executor(None, fn, *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    # --- start ------------------------------------------------------------------------------

    async def _start(self) -> None:
        config = self.config
        chain_id = await self.source.chain_id()
        self._upstream = await self.source.latest()
        self._state = await self._blocking(self.writer.state)
        self.writer.check_config(
            chain_id=chain_id, headers_only=config.headers_only, tail=config.from_block
        )
        self._chain_id = chain_id
        state = self._state
        if state.tail is not None:
            assert state.head is not None
            stored_tail = await self._blocking(self.writer.header, state.tail)
            theirs = await self.source.header_at(state.tail)
            if stored_tail is None or theirs is None or theirs.hash != stored_tail.hash:
                raise ChainMismatchError(
                    f"{self.source.name} does not have the data directory's first block "
                    f"{state.tail}: it serves another chain"
                )
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
        except _ReplanError:
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
        ours = await self._blocking(self.writer.header, upstream.number)
        if ours is None or ours.hash != upstream.hash:
            return True
        # The upstream is behind us on the same chain: is our head still there?
        probe = await self.source.header_at(head.number)
        return probe is None or probe.hash != head.hash

    async def _fetch(self, first: int, last: int) -> list[Block] | SourceError:
        """The blocks, or the source's error as a value: a failed fetch must not abort the
        task group (the commit in progress completes, then the sync loop decides)."""
        try:
            return await self.source.blocks(first, last, with_logs=not self.config.headers_only)
        except MissingBlockError as err:
            if self.source.finite:
                return ArchiveError(f"{self.source.name} has no block {err.number}")
            return err
        except SourceError as err:
            return err

    def _fetch_size(self) -> int:
        config = self.config
        if config.headers_only:
            return config.headers_per_fetch
        if self._logs_per_block <= 0:
            return config.blocks_per_fetch
        fit = int(config.logs_per_fetch / self._logs_per_block)
        return max(1, min(config.blocks_per_fetch, fit))

    async def _sync_range(self, tasks: asyncio.TaskGroup, first: int, last: int) -> None:
        """Fetch ``first..last`` ahead and commit it in order; raises _ReplanError when the
        upstream no longer fits the plan (the caller re-plans)."""
        pending: deque[asyncio.Task[list[Block] | SourceError]] = deque()
        next_start = first

        def launch() -> None:
            nonlocal next_start
            while len(pending) < self.config.fetch_ahead and next_start <= last:
                end = min(last, next_start + self._fetch_size() - 1)
                pending.append(tasks.create_task(self._fetch(next_start, end)))
                next_start = end + 1

        try:
            launch()
            while pending:
                result = await pending.popleft()
                if isinstance(result, MissingBlockError):
                    raise _ReplanError
                if isinstance(result, SourceError):
                    raise result
                head = self._state.head
                if head is not None and result[0].header.parent_hash != head.hash:
                    log.info("block %d does not extend the synced head", result[0].header.number)
                    for task in pending:
                        task.cancel()
                    await self._reorg(result[0].header)
                    raise _ReplanError
                await self._commit(result)
                launch()
        finally:
            for task in pending:
                task.cancel()

    # --- commits ------------------------------------------------------------------------------

    async def _commit(self, blocks: list[Block]) -> None:
        await self._blocking(
            lambda: self.writer.append(
                blocks, chain_id=self._chain_id, headers_only=self.config.headers_only
            )
        )
        logs = sum(len(b.logs or ()) for b in blocks)
        per_block = logs / len(blocks)
        self._logs_per_block = (
            per_block
            if not self._logs_per_block
            else (0.7 * self._logs_per_block + 0.3 * per_block)
        )
        self._inconsistent = 0
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
        while (section := await self._blocking(self.writer.build_section, confirmed)) is not None:
            log.debug("section %d built", section)
            if self.observer is not None:
                self.observer.on_section(section)
        self._state = await self._blocking(self.writer.state)

    # --- reorgs -------------------------------------------------------------------------------

    async def _find_ancestor(self) -> Header:
        """Walk back from the synced head to the highest block the upstream agrees with."""
        state = self._state
        assert state.head is not None
        assert state.tail is not None
        head = state.head
        high: int = head.number
        step = 8
        while True:
            low = max(high - step + 1, state.tail)
            ours = await self._ours(low, high)
            theirs = await asyncio.gather(*(self.source.header_at(n) for n in range(low, high + 1)))
            for header, their in zip(reversed(ours), reversed(theirs), strict=True):
                if their is not None and their.hash == header.hash:
                    if head.number - header.number > self.config.max_reorg_depth:
                        break
                    return header
            depth = head.number - low + 1
            if depth > self.config.max_reorg_depth:
                raise ReorgTooDeepError(
                    f"the upstream's chain leaves ours more than {self.config.max_reorg_depth} "
                    f"blocks below the synced head {head.number}: stopping instead of guessing "
                    "(raise --max-reorg-depth, or resync into a new data directory)"
                )
            if low == state.tail:
                raise ReorgTooDeepError(
                    f"the upstream's chain leaves ours below the first synced block {state.tail}"
                )
            high = low - 1
            step *= 2

    async def _ours(self, low: int, high: int) -> list[Header]:
        headers = await self.reader.headers(low, high)
        if len(headers) != high - low + 1:
            raise ReorgTooDeepError(f"stored headers {low}..{high} are incomplete")
        return headers

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
                await self._inconsistent_answer(ancestor, suspect)
                return
            upstream = await self.source.latest()
            self._on_head(upstream)
            last = min(upstream.number, old_head)
            try:
                blocks = await self._fetch_branch(ancestor, last)
            except _ReplanError:
                continue
            removed = await self._blocking(self.writer.reorg, ancestor, blocks)
            break
        log.info(
            "reorg: %d blocks above %d replaced by %d", len(removed), ancestor.number, len(blocks)
        )
        head = blocks[-1].header if blocks else ancestor
        if self.observer is not None:
            self.observer.on_reorg(ancestor.number, len(removed), len(blocks))
        await self._committed(ChainEvent(tuple(removed), tuple(blocks), head))

    async def _inconsistent_answer(self, head: Header, suspect: Header | None) -> None:
        self._inconsistent += 1
        error: LogfilterError
        if suspect is not None:
            error = InvalidBlockError(
                suspect.number,
                f"parentHash 0x{suspect.parent_hash.hex()} does not extend block {head.number} "
                f"(0x{head.hash.hex()}), which the upstream itself still reports",
            )
        else:
            error = SyncError("the upstream's head conflicts with its own blocks")
        if self._inconsistent >= self.config.max_inconsistent:
            raise error
        delay = min(0.1 * 2 ** (self._inconsistent - 1), 5.0)
        log.warning("%s (try %d, retrying in %.2fs)", error, self._inconsistent, delay)
        await asyncio.sleep(delay)

    async def _fetch_branch(self, ancestor: Header, last: int) -> list[Block]:
        """The upstream's blocks ``ancestor + 1 .. last``, linked to ``ancestor``."""
        blocks: list[Block] = []
        parent = ancestor.hash
        start = ancestor.number + 1
        while start <= last:
            end = min(last, start + self._fetch_size() - 1)
            result = await self._fetch(start, end)
            if isinstance(result, MissingBlockError):
                raise _ReplanError
            if isinstance(result, SourceError):
                raise result
            if result[0].header.parent_hash != parent:
                raise _ReplanError
            blocks.extend(result)
            parent = result[-1].header.hash
            start = end + 1
        return blocks
