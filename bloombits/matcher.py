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

Beyond go-ethereum, two ideas from Lucene's filter execution (as Elasticsearch runs it):

* the sub-matchers are ordered sparsest first, as Lucene's ``ConjunctionDISI`` leads a
  conjunction with its cheapest clause: before the chain starts, the first batch is matched
  by every group and the groups are sorted by how many blocks they leave;
* an optional :class:`~bloombits.valuecache.ValueCache` serves and keeps the AND-ed vectors
  of values that recent queries use often (Lucene's ``UsageTrackingQueryCachingPolicy``).

The stages of a session live in :mod:`bloombits.submatch`, the session that runs them in
:mod:`bloombits.session`; both see the matcher only through
:class:`~bloombits.submatch.MatchPlan`, so neither imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bloombits.bloom import bloom_indexes
from bloombits.errors import MatcherError
from bloombits.scheduler import CacheBudget, Scheduler
from bloombits.session import MatcherSession
from bloombits.submatch import Group
from bloombits.valuecache import ValueCache, ValueKey

if TYPE_CHECKING:
    from bloombits.retrieval import Retriever

__all__ = ["Matcher"]


_BATCH_BYTES = 512 << 10
"""Default size of one bit's vectors in a batch: sets ``batch_sections`` from the vector
size (1024 sections of 4096 blocks)."""


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
