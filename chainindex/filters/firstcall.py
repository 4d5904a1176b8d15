"""The first worker call of a range query: plan it, and answer it there when it is small.

One call in a worker thread, over one snapshot of the store (:class:`ChainView`):

* the plan (:func:`~chainindex.filters.planning.plan_range`);
* whether the sections the matcher's value cache was filled from are still stored unchanged
  (sections only ever grow, unless a reorg reaches below the confirmations);
* for a short indexed stretch, its candidates straight from the section vectors
  (:mod:`~chainindex.filters.direct`) instead of a matcher session;
* the exact path's positions (:mod:`~chainindex.filters.exact`): the blocks of the exact
  and head stretches that hold a match, and, when it decides, the result limit;
* and when those candidates fit one verification batch and the unindexed tail one scan
  chunk, the whole answer, verified in the same snapshot: one worker call in all.

go-ethereum's ``Filter.Logs`` (``eth/filters/filter.go``, before log indexing replaced
bloombits) has no such shortcut: it always starts a matcher session over the indexed part
(``indexedLogs``) and walks the rest's headers (``unindexedLogs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from eth_typing import Hash32

from chainindex.filters.candidates import scan_and_verify
from chainindex.filters.config import PathName, QueryConfig
from chainindex.filters.criteria import BlockTag, LogQuery
from chainindex.filters.direct import VectorCache, section_candidates
from chainindex.filters.exact import check_result_limit, find_exact
from chainindex.filters.planning import SearchPlan, plan_range
from chainindex.filters.records import RecordCache
from chainindex.filters.verify import (
    LogCandidates,
    RecordMatcher,
    Verified,
    verify_blocks,
    verify_exact,
)
from chainindex.store.exact import HeadIndex
from chainindex.store.exact.cache import ExactBitmapCache
from chainindex.store.reader import ChainView

__all__ = ["FirstCall", "SectionsSeen", "first_call"]

I64 = npt.NDArray[np.int64]

SectionsSeen = tuple[int, Hash32 | None]
"""A section count and the head of the last section below it (None: none stored)."""


@dataclass(slots=True)
class FirstCall:
    """What the first worker call of a range query found."""

    plan: SearchPlan
    """The query's plan."""
    sections: SectionsSeen
    """The sections stored in the snapshot planned in."""
    fresh: bool = True
    """Whether the value cache's sections are still stored unchanged."""
    answer: list[tuple[PathName, Verified]] | None = None
    """The whole answer, when it fitted in this call, in parts by path, in block order."""
    candidates: I64 | None = None
    """Candidates of the indexed part found from the section vectors, to verify."""
    exact_blocks: LogCandidates | None = None
    """Blocks of the exact stretch holding a match and their logs, to verify (after the
    indexed part)."""
    head_blocks: LogCandidates | None = None
    """Blocks of the head stretch holding a match and their logs, to verify (after the
    scan)."""


def first_call(
    view: ChainView,
    query: LogQuery,
    finality: Mapping[BlockTag, int] | None,
    matcher: RecordMatcher,
    *,
    config: QueryConfig,
    seen: SectionsSeen | None,
    vectors: VectorCache,
    records: RecordCache,
    head: HeadIndex,
    max_results: int = 0,
    exact_cache: ExactBitmapCache | None = None,
) -> FirstCall:
    """Plan ``query`` in ``view`` and answer what fits (see the module docstring); ``seen``
    is what the previous query's first call found (None: no query yet)."""
    plan = plan_range(
        view,
        query,
        finality,
        max_block_range=config.max_block_range,
        matcher_min_blocks=config.matcher_min_blocks,
        query_path=config.query_path,
    )
    state = view.state()
    last = state.sections - 1
    found = FirstCall(plan, (state.sections, view.section_head(last) if last >= 0 else None))
    found.fresh = seen is None or seen[1] is None or view.section_head(seen[0] - 1) == seen[1]
    exact_count = 0
    if plan.exact is not None or plan.head is not None:
        exact = find_exact(view, plan, query.criteria, head, exact_cache)
        check_result_limit(exact, query.criteria, max_results, head.layout)
        found.plan = plan = exact.plan
        found.exact_blocks = exact.candidates(head.layout, exact.stored)
        found.head_blocks = exact.candidates(head.layout, exact.head)
        exact_count = len(found.exact_blocks) + len(found.head_blocks)
    scan_fits = plan.scan is None or plan.scan[1] - plan.scan[0] < config.scan_chunk
    groups = query.criteria.value_groups
    answer: list[tuple[PathName, Verified]] = []
    if plan.indexed is not None:
        first, end = plan.indexed
        size = plan.section_size
        if (end // size - first // size + 1) * (size // 8) > config.direct_bytes:
            return found  # the matcher's
        numbers = section_candidates(view, groups, first, end, size, state.first_section, vectors)
        if len(numbers) + exact_count > config.verify_batch or not scan_fits:
            found.candidates = numbers
            return found
        answer.append(("bloom", verify_blocks(view, numbers, matcher, None, records)))
    elif not scan_fits or exact_count > config.verify_batch:
        return found
    if found.exact_blocks is not None and plan.exact is not None:
        answer.append(("exact", verify_exact(view, found.exact_blocks, matcher, None, records)))
    if plan.scan is not None:
        answer.append(("scan", scan_and_verify(view, *plan.scan, groups, matcher, None, records)))
    if found.head_blocks is not None and plan.head is not None:
        answer.append(("exact", verify_exact(view, found.head_blocks, matcher, None, records)))
    found.answer = answer
    return found
