"""``LogQueryEngine``: answers log queries from the store, in block order.

go-ethereum's ``Filter.Logs`` (``eth/filters/filter.go``, bloombits era: ``indexedLogs``
through a matcher session, ``unindexedLogs`` over the headers) as a service's
query path: plan over one snapshot (:mod:`~chainindex.filters.planning`, whose docstring
states the rule), answering small queries in that same first worker call
(:mod:`~chainindex.filters.firstcall`); the blocks holding a match from the exact log index
where the directory has one (:mod:`~chainindex.filters.exact`: its stored records and the
engine's :class:`~chainindex.store.exact.HeadIndex`), candidates from the bloom sections
through :class:`bloombits.Matcher` for sections without it and from the headers' blooms for
the rest (:mod:`~chainindex.filters.candidates`); every candidate verified against its logs
(:mod:`~chainindex.filters.verify`), many blocks per worker-thread call
(:mod:`~chainindex.filters.stretches`). The stretches run in block order: bloom sections,
exact records, header scan, head index. The answer comes as chunks of :class:`BlockLogs`,
ascending:

* :meth:`LogQueryEngine.collect` gathers the whole answer, stopping with
  :class:`~chainindex.errors.ResultLimitError` as soon as it passes ``max_results`` (so the
  limit bounds memory), or before reading any log when the exact index counts the answer;
* :meth:`LogQueryEngine.stream` yields chunks as they are verified, for an answer written
  out while it is found (no limit: memory is bounded by a chunk).

**Consistency under reorgs.** Every worker call first checks that the plan's anchor (the
last block of the range) is still canonical; a block hash commits to its ancestors, so this
proves every block verified so far belongs to the chain planned on. When the check fails, or
when the owner reports a reorg reaching into a running query's range
(:meth:`LogQueryEngine.notify_reorg`, which also wakes a matcher waiting for sections the
reorg truncated), the query starts over on a new plan, up to ``reorg_retries`` times; a
stream that already yielded cannot start over and raises
:class:`~chainindex.errors.ChainReorgedError` instead.

**Candidate density** (matched blocks / candidate blocks) is counted in :attr:`stats` and
logged per query at debug level: bloom saturation shows as a low density.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from functools import partial

from bloombits.matcher import Matcher
from bloombits.retrieval import Retriever
from bloombits.valuecache import ValueCache
from chainindex.errors import ChainReorgedError, ResultLimitError
from chainindex.filters.config import Finality, QueryConfig, QueryStats
from chainindex.filters.criteria import BlockTag, LogQuery
from chainindex.filters.direct import VectorCache
from chainindex.filters.exact import ExactCoverage, exact_coverage, refresh_head
from chainindex.filters.firstcall import SectionsSeen, first_call
from chainindex.filters.planning import SearchPlan, plan_block
from chainindex.filters.records import RecordCache
from chainindex.filters.stretches import StretchRunner
from chainindex.filters.verify import (
    BlockLogs,
    RecordMatcher,
    Verified,
    check_anchor,
    verify_blocks,
    verify_headers,
)
from chainindex.store.exact import HeadIndex
from chainindex.store.exact.cache import ExactBitmapCache
from chainindex.store.reader import ChainReader, ChainState, ChainView
from chainindex.types import Header

__all__ = ["LogQueryEngine"]

log = logging.getLogger("chainindex.filters")


class _Run:
    """One running attempt, interruptible by a reorg while it waits on the matcher."""

    def __init__(self, first: int, last: int) -> None:
        self.first = first
        self.last = last
        self.task = asyncio.current_task()
        self.armed = False
        self.interrupted = False
        self.checked = True
        """Whether a verification (with its anchor check) followed the last matcher batch."""

    def interrupt(self) -> None:
        if self.interrupted:
            return
        self.interrupted = True
        if self.armed and self.task is not None:
            self.task.cancel()


class LogQueryEngine:
    """Answers :class:`LogQuery` objects over one data directory (see the module)."""

    def __init__(
        self,
        reader: ChainReader,
        retriever: Retriever,
        *,
        cache: ValueCache | None = None,
        finality: Finality | None = None,
        config: QueryConfig | None = None,
        records: RecordCache | None = None,
        head: HeadIndex | None = None,
    ) -> None:
        self.reader = reader
        """The store's read side (its fetcher supplies headers-only logs)."""
        self.retriever = retriever
        """The matcher's vector source (one per data directory)."""
        self.cache = cache
        """The matcher's value cache (one per data directory)."""
        self.finality = finality
        """Where safe/finalized come from; None: they mean the synced head."""
        self.config = config or QueryConfig()
        """Limits and batching."""
        self.records = records if records is not None else RecordCache()
        """Parsed logs records of recent blocks (one per data directory)."""
        self.vectors = VectorCache(16 << 20 if self.records.max_bytes else 0)
        """Decompressed section vectors of the direct path (one per data directory)."""
        self.stats = QueryStats()
        """Counters, candidate density among them."""
        self.exact_cache = (
            ExactBitmapCache(self.config.exact_cache_bytes)
            if self.config.exact_cache_bytes
            else None
        )
        """Decoded exact-index records of values in repeated use (None: off)."""
        self.head = head if head is not None else HeadIndex(reader.sections.section_size)
        """The exact index of the blocks above the stored sections (one per data directory;
        used only where the directory has an exact index)."""
        self.stretches = StretchRunner(reader, self.config, self.records, self.stats)
        """Verification of the stretches after the first call."""
        self._running: set[_Run] = set()
        self._sections_seen: SectionsSeen | None = None
        """(section count, head of the last stored section) when last planned."""

    # --- public -----------------------------------------------------------------------------

    def notify_reorg(self, first_block: int) -> None:
        """Blocks from ``first_block`` on were replaced: drop cached vectors computed from
        them and restart the queries whose range reaches them."""
        if self.cache is not None:
            self.cache.invalidate(first_block)
        for run in list(self._running):
            if run.last >= first_block:
                run.interrupt()

    async def refresh_head(self) -> None:
        """Bring the head index to the store's synced head (the service calls this after
        each commit, so that queries seldom do the work); nothing under ``query_path``
        ``bloom``."""
        if self.config.query_path != "bloom":
            await self.reader.read(partial(refresh_head, head=self.head))

    async def whole_state(self) -> ChainState:
        """The state of the chain this engine answers for (the store's; a segmented engine's
        widens it to its sealed history)."""
        return await self.reader.state()

    def history_head(self) -> Header | None:
        """The last block of sealed history below the store (None: no history)."""
        return None

    async def coverage(self) -> ExactCoverage | None:
        """How far the exact index's stored records reach (None: no exact index)."""
        return await self.reader.read(exact_coverage)

    async def collect(self, query: LogQuery, max_results: int = 0) -> list[BlockLogs]:
        """The whole answer; :class:`ResultLimitError` past ``max_results`` logs (0: no
        limit)."""
        for attempt in range(self.config.reorg_retries + 1):
            out: list[BlockLogs] = []
            total = 0
            try:
                async with aclosing(self._attempt(query, max_results)) as chunks:
                    async for first, chunk in chunks:
                        for block in chunk:
                            total += len(block)
                            if max_results and total > max_results:
                                last = max(first, block.header.number - 1)
                                raise ResultLimitError(max_results, first, last)
                            out.append(block)
                return out
            except ChainReorgedError:
                if attempt == self.config.reorg_retries:
                    raise
                log.info("chain reorganised under a query: starting it over")
        raise AssertionError("unreachable")

    async def stream(self, query: LogQuery) -> AsyncIterator[list[BlockLogs]]:
        """The answer in chunks, as found (see the module docstring on reorgs)."""
        for attempt in range(self.config.reorg_retries + 1):
            started = False
            try:
                async with aclosing(self._attempt(query)) as chunks:
                    async for _, chunk in chunks:
                        started = True
                        yield chunk
                return
            except ChainReorgedError:
                if started or attempt == self.config.reorg_retries:
                    raise
                log.info("chain reorganised under a query: starting it over")

    # --- one attempt --------------------------------------------------------------------------

    async def _finality(self, query: LogQuery) -> Mapping[BlockTag, int] | None:
        tags = query.tags() & {BlockTag.SAFE, BlockTag.FINALIZED}
        if not tags or self.finality is None:
            return None
        return await self.finality.numbers(tags)

    async def _attempt(
        self, query: LogQuery, max_results: int = 0
    ) -> AsyncGenerator[tuple[int, list[BlockLogs]]]:
        """Yields ``(first block of the range, chunk)``; chunks may be empty."""
        self.stats.queries += 1
        matcher = RecordMatcher(query.criteria)
        if query.block_hash is not None:
            block_hash = query.block_hash

            def one_block(view: ChainView) -> tuple[Header, Verified]:
                header = plan_block(view, block_hash)
                out = Verified()
                verify_headers(view, [header], matcher, out, self.records)
                return header, out

            header, verified = await self.reader.read(one_block)
            yield header.number, await self.stretches.complete(verified, matcher, None)
            return
        finality = await self._finality(query)
        planned = await self.reader.read(
            partial(
                first_call,
                query=query,
                finality=finality,
                matcher=matcher,
                config=self.config,
                seen=self._sections_seen,
                vectors=self.vectors,
                records=self.records,
                head=self.head,
                max_results=max_results,
                exact_cache=self.exact_cache,
            )
        )
        plan = planned.plan
        if not planned.fresh and self.cache is not None:
            self.cache.clear()  # stored sections were rewritten (a reorg deeper than them)
        self._sections_seen = planned.sections
        if planned.answer is not None:
            for path, verified in planned.answer:
                self.stats.paths[path].stretches += 1
                yield plan.first, await self.stretches.complete(verified, matcher, path)
            return
        run = _Run(plan.first, plan.last)
        self._running.add(run)
        started = time.perf_counter()
        candidates = self.stats.candidate_blocks
        matched = self.stats.matched_blocks
        stretches = self.stretches
        try:
            if planned.candidates is not None:
                async for chunk in stretches.verify(planned.candidates, plan, matcher, "bloom"):
                    yield plan.first, chunk
            elif plan.indexed is not None:
                async with aclosing(self._indexed(plan, query, matcher, run)) as indexed:
                    async for chunk in indexed:
                        yield plan.first, chunk
                if not run.checked:
                    # No verification followed the matcher's last vectors: check once more.
                    await self.reader.read(partial(check_anchor, anchor=(plan.last, plan.anchor)))
            if planned.exact_blocks is not None and plan.exact is not None:
                async for chunk in stretches.verify(planned.exact_blocks, plan, matcher, "exact"):
                    yield plan.first, chunk
            if plan.scan is not None:
                groups = query.criteria.value_groups
                async with aclosing(stretches.scan(plan, groups, matcher)) as scanned:
                    async for chunk in scanned:
                        yield plan.first, chunk
            if planned.head_blocks is not None and plan.head is not None:
                async for chunk in stretches.verify(planned.head_blocks, plan, matcher, "exact"):
                    yield plan.first, chunk
        finally:
            self._running.discard(run)
        if log.isEnabledFor(logging.DEBUG):
            c = self.stats.candidate_blocks - candidates
            m = self.stats.matched_blocks - matched
            log.debug(
                "blocks %d..%d: %d candidates, %d matched (density %s) in %.1f ms",
                plan.first, plan.last, c, m, f"{m / c:.3f}" if c else "-",
                1000 * (time.perf_counter() - started),
            )  # fmt: skip

    async def _indexed(
        self, plan: SearchPlan, query: LogQuery, matcher: RecordMatcher, run: _Run
    ) -> AsyncGenerator[list[BlockLogs]]:
        assert plan.indexed is not None
        first, last = plan.indexed
        self.stats.paths["bloom"].stretches += 1
        bloom_matcher = Matcher(plan.section_size, query.criteria.groups, cache=self.cache)
        anchor = (plan.last, plan.anchor)
        step = self.config.verify_batch
        async with bloom_matcher.start(first, last, self.retriever) as session:
            batches = session.batches()
            while True:
                if run.interrupted:
                    raise ChainReorgedError("the chain was reorganised under the query")
                run.armed = True
                try:
                    batch = await anext(batches, None)
                except asyncio.CancelledError:
                    task = run.task
                    if run.interrupted and task is not None and task.uncancel() == 0:
                        raise ChainReorgedError(
                            "the chain was reorganised under the query"
                        ) from None
                    raise
                finally:
                    run.armed = False
                if batch is None:
                    return
                run.checked = False
                numbers = batch.numbers
                for at in range(0, len(numbers), step):
                    part = numbers[at : at + step]
                    verified = await self.reader.read(
                        partial(
                            verify_blocks,
                            numbers=part,
                            matcher=matcher,
                            anchor=anchor,
                            records=self.records,
                        )
                    )
                    run.checked = True
                    yield await self.stretches.complete(verified, matcher, "bloom")
