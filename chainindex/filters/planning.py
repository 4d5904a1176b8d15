"""Planning a log query over the synced chain: bounds resolved, checked, and split.

A :class:`SearchPlan` is made from one snapshot of the store (:class:`ChainView`), so the
head, the indexed sections and the anchor hash it records are consistent with each other.

**Resolving bounds** follows go-ethereum's ``FilterAPI.GetLogs`` and ``Filter.Logs``, in its
order, so that the same bad query gets the same error:

1. two numeric bounds with ``from > to`` → ``invalid block range params``;
2. a numeric ``from`` below the first synced block → ``pruned history unavailable``;
3. a ``pending`` bound → ``pending logs are not supported``;
4. tags resolved: ``latest`` (and a missing bound) is the synced head; ``earliest`` the first
   synced block (the tail); ``safe``/``finalized`` as below;
5. ``from > to`` after resolving → ``invalid block range params``;
6. ``to`` above the synced head → ``block range extends beyond current head block``;
7. then this service's own limit: more than ``max_block_range`` blocks → a
   :class:`~chainindex.errors.BlockRangeLimitError` carrying the range that would fit.

**safe and finalized.** When the upstream is a node, the caller asks it for its ``safe`` /
``finalized`` block (geth, reth, anvil all answer) and passes the numbers in; they are clamped
to the synced head (the service cannot answer for blocks it has not synced). A node that has
no such block (a pre-merge chain) makes the tag fail with geth's ``safe header not found``.
When the upstream is a chain archive, or the service serves a data directory read-only, the
chain it serves cannot change any more: every synced block is final, so both tags mean the
synced head.

**Splitting: the planner's rule.** Each stretch of the range goes to one of four paths, in
block order (``query_path`` ``auto`` or ``exact``; ``bloom`` forces the bloom paths):

1. ``indexed`` — the **bloom sections** (the matcher, or the vectors directly when short):
   stored sections without exact-index records (a ``--no-logs`` directory, or, in a directory
   migrated from schema version 2, the sections whose records are still being built);
2. ``exact`` — the **exact index**'s stored records: sections ``exact-first .. sections - 1``
   of a directory that stores logs (:mod:`chainindex.store.exact`);
3. ``scan`` — the **header-bloom scan**: the blocks above the stored sections when there is
   no head index (a ``--no-logs`` directory), or the few the head index does not hold for the
   query's snapshot (see below);
4. ``head`` — the **head index** (:class:`~chainindex.store.exact.HeadIndex`): the blocks
   above the stored sections of a directory that stores logs, from memory.

A query without any address or topic condition has nothing to look up: it scans the headers
(every block that has logs, a non-zero bloom, is a candidate), as does every query under
``bloom`` above the stored sections. Without an exact index, short indexed stretches below
``matcher_min_blocks``, where reading the headers' blooms is cheaper than starting a matcher
session, are scanned instead. The exact and head paths read only the blocks holding a
matching log (candidate density 1.0); the planning call
(:mod:`~chainindex.filters.firstcall`) narrows ``head`` to what the head index holds for its
snapshot, the rest going to ``scan``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from eth_typing import Hash32

from chainindex.errors import (
    BlockRangeBeyondHeadError,
    BlockRangeLimitError,
    CorruptDataError,
    HeaderNotFoundError,
    InvalidBlockRangeError,
    PendingLogsError,
    PrunedHistoryError,
    UnknownBlockError,
)
from chainindex.filters.criteria import BlockRef, BlockTag, LogQuery
from chainindex.store.reader import ChainState, ChainView
from chainindex.store.schema import META_EXACT_FIRST, decode_u64, meta_key
from chainindex.types import Header

__all__ = [
    "QueryPath",
    "SearchPlan",
    "Span",
    "exact_index_first",
    "plan_block",
    "plan_range",
    "resolve_range",
]

Span = tuple[int, int]
"""An inclusive block range ``(first, last)``."""

QueryPath = Literal["auto", "exact", "bloom"]
"""Which paths the planner may take: ``auto`` (the rule of the module docstring), ``exact``
(the same today: the exact index wherever it reaches; kept apart so that benchmarks name
the path they measure), ``bloom`` (never the exact index: the bloom sections and the
header-bloom scan, as before it existed)."""


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How a range query is run, decided from one snapshot."""

    first: int
    """First block of the resolved range."""
    last: int
    """Last block of the resolved range."""
    anchor: Hash32
    """Canonical hash of block ``last`` when planned: a verification that no longer finds it
    there knows the chain was reorganised under the query (a block hash commits to all its
    ancestors, so one check covers the whole range)."""
    indexed: Span | None
    """Blocks matched through the bloom sections, if any."""
    scan: Span | None
    """Blocks whose header blooms are scanned, if any (above ``indexed`` and ``exact``, below
    ``head``)."""
    section_size: int
    """Blocks per section of the data directory."""
    exact: Span | None = None
    """Blocks answered from the exact index's stored records, if any (above ``indexed``)."""
    head: Span | None = None
    """Blocks answered from the head index, if any (the top of the range)."""
    head_base: int = 0
    """First block above the stored sections (where the head index starts)."""

    @property
    def blocks(self) -> int:
        """Number of blocks in the range."""
        return self.last - self.first + 1


def _head(state: ChainState) -> Header:
    if state.head is None or state.tail is None:
        raise HeaderNotFoundError("no blocks synced yet")
    return state.head


def resolve_range(
    query: LogQuery, state: ChainState, finality: Mapping[BlockTag, int] | None = None
) -> tuple[int, int]:
    """The ``(first, last)`` block numbers of a range query (steps 1 to 6 of the module
    docstring). ``finality`` maps ``safe``/``finalized`` to the upstream's numbers; a tag
    missing from it means the synced head."""
    begin, end = query.from_block, query.to_block
    if isinstance(begin, int) and isinstance(end, int) and begin > 0 and end > 0 and begin > end:
        raise InvalidBlockRangeError()
    head = _head(state)
    assert state.tail is not None
    if isinstance(begin, int) and begin < state.tail:
        raise PrunedHistoryError()
    if BlockTag.PENDING in (begin, end):
        raise PendingLogsError()

    def resolve(bound: BlockRef | None) -> int:
        if bound is None or bound == BlockTag.LATEST:
            return head.number
        if bound == BlockTag.EARLIEST:
            assert state.tail is not None
            return state.tail
        if isinstance(bound, BlockTag):
            number = (finality or {}).get(bound, head.number)
            return min(number, head.number)
        return bound

    first, last = resolve(begin), resolve(end)
    if first > last:
        raise InvalidBlockRangeError()
    if last > head.number:
        raise BlockRangeBeyondHeadError()
    return first, last


def plan_range(
    view: ChainView,
    query: LogQuery,
    finality: Mapping[BlockTag, int] | None = None,
    *,
    max_block_range: int = 0,
    matcher_min_blocks: int = 0,
    query_path: QueryPath = "auto",
) -> SearchPlan:
    """Resolve, check and split a range query over the snapshot ``view``.

    ``max_block_range`` (0: none) bounds the number of blocks; ``matcher_min_blocks`` is the
    shortest indexed stretch worth a matcher session (without an exact index);
    ``query_path`` restricts the paths (see the module docstring).
    """
    state = view.state()
    first, last = resolve_range(query, state, finality)
    if max_block_range and last - first + 1 > max_block_range:
        raise BlockRangeLimitError(max_block_range, first)
    anchor = view.canonical_hash(last)
    if anchor is None:
        raise CorruptDataError(f"block {last} is below the synced head but not stored")
    size = state.section_size
    indexed_until = state.indexed_until
    base = max(indexed_until + 1, state.tail or 0)
    exact_first = None
    if query_path != "bloom" and not query.criteria.is_wildcard and not state.headers_only:
        exact_first = exact_index_first(view)
    if exact_first is not None:
        top = min(last, indexed_until)
        exact_lo = max(first, exact_first * size)
        return SearchPlan(
            first,
            last,
            anchor,
            indexed=(first, min(top, exact_lo - 1)) if first < exact_lo and first <= top else None,
            scan=None,
            section_size=size,
            exact=(exact_lo, top) if exact_lo <= top else None,
            head=(max(first, base), last) if last >= base else None,
            head_base=base,
        )
    indexed: Span | None = None
    scan: Span | None = (first, last)
    if not query.criteria.is_wildcard and first <= indexed_until:
        top = min(last, indexed_until)
        if top - first + 1 >= max(matcher_min_blocks, 1):
            indexed = (first, top)
            scan = (top + 1, last) if top < last else None
    return SearchPlan(first, last, anchor, indexed, scan, size, head_base=base)


def exact_index_first(view: ChainView) -> int | None:
    """First section with exact-index records in the snapshot (None: no exact index)."""
    raw = view.reader.get(meta_key(META_EXACT_FIRST))
    return None if raw is None else decode_u64(raw)


def plan_block(view: ChainView, block_hash: bytes) -> Header:
    """The header a ``blockHash`` query looks in; ``unknown block`` when it is not in the
    synced canonical chain."""
    header = view.header_by_hash(block_hash)
    if header is None:
        raise UnknownBlockError()
    return header
