"""What the query engine is configured with (:class:`QueryConfig`), what it counts
(:class:`QueryStats`: candidate density among it, and per path: :class:`PathStats`), and where
``safe``/``finalized`` come from (:class:`Finality`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from chainindex.filters.criteria import BlockTag
from chainindex.filters.planning import QueryPath

__all__ = ["PATHS", "Finality", "PathName", "PathStats", "QueryConfig", "QueryStats"]

PathName = Literal["exact", "bloom", "scan"]
"""Where a block's candidacy came from: the exact index (stored records or head index), the
bloom sections (matcher or vectors), the header-bloom scan."""

PATHS: tuple[PathName, ...] = ("exact", "bloom", "scan")
"""Every path, in the order status shows them."""


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
    query_path: QueryPath = "auto"
    """Which paths the planner may take (:mod:`~chainindex.filters.planning`): ``auto``,
    ``exact``, or ``bloom`` to never use the exact index (benchmarks, tests)."""
    exact_cache_bytes: int = 64 << 20
    """Budget of the exact index's bitmap cache
    (:class:`~chainindex.store.exact.cache.ExactBitmapCache`); 0 turns it off."""


@dataclass(slots=True)
class PathStats:
    """Counters of one path."""

    stretches: int = 0
    """Stretches of queries answered through it."""
    candidate_blocks: int = 0
    """Blocks whose logs were read to verify (candidates of this path)."""
    matched_blocks: int = 0
    """Those that held a match."""


@dataclass(slots=True)
class QueryStats:
    """Counters over every query answered."""

    queries: int = 0
    """Queries run (each retry counts)."""
    candidate_blocks: int = 0
    """Blocks the blooms could not rule out."""
    matched_blocks: int = 0
    """Candidate blocks that held a matching log."""
    logs: int = 0
    """Logs returned."""
    paths: dict[PathName, PathStats] = field(
        default_factory=lambda: {name: PathStats() for name in PATHS}
    )
    """The same counts per path."""

    @property
    def density(self) -> float | None:
        """matched / candidate blocks (None before any candidate)."""
        return self.matched_blocks / self.candidate_blocks if self.candidate_blocks else None
