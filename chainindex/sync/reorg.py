"""Finding where our chain and the upstream's part: the walk back of a reorg.

The indexer compares its stored canonical hashes with the upstream's, from the synced head
down, in windows that double (8, 16, 32, ... blocks, asked for concurrently), and stops at the
highest block both agree on. It never walks deeper than the configured bound, nor below the
first synced block: there it stops with :class:`~chainindex.errors.ReorgTooDeepError` rather
than guess.
"""

from __future__ import annotations

import asyncio

from bloombits.errors import LogfilterError
from chainindex.errors import InvalidBlockError, ReorgTooDeepError, SyncError
from chainindex.source.base import ChainSource
from chainindex.store.reader import ChainReader
from chainindex.types import Header

__all__ = ["find_common_ancestor", "inconsistent_answer"]

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
