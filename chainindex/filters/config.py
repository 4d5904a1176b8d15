"""What the query engine is configured with (:class:`QueryConfig`), what it counts
(:class:`QueryStats`: candidate density among it), and where ``safe``/``finalized`` come from
(:class:`Finality`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from chainindex.filters.criteria import BlockTag

__all__ = ["Finality", "PathCounts", "QueryConfig", "QueryStats"]


class Finality(Protocol):
    """Where ``safe`` and ``finalized`` come from (the upstream node)."""

    async def numbers(self, tags: set[BlockTag]) -> Mapping[BlockTag, int]:
        """The block numbers of ``tags`` (a subset of safe/finalized); raises
        :class:`~chainindex.errors.HeaderNotFoundError` when the upstream has none."""
        ...


@dataclass(frozen=True, slots=True)
class QueryConfig:
    """Limits and batching of the query path."""

    max_block_range: int = 0
    """Most blocks a range query may span (0: no limit)."""
    verify_batch: int = 512
    """Candidate blocks verified per worker-thread call."""
    scan_chunk: int = 8192
    """Header blooms scanned per worker-thread call."""
    matcher_min_blocks: int = 0
    """Shortest indexed stretch worth a matcher session (shorter ones are scanned)."""
    direct_bytes: int = 32 << 10
    """Indexed stretches whose vectors of one bit take at most this many bytes (64 sections
    of 4096 blocks) are matched straight from the section vectors, in the planning call
    (:mod:`~chainindex.filters.direct`): no pipeline to set up (0: always the matcher)."""
    fetch_concurrency: int = 8
    """Blocks whose logs are fetched from the upstream at once (headers-only mode)."""
    reorg_retries: int = 3
    """Fresh starts of a query whose chain was reorganised under it."""


@dataclass(slots=True)
class PathCounts:
    """Candidate and matched blocks of one query path."""

    candidate_blocks: int = 0
    """Blocks the path could not rule out."""
    matched_blocks: int = 0
    """Of those, blocks that held a matching log."""


@dataclass(slots=True)
class QueryStats:
    """Counters over every query answered; the totals, and the same by query path (``bloom``:
    the section vectors, ``scan``: the headers' blooms, ``hash``: a query by block hash; a new
    path is a new key, seen by whoever reads :attr:`paths`)."""

    queries: int = 0
    """Queries run (each retry counts)."""
    candidate_blocks: int = 0
    """Blocks the blooms could not rule out."""
    matched_blocks: int = 0
    """Candidate blocks that held a matching log."""
    logs: int = 0
    """Logs returned."""
    paths: dict[str, PathCounts] = field(default_factory=dict)
    """Candidate and matched blocks by query path."""

    def count(self, path: str, candidates: int, matched: int, logs: int) -> None:
        """A verification step of ``path`` looked at ``candidates`` blocks: ``matched`` of
        them held ``logs`` matching logs."""
        self.candidate_blocks += candidates
        self.matched_blocks += matched
        self.logs += logs
        counts = self.paths.get(path)
        if counts is None:
            counts = self.paths[path] = PathCounts()
        counts.candidate_blocks += candidates
        counts.matched_blocks += matched

    @property
    def density(self) -> float | None:
        """matched / candidate blocks (None before any candidate)."""
        return self.matched_blocks / self.candidate_blocks if self.candidate_blocks else None
