"""The sub-matcher stages of one matcher session: go-ethereum's ``subMatch`` and its
``partialMatches`` (core/bloombits/matcher.go), batch by batch.

A sub-matcher serves one filter group: for each batch of sections it receives, it requests
the bit-vectors of each of the group's values (:func:`request_group`), then, in arrival
order, ANDs each value's three vectors, ORs the values together and ANDs the result into the
batch's running bitsets (:func:`resolve_group`); :func:`sub_match` runs the two halves as two
tasks linked by a :class:`~bloombits.channel.Channel`, as geth runs its requesting and
processing goroutines. Beyond geth, :func:`order_groups` sorts the groups sparsest first on
the first batch, and a :class:`~bloombits.valuecache.ValueCache` may answer a value's AND-ed
vectors without any retrieval.

The stages see the matcher only through :class:`MatchPlan`; the session
(:mod:`bloombits.session`) wires them together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from bloombits.arrays import U8, Mask
from bloombits.channel import Channel
from bloombits.valuecache import ValueCache, ValueKey

if TYPE_CHECKING:
    from bloombits.distributor import Distributor
    from bloombits.scheduler import Scheduler

__all__ = [
    "Group",
    "MatchPlan",
    "PartialMatches",
    "SessionContext",
    "order_groups",
    "request_group",
    "resolve_group",
    "sub_match",
]


Group = tuple[ValueKey, ...]
"""A filter group as the matcher sees it: its distinct values, each as its bloom bits."""


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


class MatchPlan(Protocol):
    """What the stages need of the :class:`~bloombits.matcher.Matcher` they run: its groups,
    its layout, its per-bit schedulers and its cache.

    The narrow interface through which the session and its stages see the matcher, as the
    stages of go-ethereum's ``core/bloombits`` meet through channels and small interfaces: the
    matcher builds sessions, and nothing here needs to import it back.
    """

    section_size: int
    """Blocks per section."""
    width: int
    """Bytes per vector (``section_size // 8``)."""
    batch_sections: int
    """Sections per pipeline batch; batches are aligned on multiples of it."""
    cache: ValueCache | None
    """The shared per-value vector cache, if any."""
    groups: tuple[Group, ...]
    """The non-wildcard filter groups, in the order given."""
    schedulers: dict[int, Scheduler]
    """One retrieval scheduler per bloom bit the filter uses."""


@dataclass(slots=True)
class SessionContext:
    """What the stages of one session share."""

    matcher: MatchPlan
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
