"""Retries with exponential backoff for upstream fetches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from chainindex.errors import InvalidBlockError, UpstreamError
from chainindex.source.base import SourceOptions

__all__ = ["RETRYABLE", "retrying"]

T = TypeVar("T")

log = logging.getLogger("chainindex.source")

RETRYABLE: tuple[type[Exception], ...] = (UpstreamError, InvalidBlockError)
"""Failures worth another try: a transport problem or an answer that failed validation.
A missing block is not retried here: the indexer re-plans around it."""


async def retrying(operation: Callable[[], Awaitable[T]], options: SourceOptions, what: str) -> T:
    """Run ``operation`` until it succeeds, up to ``options.attempts`` times.

    Each rejected answer is logged as a warning naming ``what`` and the reason; the last
    error is raised when no try is left.
    """
    delay = options.backoff
    for attempt in range(1, options.attempts + 1):
        try:
            return await operation()
        except RETRYABLE as err:
            if attempt == options.attempts:
                raise
            log.warning(
                "%s: %s (try %d of %d, retrying in %.2fs)",
                what,
                err,
                attempt,
                options.attempts,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, options.max_backoff)
    raise AssertionError("unreachable")  # pragma: no cover
