"""``MatcherSession``: one run of a :class:`~bloombits.matcher.Matcher` over a block range.

The session owns every task of its run, in one :class:`asyncio.TaskGroup` under one runner
task: the retriever tasks (:func:`~bloombits.multiplex.multiplex`), the source that cuts
the range into batches, and the two tasks of each sub-matcher. It ends in one of three ways:

* the range is exhausted: the last batch reaches the consumer, the distributor shuts down and
  the retriever tasks return;
* a task fails (a retriever error, a malformed answer): every task is cancelled and the
  consumer's next read raises that error, never a silent short result;
* the consumer leaves the ``async with`` block (or calls :meth:`MatcherSession.close`)
  early: every task is cancelled at once (or, with a ``grace`` period, retrievals in flight
  may first finish and land in the shared schedulers); the retrievals the session still owed
  to other sessions of the same matcher are handed over to them.

No task of the session outlives ``close``. Results come in ascending block order, either
one block number at a time (``async for number in session``) or as numpy arrays of block
numbers (``async for batch in session.batches()``), which is what a fast consumer wants: a
single saturated address matches millions of blocks.

go-ethereum's ``MatcherSession`` (core/bloombits/matcher.go) plays the same part with a quit
channel, a wait group and a stored error; here an :class:`asyncio.TaskGroup` holds the tasks
and the error reaches the consumer through the results channel. The stages come from
:mod:`bloombits.submatch`; the session sees its matcher through
:class:`~bloombits.submatch.MatchPlan` and so does not import :mod:`bloombits.matcher` (which
imports this module to start sessions).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from bloombits.arrays import I64, U8
from bloombits.channel import Channel
from bloombits.distributor import Distributor
from bloombits.errors import EndOfStreamError, MatcherError
from bloombits.multiplex import multiplex
from bloombits.submatch import MatchPlan, PartialMatches, SessionContext, order_groups, sub_match

if TYPE_CHECKING:
    from bloombits.retrieval import Retriever

__all__ = ["MatchBatch", "MatcherSession", "SessionClosedError"]


class SessionClosedError(MatcherError):
    """The session was closed before its results were all read."""


class MatchBatch:
    """Candidate blocks of one batch of consecutive sections.

    ``bitsets`` is what the matcher computed (one row per section, a set bit per candidate
    block, bits outside the session's range clear); ``numbers`` lists the same candidates as
    block numbers, computed on first use (at saturated fill, millions of them).
    """

    __slots__ = ("_numbers", "bitsets", "first_block", "first_section", "last_block", "size")

    def __init__(
        self, first_section: int, bitsets: U8, section_size: int, begin: int, end: int
    ) -> None:
        self.first_section = first_section
        """Section of the first row of ``bitsets``."""
        self.bitsets = bitsets
        """``(sections, section_size // 8)``, read-only: block ``k`` of a section is bit
        ``7 - k % 8`` of byte ``k // 8`` of its row."""
        self.size = section_size
        """Blocks per section."""
        self.first_block = max(begin, first_section * section_size)
        """First block of the range this batch covers (within the session's range)."""
        self.last_block = min(end, (first_section + len(bitsets)) * section_size - 1)
        """Last block this batch covers; no candidate at or below it comes later."""
        self._numbers: I64 | None = None
        """``numbers`` once computed."""

    @property
    def numbers(self) -> I64:
        """Candidate block numbers in ``first_block..last_block``, ascending (never empty)."""
        if self._numbers is None:
            numbers = _set_bits(self.bitsets.reshape(-1))
            numbers += self.first_section * self.size
            numbers.flags.writeable = False
            self._numbers = numbers
        return self._numbers

    def __len__(self) -> int:
        """Number of candidate blocks (a popcount, without listing them)."""
        return int(np.bitwise_count(self.bitsets).sum())

    def __repr__(self) -> str:
        return f"MatchBatch(blocks {self.first_block}..{self.last_block}, {len(self)} candidates)"


class MatcherSession:
    """A running match over ``begin..end``; see the module docstring for its lifecycle."""

    def __init__(
        self,
        matcher: MatchPlan,
        begin: int,
        end: int,
        retriever: Retriever,
        *,
        retrievers: int,
        batch: int,
        wait: float,
        buffer: int,
        retry_delay: float,
    ) -> None:
        for name, value in (("begin", begin), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MatcherError(f"{name} must be a block number (an int >= 0), got {value!r}")
        if begin > end:
            raise MatcherError(f"begin {begin} is after end {end}")
        if retrievers < 1 or batch < 1 or buffer < 1 or wait < 0 or retry_delay < 0:
            raise MatcherError(
                "retrievers, batch and buffer must be at least 1; wait and retry_delay >= 0"
            )
        self.matcher = matcher
        """The matcher this session runs."""
        self.begin = begin
        """First block of the range."""
        self.end = end
        """Last block of the range (inclusive)."""
        self.retriever = retriever
        """Where the bit-vectors come from."""
        self.retrievers = retrievers
        """Number of retriever tasks."""
        self.batch = batch
        """Most sections asked for in one retrieval."""
        self.wait = wait
        """Seconds a retriever task waits for a batch to fill."""
        self.distributor = Distributor(matcher.schedulers, retry_delay=retry_delay)
        """This session's queue of pending retrievals."""
        self._ctx = SessionContext(matcher, self.distributor, buffer)
        """What the session's stages share."""
        self._results: Channel[PartialMatches] = Channel(buffer)
        """What the last sub-matcher produces, read by the consumer."""
        self._runner: asyncio.Task[None] | None = None
        """The task that owns every task of the session."""
        self._pipeline: list[asyncio.Task[None]] = []
        """The source and sub-matcher tasks (cancelled first on a graceful close)."""

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> MatcherSession:
        if self._runner is not None:
            raise MatcherError("a session can be started only once")
        matcher = self.matcher
        cache = matcher.cache
        if cache is not None:
            first, last = self.begin // matcher.section_size, self.end // matcher.section_size
            values = {value for group in matcher.groups for value in group}
            self._ctx.cacheable = cache.begin_query(values, last - first + 1)
            self._ctx.generation = cache.generation
        self._runner = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, *, grace: float = 0.0) -> None:
        """Stop the session; when it returns, no task of the session is left.

        With ``grace > 0``, retrievals already in flight get up to that many seconds to
        finish and deliver (their vectors stay cached for other sessions of the matcher);
        everything else stops at once.
        """
        runner = self._runner
        if runner is None or runner.done():
            return
        if grace > 0:
            for task in self._pipeline:
                task.cancel()
            self.distributor.shutdown()
            await asyncio.wait({runner}, timeout=grace)
        runner.cancel()
        cancelled = False
        while not runner.done():
            try:
                await asyncio.wait({runner})
            except asyncio.CancelledError:
                cancelled = True  # finish tearing down first, then honour it
        if cancelled:
            raise asyncio.CancelledError()

    async def _run(self) -> None:
        matcher, ctx = self.matcher, self._ctx
        error: BaseException = SessionClosedError("the session was closed before it finished")
        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(self.retrievers):
                    tg.create_task(
                        multiplex(
                            self.distributor,
                            self.retriever,
                            batch=self.batch,
                            wait=self.wait,
                            width=matcher.width,
                        )
                    )
                batches = self._batches()
                groups = list(matcher.groups)
                first_batch = next(batches)
                if len(groups) > 1:
                    groups, first_batch = await order_groups(ctx, groups, first_batch)
                source: Channel[PartialMatches] = Channel(ctx.buffer)
                self._pipeline.append(tg.create_task(self._feed(source, first_batch, batches)))
                chain = source
                for position, group in enumerate(groups):
                    last = position == len(groups) - 1
                    chain, tasks = sub_match(tg, ctx, group, chain, self._results if last else None)
                    self._pipeline.extend(tasks)
                if not groups:
                    self._pipeline.append(tg.create_task(_forward(source, self._results)))
                await asyncio.wait(self._pipeline)
                self.distributor.shutdown()
        except BaseExceptionGroup as group:
            error = _first_failure(group)  # handed to the consumer, not raised here
        finally:
            self._results.close(error)  # no-op when the last stage closed it normally
            self.distributor.shutdown()
            for scheduler in matcher.schedulers.values():
                scheduler.release(self.distributor)

    def _batches(self) -> _BatchIterator:
        return _BatchIterator(self.matcher, self.begin, self.end)

    async def _feed(
        self,
        source: Channel[PartialMatches],
        first: PartialMatches,
        rest: _BatchIterator,
    ) -> None:
        """The head of the chain: every batch of the range, all blocks in range set (the first
        one possibly matched already)."""
        if not first.complete or first.bitsets.any():
            await source.put(first)
        for batch in rest:
            await source.put(batch)
        source.close()

    # --- results -----------------------------------------------------------------------------

    def batches(self) -> AsyncIterator[MatchBatch]:
        """Candidate blocks as arrays, one :class:`MatchBatch` per batch with candidates."""
        return _MatchBatchIterator(self)

    async def _next_batch(self) -> MatchBatch | None:
        if self._runner is None:
            raise MatcherError("use the session with `async with` before reading it")
        try:
            matches = await self._results.get()
        except EndOfStreamError:
            return None
        return self._to_batch(matches)

    def _to_batch(self, matches: PartialMatches) -> MatchBatch:
        bitsets = matches.bitsets
        bitsets.flags.writeable = False
        return MatchBatch(matches.first, bitsets, self.matcher.section_size, self.begin, self.end)

    def __aiter__(self) -> AsyncIterator[int]:
        return _NumberIterator(self)


class _BatchIterator:
    """Cuts ``begin..end`` into batches aligned on ``batch_sections``, blocks in range set."""

    def __init__(self, matcher: MatchPlan, begin: int, end: int) -> None:
        self.size = matcher.section_size
        """Blocks per section."""
        self.per_batch = matcher.batch_sections
        """Sections per batch (batches are aligned on multiples of it)."""
        self.width = matcher.width
        """Bytes per vector."""
        self.begin, self.end = begin, end
        """The block range."""
        self.next_section = begin // self.size
        """First section of the next batch."""
        self.last_section = end // self.size
        """Section of the last block."""

    def __iter__(self) -> _BatchIterator:
        return self

    def __next__(self) -> PartialMatches:
        first = self.next_section
        if first > self.last_section:
            raise StopIteration
        last = min(self.last_section, (first // self.per_batch + 1) * self.per_batch - 1)
        self.next_section = last + 1
        bitsets = np.full((last - first + 1, self.width), 0xFF, dtype=np.uint8)
        offsets = np.arange(self.size)
        if first == self.begin // self.size:
            bitsets[0] &= np.packbits(offsets >= self.begin - first * self.size)
        if last == self.last_section:
            bitsets[-1] &= np.packbits(offsets <= self.end - last * self.size)
        return PartialMatches(first, bitsets)


class _MatchBatchIterator:
    """``async for batch in session.batches()``."""

    def __init__(self, session: MatcherSession) -> None:
        self._session = session
        """The session read from."""

    def __aiter__(self) -> _MatchBatchIterator:
        return self

    async def __anext__(self) -> MatchBatch:
        batch = await self._session._next_batch()
        if batch is None:
            raise StopAsyncIteration
        return batch


class _NumberIterator:
    """``async for number in session``: the candidates one by one, from the array batches."""

    def __init__(self, session: MatcherSession) -> None:
        self._session = session
        """The session read from."""
        self._numbers: list[int] = []
        """The current batch's candidates."""
        self._index = 0
        """Next position in ``_numbers``."""

    def __aiter__(self) -> _NumberIterator:
        return self

    async def __anext__(self) -> int:
        if self._index >= len(self._numbers):
            batch = await self._session._next_batch()
            if batch is None:
                raise StopAsyncIteration
            self._numbers, self._index = batch.numbers.tolist(), 0
        number = self._numbers[self._index]
        self._index += 1
        return number


async def _forward(source: Channel[PartialMatches], results: Channel[PartialMatches]) -> None:
    """The whole chain when every group is a wildcard."""
    async for batch in source:
        await results.put(batch)
    results.close()


def _set_bits(flat: U8) -> I64:
    """Positions of the set bits of a byte string read most significant bit first."""
    if np.count_nonzero(flat) * 4 > flat.size:  # dense: unpack everything
        dense: I64 = np.nonzero(np.unpackbits(flat).view(np.bool_))[0].astype(np.int64, copy=False)
        return dense
    nonzero = np.nonzero(flat)[0]
    rows, bits = np.nonzero(np.unpackbits(flat[nonzero].reshape(-1, 1), axis=1))
    positions: I64 = nonzero[rows] * 8 + bits
    return positions


def _first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error of a task group that is not a cancellation."""
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_failure(error)
        if not isinstance(error, asyncio.CancelledError):
            return error
    return group
