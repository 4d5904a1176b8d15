"""Two asyncio helpers of the indexer: blocking work that is never abandoned half way, and
the one error worth reporting out of a task group's failure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from bloombits.errors import LogfilterError

__all__ = ["first_error", "run_to_completion"]

T = TypeVar("T")


async def run_to_completion(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in the default thread pool. If the caller is cancelled meanwhile, the call
    still runs to its end before the cancellation goes on: a write batch is never abandoned
    half way, and the store is never closed under a running call."""
    future = asyncio.get_running_loop().run_in_executor(None, fn, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The most telling error of a task group's failure: a deliberate (LogfilterError) one
    first, else the first one."""
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
