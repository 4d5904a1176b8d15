"""``StretchRunner``: the verification of a plan's stretches after its first call, in worker
calls, each counted under its path.

* :meth:`StretchRunner.verify` — blocks known to be candidates (the vectors' candidates of a
  short indexed stretch, the exact path's blocks), a batch per worker call;
* :meth:`StretchRunner.scan` — the header-bloom scan of a stretch, a chunk per worker call;
* :meth:`StretchRunner.complete` — what a worker call found, with the logs of blocks not
  stored (headers-only) fetched from the upstream and matched, counted in
  :class:`~chainindex.filters.config.QueryStats` (overall and per path).

Every worker call first checks the plan's anchor (see :mod:`~chainindex.filters.engine`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from functools import partial

import numpy as np
import numpy.typing as npt

from chainindex.aio import first_error
from chainindex.filters.candidates import scan_and_verify
from chainindex.filters.config import PathName, QueryConfig, QueryStats
from chainindex.filters.planning import SearchPlan
from chainindex.filters.records import RecordCache
from chainindex.filters.verify import (
    BlockLogs,
    LogCandidates,
    RecordMatcher,
    Verified,
    record_of,
    verify_blocks,
    verify_exact,
)
from chainindex.store.reader import ChainReader
from chainindex.types import Header

__all__ = ["StretchRunner"]


class StretchRunner:
    """Runs and counts the verification of stretches (see the module docstring)."""

    def __init__(
        self, reader: ChainReader, config: QueryConfig, records: RecordCache, stats: QueryStats
    ) -> None:
        self.reader = reader
        """The store's read side (its fetcher supplies headers-only logs)."""
        self.config = config
        """Batching."""
        self.records = records
        """Parsed logs records of recent blocks."""
        self.stats = stats
        """Where the counts go."""

    async def verify(
        self,
        numbers: npt.NDArray[np.int64] | LogCandidates,
        plan: SearchPlan,
        matcher: RecordMatcher,
        path: PathName,
    ) -> AsyncGenerator[list[BlockLogs]]:
        """Verify candidate blocks (the exact index's: only the logs it named), a batch per
        worker call (at least one call: it checks the anchor)."""
        self.stats.paths[path].stretches += 1
        anchor = (plan.last, plan.anchor)
        step = self.config.verify_batch
        for at in range(0, max(len(numbers), 1), step):
            if isinstance(numbers, LogCandidates):
                call = partial(verify_exact, candidates=numbers.part(at, at + step))
            else:
                call = partial(verify_blocks, numbers=numbers[at : at + step])
            verified = await self.reader.read(
                partial(call, matcher=matcher, anchor=anchor, records=self.records)
            )
            yield await self.complete(verified, matcher, path)

    async def scan(
        self, plan: SearchPlan, groups: list[tuple[bytes, ...]], matcher: RecordMatcher
    ) -> AsyncGenerator[list[BlockLogs]]:
        """The header-bloom scan of the plan's ``scan`` stretch."""
        assert plan.scan is not None
        self.stats.paths["scan"].stretches += 1
        first, last = plan.scan
        anchor = (plan.last, plan.anchor)
        for lo in range(first, last + 1, self.config.scan_chunk):
            hi = min(last, lo + self.config.scan_chunk - 1)
            verified = await self.reader.read(
                partial(
                    scan_and_verify,
                    first=lo,
                    last=hi,
                    groups=groups,
                    matcher=matcher,
                    anchor=anchor,
                    records=self.records,
                )
            )
            yield await self.complete(verified, matcher, "scan")

    async def complete(
        self, verified: Verified, matcher: RecordMatcher, path: PathName | None
    ) -> list[BlockLogs]:
        """Fetch and match the logs of blocks not stored (headers-only), merge in order,
        count (under ``path`` too, when given)."""
        found = verified.found
        if verified.unstored:
            fetched = await self._fetch(verified.unstored, matcher)
            found = sorted([*found, *fetched], key=lambda b: b.header.number)
        stats = self.stats
        stats.candidate_blocks += verified.checked
        stats.matched_blocks += len(found)
        stats.logs += sum(len(b) for b in found)
        if path is not None:
            per_path = stats.paths[path]
            per_path.candidate_blocks += verified.checked
            per_path.matched_blocks += len(found)
        return found

    async def _fetch(self, headers: list[Header], matcher: RecordMatcher) -> list[BlockLogs]:
        limit = asyncio.Semaphore(self.config.fetch_concurrency)

        async def one(header: Header) -> BlockLogs | None:
            async with limit:
                logs = await self.reader.logs(header)
            record = record_of(logs)
            indexes = matcher.select(record)
            return BlockLogs(header, record, indexes) if len(indexes) else None

        try:
            async with asyncio.TaskGroup() as tasks:
                futures = [tasks.create_task(one(h)) for h in headers]
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        return [b for f in futures if (b := f.result()) is not None]
