"""``Matcher``: the daisy chain of sub-matchers that turns bit-vectors into candidate blocks.

go-ethereum's ``Matcher`` (core/bloombits/matcher.go) filters with one sub-matcher per
filter group (the address list, then each topic position): a sub-matcher fetches, for each
section it receives, the three bit-vectors of each of its values, ANDs the three, ORs the
values together, ANDs the result into the section's running bitset and passes the section on
only when some bit is left, so that later groups never fetch the bits of a section an
earlier group ruled out. The last sub-matcher's output is the stream of candidate blocks.

This port keeps that chain and its names (``partialMatches``, ``subMatch`` with its
requesting and processing halves) with one change of unit: what flows is a batch of up to
``batch_sections`` consecutive sections held as a 2-D array (one row per section), so every
AND/OR runs over a whole batch and the asyncio cost is paid per batch. A section whose row
is all zero stays in its batch as a zero row and is not asked for by later groups.

Beyond go-ethereum (seed 001, Elasticsearch's filter execution):

* the sub-matchers are ordered sparsest first: before the chain starts, the first batch is
  matched by every group and the groups are sorted by how many blocks they leave;
* an optional :class:`~bloombits.valuecache.ValueCache` serves and keeps the AND-ed vectors
  of values that recent queries use often.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bloombits.arrays import U8, Mask
from bloombits.bloom import bloom_indexes
from bloombits.channel import Channel
from bloombits.errors import MatcherError
from bloombits.scheduler import CacheBudget, Scheduler
from bloombits.valuecache import ValueCache, ValueKey

if TYPE_CHECKING:
    from bloombits.distributor import Distributor
    from bloombits.retrieval import Retriever
    from bloombits.session import MatcherSession

__all__ = ["Group", "Matcher", "PartialMatches"]


Group = tuple[ValueKey, ...]
"""A filter group as the matcher sees it: its distinct values, each as its bloom bits."""

_BATCH_BYTES = 512 << 10
"""Default size of one bit's vectors in a batch: sets ``batch_sections`` from the vector
size (1024 sections of 4096 blocks)."""


@dataclass(slots=True)
class PartialMatches:
    """A batch of consecutive sections with the blocks still matching so far (geth's
    ``partialMatches``, for many sections at once)."""

    first: int
    """First section of the batch."""
    bitsets: U8
    """``(sections, section_size // 8)``: row ``i`` is section ``first + i``; a set bit is a
    block that every group so far may contain."""
    complete: bool = False
    """Already matched by every group (the probe batch): the sub-matchers pass it on."""


class Matcher:
    """A filter compiled to bloom bits, with the per-bit schedulers its sessions share."""

    def __init__(
        self,
        section_size: int,
        filters: Sequence[Sequence[bytes]],
        *,
        batch_sections: int | None = None,
        cache: ValueCache | None = None,
        cache_bytes: int = 32 << 20,
    ) -> None:
        """``filters`` has geth's semantics: the outer list is ANDed, each inner list ORed,
        an empty inner list is a wildcard (no filters at all: every block matches).

        ``batch_sections`` is the number of consecutive sections that move through the
        pipeline together (default: 512 KiB of vectors per bit, 1024 sections of 4096 blocks).
        ``cache`` is shared by all matchers over the same chain index. ``cache_bytes``
        bounds the delivered vectors the schedulers keep for reuse once no request waits for
        them (what is being waited for is always kept).
        """
        if section_size <= 0 or section_size % 8:
            raise MatcherError(f"section size {section_size} is not a positive multiple of 8")
        if batch_sections is None:
            batch_sections = max(1, _BATCH_BYTES // (section_size // 8))
        if batch_sections < 1:
            raise MatcherError(f"batch_sections must be at least 1, got {batch_sections}")
        if cache_bytes < 0:
            raise MatcherError(f"cache_bytes must be >= 0, got {cache_bytes}")
        self.section_size = section_size
        """Blocks per section."""
        self.width = section_size // 8
        """Bytes per vector."""
        self.batch_sections = batch_sections
        """Sections per pipeline batch; batches are aligned on multiples of it."""
        self.cache = cache
        """The shared per-value vector cache, if any."""
        self.groups: tuple[Group, ...] = _compile(filters)
        """The non-wildcard groups, duplicates removed, in the order given."""
        self.budget = CacheBudget(cache_bytes)
        """Bounds the vectors the schedulers keep."""
        self.schedulers: dict[int, Scheduler] = {
            bit: Scheduler(bit, batch_sections, self.width, self.budget)
            for group in self.groups
            for value in group
            for bit in value
        }
        """One retrieval scheduler per bloom bit the filter uses."""

    def start(
        self,
        begin: int,
        end: int,
        retriever: Retriever,
        *,
        retrievers: int = 16,
        batch: int = 1024,
        wait: float = 0.0,
        buffer: int = 16,
        retry_delay: float = 0.05,
    ) -> MatcherSession:
        """A session matching blocks ``begin..end`` (inclusive), to use with ``async with``.

        ``retrievers`` tasks serve the session's retrievals, each asking for up to ``batch``
        sections of one bit at a time after waiting up to ``wait`` seconds for that many to be
        pending; ``buffer`` batches may queue between two stages; sections the retriever has
        not got are asked for again after ``retry_delay`` seconds.
        """
        from bloombits.session import MatcherSession

        return MatcherSession(
            self,
            begin,
            end,
            retriever,
            retrievers=retrievers,
            batch=batch,
            wait=wait,
            buffer=buffer,
            retry_delay=retry_delay,
        )


def _compile(filters: Sequence[Sequence[bytes]]) -> tuple[Group, ...]:
    if isinstance(filters, bytes | str) or not isinstance(filters, Sequence):
        raise MatcherError("filters must be a list of lists of bytes values")
    groups: list[Group] = []
    seen: set[frozenset[ValueKey]] = set()
    for position, clause in enumerate(filters):
        if isinstance(clause, bytes | str) or not isinstance(clause, Sequence):
            raise MatcherError(f"filter group {position} must be a list of bytes values")
        values: dict[ValueKey, None] = {}
        for value in clause:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise MatcherError(
                    f"filter group {position} holds a {type(value).__name__}, expected bytes"
                )
            values[tuple(sorted(set(bloom_indexes(bytes(value)))))] = None
        group = tuple(values)
        if group and frozenset(group) not in seen:  # the same group twice ANDs to itself
            seen.add(frozenset(group))
            groups.append(group)
    return tuple(groups)


# --- one session's pipeline ------------------------------------------------------------------


@dataclass(slots=True)
class SessionContext:
    """What the stages of one session share."""

    matcher: Matcher
    """The matcher run (its schedulers, layout and cache)."""
    distributor: Distributor
    """The session's queue of retrievals, owner of what it asks the schedulers for."""
    buffer: int
    """Capacity of the channels between stages, in batches."""
    cacheable: frozenset[ValueKey] = frozenset()
    """Values this session stores into the matcher's cache."""
    generation: int = 0
    """The cache generation at the session's start."""

    @property
    def layout(self) -> tuple[int, int]:
        """``(section_size, batch_sections)``: what value-cache entries are keyed by."""
        return (self.matcher.section_size, self.matcher.batch_sections)


@dataclass(slots=True)
class _GroupRequest:
    """One group's retrievals for one batch, in flight."""

    batch: PartialMatches
    """The batch as the group received it."""
    live: Mask
    """Rows of the batch still alive (any bit set)."""
    parts: list[tuple[ValueKey, U8 | list[asyncio.Future[U8]]]] = field(default_factory=list)
    """Per value: its cached AND-ed vectors, or the futures of its bits' vectors."""


def request_group(ctx: SessionContext, group: Group, batch: PartialMatches) -> _GroupRequest:
    """Start the retrievals a group needs for the live sections of ``batch``."""
    live: Mask = np.asarray(batch.bitsets.any(axis=1))
    request = _GroupRequest(batch, live)
    chunk = batch.first // ctx.matcher.batch_sections
    schedulers = ctx.matcher.schedulers
    cache = ctx.matcher.cache
    for value in group:
        cached = None
        if cache is not None:
            cached = cache.lookup(ctx.layout, value, chunk, batch.first, live)
        if cached is not None:
            request.parts.append((value, cached))
        else:
            futures = [schedulers[bit].request(batch.first, live, ctx.distributor) for bit in value]
            request.parts.append((value, futures))
    return request


async def resolve_group(ctx: SessionContext, request: _GroupRequest) -> U8:
    """The group's matches for the batch (OR over values of the AND of their bits), ANDed
    with the batch's running bitsets. Rows of sections that were not live come out zero."""
    batch = request.batch
    cache = ctx.matcher.cache
    result: U8 | None = None  # a fresh array: it travels down the chain
    scratch: U8 | None = None  # where a value's AND is computed once ``result`` exists
    for value, part in request.parts:
        if isinstance(part, list):
            rows = [await future for future in part]
            vector = rows[0]
            if len(rows) > 1:
                if result is None:
                    vector = result = np.empty_like(rows[0])
                else:
                    vector = scratch = np.empty_like(rows[0]) if scratch is None else scratch
                np.bitwise_and(rows[0], rows[1], out=vector)
                for more in rows[2:]:
                    np.bitwise_and(vector, more, out=vector)
            if cache is not None and value in ctx.cacheable:
                chunk = batch.first // ctx.matcher.batch_sections
                cache.store(
                    ctx.layout, value, chunk, batch.first, request.live, vector, ctx.generation
                )
        else:
            vector = part
        if result is None:
            result = vector.copy()
        elif vector is not result:
            np.bitwise_or(result, vector, out=result)
    assert result is not None  # a group has at least one value
    np.bitwise_and(result, batch.bitsets, out=result)
    return result


def sub_match(
    tg: asyncio.TaskGroup,
    ctx: SessionContext,
    group: Group,
    source: Channel[PartialMatches],
    results: Channel[PartialMatches] | None = None,
) -> tuple[Channel[PartialMatches], list[asyncio.Task[None]]]:
    """Start one link of the chain (geth's ``subMatch``): a task that sends each batch's
    requests as soon as it arrives, and one that collects the vectors in order and forwards
    the batch if anything is left. Returns the output channel and the two tasks."""
    process: Channel[_GroupRequest] = Channel(ctx.buffer)
    out: Channel[PartialMatches] = results if results is not None else Channel(ctx.buffer)

    # A channel is closed only at the normal end of its input: a stage that fails or is
    # cancelled leaves it open, so that no consumer mistakes a failure for the end.
    async def schedule() -> None:
        async for batch in source:
            if batch.complete:
                await process.put(_GroupRequest(batch, np.zeros(0, dtype=np.bool_)))
            else:
                await process.put(request_group(ctx, group, batch))
        process.close()

    async def collect() -> None:
        async for request in process:
            if request.batch.complete:
                await out.put(request.batch)
                continue
            matches = await resolve_group(ctx, request)
            if matches.any():
                await out.put(PartialMatches(request.batch.first, matches))
        out.close()

    tasks = [tg.create_task(schedule()), tg.create_task(collect())]
    return out, tasks


async def order_groups(
    ctx: SessionContext, groups: Sequence[Group], probe: PartialMatches
) -> tuple[list[Group], PartialMatches]:
    """The groups sorted by how many blocks of ``probe`` each one matches, fewest first, and
    ``probe`` matched by all of them (marked complete, so the chain does not redo it)."""
    requests = [request_group(ctx, group, probe) for group in groups]
    results = [await resolve_group(ctx, request) for request in requests]
    counts = [int(np.bitwise_count(result).sum()) for result in results]
    order = sorted(range(len(groups)), key=counts.__getitem__)
    matches = results[order[0]]
    for index in order[1:]:
        np.bitwise_and(matches, results[index], out=matches)
    return [groups[i] for i in order], PartialMatches(probe.first, matches, complete=True)
