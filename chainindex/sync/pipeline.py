"""Fetching ahead, delivering in order: the backfill pipeline of the indexer.

:func:`fetch_in_order` splits ``first..last`` into runs (sized by a callback, so the indexer
can shrink runs of log-heavy blocks), keeps up to ``ahead`` runs being fetched at once as tasks
of the caller's task group, and yields each run's result in chain order. A failed fetch comes
back as a value (:func:`fetch_run`): it must not abort the task group while the consumer is in
the middle of a commit. Leaving the iteration early (``async with aclosing(...)``) cancels the
runs still in flight.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable

from chainindex.errors import ArchiveError, MissingBlockError, SourceError
from chainindex.source.base import ChainSource
from chainindex.types import Block

__all__ = ["FetchResult", "fetch_in_order", "fetch_run"]

FetchResult = list[Block] | SourceError
"""The blocks of one run, or why they could not be had."""


async def fetch_run(source: ChainSource, first: int, last: int, *, with_logs: bool) -> FetchResult:
    """Blocks ``first..last``, or the source's error as a value. A block missing from a
    finite source (an archive) is an :class:`ArchiveError`: it will never appear."""
    try:
        return await source.blocks(first, last, with_logs=with_logs)
    except MissingBlockError as err:
        if source.finite:
            return ArchiveError(f"{source.name} has no block {err.number}")
        return err
    except SourceError as err:
        return err


async def fetch_in_order(
    tasks: asyncio.TaskGroup,
    fetch: Callable[[int, int], Awaitable[FetchResult]],
    first: int,
    last: int,
    *,
    run_size: Callable[[], int],
    ahead: int,
) -> AsyncGenerator[FetchResult, None]:
    """Results of ``fetch(a, b)`` over consecutive runs covering ``first..last``, in order,
    with at most ``ahead`` runs in flight."""
    pending: deque[asyncio.Task[FetchResult]] = deque()
    next_start = first

    def launch() -> None:
        nonlocal next_start
        while len(pending) < ahead and next_start <= last:
            end = min(last, next_start + run_size() - 1)
            pending.append(tasks.create_task(_call(fetch, next_start, end)))
            next_start = end + 1

    try:
        launch()
        while pending:
            result = await pending.popleft()
            yield result
            launch()
    finally:
        for task in pending:
            task.cancel()


async def _call(fetch: Callable[[int, int], Awaitable[FetchResult]], a: int, b: int) -> FetchResult:
    return await fetch(a, b)
