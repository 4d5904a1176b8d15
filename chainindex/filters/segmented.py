"""``SegmentedQueryEngine``: log queries over sealed history segments and the head store.

After ``logfilter backfill`` a data directory's history lives in sealed segments
(:mod:`chainindex.segments`) and the head store (the directory's own store) starts after the
last of them. This engine is the head store's :class:`~.engine.LogQueryEngine` with the
history in front of it: a range is resolved once over the whole chain (``earliest`` is the
first sealed block, ``latest`` the head store's head; geth's checks in geth's order, then
``max_block_range``), then fanned out, in block order, to one plain engine per segment it
touches and to the head engine for the rest. Each piece is an ordinary numeric-range query
of one store, so every block is answered by the same planner and verification as a plain
sync and the answer is the same, byte for byte. A range entirely in the head store goes to
the head engine unchanged.

Limits hold over the whole range: ``max_results`` counts across pieces and its suggested
range starts at the query's first block and ends before the block where the count went over
(the plain engine's rule); a piece is asked with what is left of the limit, so a segment
whose exact index counts past it stops before reading any log. Segments never change, so
only the head piece can meet a reorg: ``collect`` then starts the whole query over (up to
``reorg_retries`` times), ``stream`` raises once it has yielded, as the plain engine does.
What differs from one store: a ``blockHash`` query not found in the head looks in each
segment in turn (a hash has no order to search by).

The history grows while serving (:mod:`rpc.server.sealing`): :meth:`extend` adds a segment
sealed out of the head store, which still holds its blocks; a block of the history is
always asked of its segment, so queries starting from then on no longer read those blocks
from the head store. Each query is pinned to the generation it started in, and
:meth:`drained` tells the sealer when the queries of older generations, which may still read
the head store's copy, have all ended: only then are the blocks dropped from it (an RCU
grace period). The whole chain's state (:meth:`whole_state`) is the head store's widened to
the history, so that every method answers as on a plainly synced directory, an empty head
store included.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from typing import cast

from eth_typing import BlockNumber

from bloombits.retrieval import Retriever
from bloombits.valuecache import ValueCache
from chainindex.errors import (
    BlockRangeLimitError,
    ChainReorgedError,
    ResultLimitError,
    UnknownBlockError,
)
from chainindex.filters.config import Finality, QueryConfig
from chainindex.filters.criteria import LogQuery
from chainindex.filters.engine import LogQueryEngine
from chainindex.filters.exact import ExactCoverage
from chainindex.filters.planning import resolve_range
from chainindex.filters.records import RecordCache
from chainindex.filters.retriever import SectionRetriever
from chainindex.filters.verify import BlockLogs
from chainindex.segments.history import OpenSegment, SegmentHistory
from chainindex.store.reader import ChainReader, ChainState
from chainindex.types import Header

__all__ = ["SegmentedQueryEngine"]

log = logging.getLogger("chainindex.filters")

_Piece = tuple[LogQueryEngine, LogQuery, bool]
"""(engine, numeric sub-query, whether it is the head store's)."""
_Chunks = AsyncGenerator[list[BlockLogs]]
"""A plain engine's ``stream`` (an async generator)."""


class SegmentedQueryEngine(LogQueryEngine):
    """The head store's engine with sealed history in front (see the module docstring)."""

    def __init__(
        self,
        history: SegmentHistory,
        reader: ChainReader,
        retriever: Retriever,
        *,
        cache: ValueCache | None = None,
        finality: Finality | None = None,
        config: QueryConfig | None = None,
        records: RecordCache | None = None,
    ) -> None:
        super().__init__(
            reader, retriever, cache=cache, finality=finality, config=config, records=records
        )
        self.history = history
        """The sealed segments (owned by the caller, who closes them)."""
        self._piece_config = dataclasses.replace(self.config, max_block_range=0)
        self._retrievers: list[SectionRetriever] = []
        self.segment_engines: list[LogQueryEngine] = []
        """One plain engine per segment (their caches of records and their counters shared
        with the head's)."""
        for segment in history.segments:
            self._add_engine(segment)
        self._generation = 0
        """Bumped by :meth:`extend`: queries pinned below it may still use the head store's
        copy of the blocks sealed since."""
        self._pinned: Counter[int] = Counter()
        """Queries running, by the generation they started in."""
        self._unpinned = asyncio.Event()
        """Set whenever a generation's last query ends."""

    def _add_engine(self, segment: OpenSegment) -> None:
        retriever = SectionRetriever(segment.reader.sections)
        engine = LogQueryEngine(
            segment.reader, retriever, config=self._piece_config, records=self.records
        )
        engine.stats = engine.stretches.stats = self.stats
        self._retrievers.append(retriever)
        self.segment_engines.append(engine)

    def close(self) -> None:
        """Shut the segments' retrievers down (the head's belongs to the caller)."""
        for retriever in self._retrievers:
            retriever.close()

    # --- a segment sealed from the head store ------------------------------------------------

    def extend(self, segment: OpenSegment) -> int:
        """Answer the blocks of ``segment`` (just sealed from the head store, which still
        holds them) from it, for queries starting from now on; returns the generation that
        :meth:`drained` waits for before the head store may drop them."""
        self.history.append(segment)
        self._add_engine(segment)
        self._generation += 1
        return self._generation

    async def drained(self, generation: int) -> None:
        """Wait until every query that started before ``generation`` has ended (those may
        still read the head store's copy of the blocks sealed since)."""
        while any(g < generation for g in self._pinned):
            self._unpinned.clear()
            await self._unpinned.wait()

    @contextmanager
    def _pin(self) -> Iterator[None]:
        """Count a query in the generation it starts in, until it ends."""
        generation = self._generation
        self._pinned[generation] += 1
        try:
            yield
        finally:
            self._pinned[generation] -= 1
            if not self._pinned[generation]:
                del self._pinned[generation]
                self._unpinned.set()

    def history_head(self) -> Header:
        """The last sealed block's header."""
        return self.history.segments[-1].head

    async def whole_state(self) -> ChainState:
        """The head store's state widened to the history: tail its first block, head the
        last sealed one while the head store is empty, sections from the first sealed one,
        the chain id and headers-only mode the seals name when the head store has none
        yet."""
        state = await self.reader.state()
        history = self.history
        size = state.section_size
        chain_id = state.chain_id
        if chain_id is None:
            chain_id = history.segments[-1].seal.chain_id
        headers_only = state.headers_only
        if state.head is None:  # an empty head store: the history says
            headers_only = history.segments[-1].seal.headers_only
        return dataclasses.replace(
            state,
            headers_only=headers_only,
            tail=BlockNumber(history.first),
            head=state.head if state.head is not None else self.history_head(),
            first_section=history.first // size,
            sections=max(state.sections, (history.last + 1) // size),
            chain_id=chain_id,
        )

    async def coverage(self) -> ExactCoverage | None:
        """The head store's coverage widened to the history (sealed with an exact index,
        unless headers only): from the first sealed block while the head store's records
        reach down to its tail."""
        head = await super().coverage()
        history = self.history
        if any(s.seal.headers_only for s in history.segments):
            return head
        if head is None or head.first_block is None:
            last = history.last if head is None else max(history.last, head.last_block or 0)
            return ExactCoverage(history.first, last, 0 if head is None else head.sections_to_build)
        if head.sections_to_build:
            return head
        return dataclasses.replace(head, first_block=history.first)

    # --- splitting ---------------------------------------------------------------------------

    async def _pieces(self, query: LogQuery) -> tuple[int, list[_Piece]] | None:
        """The range's first block and its pieces in block order; None when the range is
        above the history (the head engine answers it alone). Blocks of the history are
        always asked of their segment, even while the head store still holds them (a seal
        between its publication and its drop)."""
        state = await self.whole_state()
        first, last = resolve_range(query, state, await self._finality(query))
        limit = self.config.max_block_range
        if limit and last - first + 1 > limit:
            raise BlockRangeLimitError(limit, first)
        if first > self.history.last:
            return None
        pieces: list[_Piece] = []
        at = 0
        for segment in self.history.overlapping(first, last):
            while self.history.segments[at] is not segment:
                at += 1
            bounds = (max(first, segment.seal.first), min(last, segment.seal.last))
            sub = dataclasses.replace(query, from_block=bounds[0], to_block=bounds[1])
            pieces.append((self.segment_engines[at], sub, False))
        if last > self.history.last:
            sub = dataclasses.replace(query, from_block=self.history.last + 1, to_block=last)
            pieces.append((self, sub, True))
        return first, pieces

    @staticmethod
    def _run(engine: LogQueryEngine, query: LogQuery) -> _Chunks:
        """A piece's chunks, through the plain engine's stream (the head's too)."""
        return cast(_Chunks, LogQueryEngine.stream(engine, query))

    async def _by_hash(self, query: LogQuery, max_results: int) -> list[BlockLogs]:
        try:
            return await super().collect(query, max_results)
        except UnknownBlockError:
            pass
        for engine in self.segment_engines:
            try:
                return await engine.collect(query, max_results)
            except UnknownBlockError:
                continue
        raise UnknownBlockError()

    # --- public ------------------------------------------------------------------------------

    async def collect(self, query: LogQuery, max_results: int = 0) -> list[BlockLogs]:
        """The whole answer over history and head; :class:`ResultLimitError` past
        ``max_results`` logs in all (0: no limit)."""
        with self._pin():
            return await self._collect_pinned(query, max_results)

    async def _collect_pinned(self, query: LogQuery, max_results: int) -> list[BlockLogs]:
        if query.block_hash is not None:
            return await self._by_hash(query, max_results)
        for attempt in range(self.config.reorg_retries + 1):
            split = await self._pieces(query)
            if split is None:
                return await super().collect(query, max_results)
            first, pieces = split
            try:
                return await self._collect(first, pieces, max_results)
            except ChainReorgedError:
                if attempt == self.config.reorg_retries:
                    raise
                log.info("chain reorganised under a query: starting it over")
        raise AssertionError("unreachable")

    async def _collect(self, first: int, pieces: list[_Piece], max_results: int) -> list[BlockLogs]:
        out: list[BlockLogs] = []
        total = 0
        for engine, sub, _ in pieces:
            left = max_results - total
            if max_results and left > 0:
                try:
                    found = await LogQueryEngine.collect(engine, sub, left)
                except ResultLimitError as err:
                    assert isinstance(sub.from_block, int)
                    if err.last > sub.from_block or sub.from_block == first:
                        raise ResultLimitError(max_results, first, err.last) from None
                    found = None  # over at its first block or the next: count it below
                if found is not None:
                    out.extend(found)
                    total += sum(len(b) for b in found)
                    continue
            async with aclosing(self._run(engine, sub)) as chunks:
                async for chunk in chunks:
                    for block in chunk:
                        total += len(block)
                        if max_results and total > max_results:
                            last = max(first, block.header.number - 1)
                            raise ResultLimitError(max_results, first, last)
                        out.append(block)
        return out

    async def stream(self, query: LogQuery) -> AsyncIterator[list[BlockLogs]]:
        """The answer in chunks over history and head, in block order."""
        with self._pin():
            async with aclosing(self._stream_pinned(query)) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def _stream_pinned(self, query: LogQuery) -> AsyncGenerator[list[BlockLogs]]:
        if query.block_hash is not None:
            yield await self._by_hash(query, 0)
            return
        for attempt in range(self.config.reorg_retries + 1):
            split = await self._pieces(query)
            started = False
            try:
                if split is None:
                    async with aclosing(cast(_Chunks, super().stream(query))) as chunks:
                        async for chunk in chunks:
                            started = True
                            yield chunk
                    return
                for engine, sub, _ in split[1]:
                    async with aclosing(self._run(engine, sub)) as chunks:
                        async for chunk in chunks:
                            started = True
                            yield chunk
                return
            except ChainReorgedError:
                if started or attempt == self.config.reorg_retries:
                    raise
                log.info("chain reorganised under a query: starting it over")
