"""The exact path: a filter's matching logs straight from the exact log index.

For the ``exact`` and ``head`` stretches of a plan (:mod:`~chainindex.filters.planning`),
in the planning call's snapshot: the stored records give the positions of the matching logs
of the sectioned blocks (:func:`~chainindex.store.exact.stored_positions`), the head index
those of the blocks above (:meth:`~chainindex.store.exact.HeadIndex.positions`, which first
brings itself to the snapshot's chain; blocks it does not hold for that snapshot go to the
header scan). The positions name the blocks to read, and only those: every block read holds
a match (candidate density 1.0), and the logs to look at in each
(:class:`~chainindex.filters.verify.LogCandidates`). Verification checks only those logs
(:meth:`~chainindex.filters.verify.RecordMatcher.confirm`), for what the index cannot prove:
the values themselves (the index knows fingerprints; a fingerprint shared by two values only
ever adds candidates, in stored records and head index alike) and a trailing wildcard
position (a log must have that many topics, which the index does not record).

When the whole range is exact and the filter has no trailing wildcard, the number of
matching logs is known before any log is read: :func:`check_result_limit` refuses a query
over ``max_results`` there, with the range that fits (the one the streamed count would give).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chainindex.errors import ResultLimitError
from chainindex.filters.criteria import LogCriteria
from chainindex.filters.planning import SearchPlan, exact_index_first
from chainindex.filters.verify import LogCandidates
from chainindex.store.damage import EXACT_INDEX, LOGS, damage
from chainindex.store.exact import HeadIndex, PositionLayout, ValueKey, stored_positions
from chainindex.store.exact.cache import ExactBitmapCache
from chainindex.store.exact.keys import ADDRESS, value_key
from chainindex.store.reader import ChainView

__all__ = [
    "ExactCoverage",
    "ExactFound",
    "check_result_limit",
    "exact_coverage",
    "find_exact",
    "index_groups",
    "refresh_head",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_NONE = np.zeros(0, dtype=np.uint64)


def index_groups(criteria: LogCriteria) -> list[list[ValueKey]]:
    """The criteria's non-wildcard groups as index values: the addresses (kind 0), then each
    topic position with values (kind ``1 + position``)."""
    groups: list[list[ValueKey]] = []
    if criteria.addresses:
        groups.append([value_key(ADDRESS, a) for a in criteria.addresses])
    for position, values in enumerate(criteria.topics):
        if values:
            groups.append([value_key(position + 1, t) for t in values])
    return groups


def counts_exactly(criteria: LogCriteria) -> bool:
    """Whether the index's positions are exactly the matching logs (no trailing wildcard
    topic position, whose topic count the index does not record)."""
    return not criteria.topics or bool(criteria.topics[-1])


@dataclass(frozen=True, slots=True)
class ExactFound:
    """What the exact path found in the planning call."""

    plan: SearchPlan
    """The plan, its head stretch narrowed to what the head index held (the rest scanned)."""
    stored: U64
    """Positions of the matching logs of the ``exact`` stretch, ascending."""
    head: U64
    """Positions of the matching logs of the ``head`` stretch, ascending."""

    def candidates(self, layout: PositionLayout, which: U64) -> LogCandidates:
        """The blocks of ``which`` (one of the two) with the logs it names in each."""
        blocks, logs = layout.split(which)
        return LogCandidates.of(blocks, logs)


def find_exact(
    view: ChainView,
    plan: SearchPlan,
    criteria: LogCriteria,
    head: HeadIndex,
    cache: ExactBitmapCache | None = None,
) -> ExactFound:
    """The positions of the plan's exact and head stretches (see the module docstring);
    ``cache`` keeps decoded records of values in repeated use."""
    groups = index_groups(criteria)
    layout = head.layout
    stored = _NONE
    if plan.exact is not None:
        with damage(EXACT_INDEX, *plan.exact):
            stored = stored_positions(view.reader, layout, groups, *plan.exact, cache)
    found = _NONE
    if plan.head is not None:
        first, last = plan.head
        with damage(LOGS, plan.head_base, last):  # the head index is read from the logs
            coverage = head.positions(view.reader, groups, first, last, plan.head_base)
        found = coverage.positions
        if coverage.first > first:
            plan = dataclasses.replace(
                plan,
                scan=(first, min(last, coverage.first - 1)),
                head=(coverage.first, last) if coverage.first <= last else None,
            )
    return ExactFound(plan, stored, found)


def check_result_limit(
    found: ExactFound, criteria: LogCriteria, max_results: int, layout: PositionLayout
) -> None:
    """Refuse, before any log is read, a query the exact path answers whole whose matching
    logs number more than ``max_results`` (0: no limit)."""
    plan = found.plan
    if not max_results or plan.indexed is not None or plan.scan is not None:
        return
    if not counts_exactly(criteria):
        return
    total = len(found.stored) + len(found.head)
    if total <= max_results:
        return
    every = np.concatenate([found.stored, found.head])
    over = int(layout.split(every[max_results : max_results + 1])[0][0])
    raise ResultLimitError(max_results, plan.first, max(plan.first, over - 1))


def refresh_head(view: ChainView, head: HeadIndex) -> None:
    """Bring ``head`` to the snapshot's synced head (after a commit: queries then find it
    ready); nothing for a directory without an exact index."""
    state = view.state()
    if state.head is None or state.tail is None or state.headers_only:
        return
    if exact_index_first(view) is None:
        return
    base = max(state.indexed_until + 1, state.tail)
    if base <= state.head.number:
        with damage(LOGS, base, state.head.number):
            head.sync_to(view.reader, base, state.head.number)


@dataclass(frozen=True, slots=True)
class ExactCoverage:
    """How far a directory's exact index reaches (stored records; the head index is the
    engine's)."""

    first_block: int | None
    """First block of the sections with records (None: none yet)."""
    last_block: int | None
    """Last block of the sections with records."""
    sections_to_build: int
    """Sections below them still to build (a directory migrated from schema version 2)."""


def exact_coverage(view: ChainView) -> ExactCoverage | None:
    """The coverage of the snapshot's exact index (None: the directory has none)."""
    exact_first = exact_index_first(view)
    state = view.state()
    if exact_first is None or state.tail is None:
        return None
    size = state.section_size
    covered = state.sections > exact_first
    return ExactCoverage(
        max(exact_first * size, state.tail) if covered else None,
        state.sections * size - 1 if covered else None,
        max(0, exact_first - state.first_section),
    )
