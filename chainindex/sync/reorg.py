"""Finding where our chain and the upstream's part, and fetching the branch that replaces ours.

Follows go-ethereum's ``Downloader.findAncestor`` (``eth/downloader/downloader.go``), which
asks a remote peer for headers to find the common ancestor; here the windows double from the
synced head down (8, 16, 32, ... blocks, asked for concurrently) instead of a span search
then a binary search. The indexer compares its stored canonical hashes with the upstream's
and stops at the highest block both agree on. It never walks deeper than the configured
bound, nor below the first synced block: there it stops with
:class:`~chainindex.errors.ReorgTooDeepError` rather than guess.

Then :func:`fetch_branch` fetches the upstream's blocks above the ancestor, checking that they
link to it; a walk that finds no fork at all is an inconsistent answer, counted by
:class:`InconsistentAnswers` (paused on, then raised once too many come in a row).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bloombits.errors import LogfilterError
from chainindex.errors import (
    InvalidBlockError,
    MissingBlockError,
    ReorgTooDeepError,
    SourceError,
    SyncError,
)
from chainindex.source.base import ChainSource
from chainindex.store.reader import ChainReader
from chainindex.sync.pipeline import FetchResult
from chainindex.types import Block, Header

__all__ = [
    "InconsistentAnswers",
    "ReplanError",
    "fetch_branch",
    "find_common_ancestor",
    "inconsistent_answer",
]

log = logging.getLogger("chainindex.sync.reorg")

FIRST_WINDOW = 8
"""Blocks compared in the first step of the walk."""


async def find_common_ancestor(
    reader: ChainReader, source: ChainSource, head: Header, tail: int, max_depth: int
) -> Header:
    """Our highest stored block that the upstream also has, at most ``max_depth`` below
    ``head`` and not below ``tail`` (the first synced block)."""
    high: int = head.number
    step = FIRST_WINDOW
    while True:
        low = max(high - step + 1, tail)
        ours = await reader.headers(low, high)
        if len(ours) != high - low + 1:
            raise ReorgTooDeepError(f"stored headers {low}..{high} are incomplete")
        theirs = await asyncio.gather(*(source.header_at(n) for n in range(low, high + 1)))
        for header, their in zip(reversed(ours), reversed(theirs), strict=True):
            if their is not None and their.hash == header.hash:
                if head.number - header.number > max_depth:
                    break
                return header
        if head.number - low + 1 > max_depth:
            raise ReorgTooDeepError(
                f"the upstream's chain leaves ours more than {max_depth} blocks below the "
                f"synced head {head.number}: stopping instead of guessing (raise "
                "--max-reorg-depth, or resync into a new data directory)"
            )
        if low == tail:
            raise ReorgTooDeepError(
                f"the upstream's chain leaves ours below the first synced block {tail}"
            )
        high = low - 1
        step *= 2


def inconsistent_answer(head: Header, suspect: Header | None) -> LogfilterError:
    """The error for a walk that found no fork: the upstream agrees with our ``head`` yet
    answered with ``suspect`` (a block not extending it), or reported a conflicting head."""
    if suspect is not None:
        return InvalidBlockError(
            suspect.number,
            f"parentHash 0x{suspect.parent_hash.hex()} does not extend block {head.number} "
            f"(0x{head.hash.hex()}), which the upstream itself still reports",
        )
    return SyncError("the upstream's head conflicts with its own blocks")


class ReplanError(Exception):
    """Internal to sync, never raised out of it: the planned fetches no longer fit the
    upstream (a divergence, a missing block), so the indexer plans again."""


async def fetch_branch(
    fetch: Callable[[int, int], Awaitable[FetchResult]],
    ancestor: Header,
    last: int,
    run_size: Callable[[], int],
) -> list[Block]:
    """The upstream's blocks ``ancestor + 1 .. last`` through ``fetch``, linked to
    ``ancestor``; :class:`ReplanError` when a block is missing or the branch moved again."""
    blocks: list[Block] = []
    parent = ancestor.hash
    start = ancestor.number + 1
    while start <= last:
        end = min(last, start + run_size() - 1)
        result = await fetch(start, end)
        if isinstance(result, MissingBlockError):
            raise ReplanError
        if isinstance(result, SourceError):
            raise result
        if result[0].header.parent_hash != parent:
            raise ReplanError
        blocks.extend(result)
        parent = result[-1].header.hash
        start = end + 1
    return blocks


class InconsistentAnswers:
    """Counts walks in a row that found no fork (:func:`inconsistent_answer`): each is logged
    and paused on (growing, at most 5 s), the ``limit``-th is raised. A commit resets it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Answers in a row that stop sync."""
        self.count = 0
        """Answers in a row so far."""

    def reset(self) -> None:
        """The upstream answered consistently (a commit went through)."""
        self.count = 0

    async def pause_or_raise(self, head: Header, suspect: Header | None) -> None:
        """One more inconsistent answer about ``head`` (see :func:`inconsistent_answer`)."""
        self.count += 1
        error = inconsistent_answer(head, suspect)
        if self.count >= self.limit:
            raise error
        delay = min(0.1 * 2 ** (self.count - 1), 5.0)
        log.warning("%s (try %d, retrying in %.2fs)", error, self.count, delay)
        await asyncio.sleep(delay)
