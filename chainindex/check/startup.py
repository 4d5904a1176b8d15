"""The check ``sync`` and ``serve`` run at start: the newest section, cheaply.

The newest stored section and the blocks above it are where a crash or a failing disk
shows first, and they are few (at most two sections of blocks): their headers and logs
(:mod:`~chainindex.check.chain`), the section's vectors and head, the exact index of its
last :data:`EXACT_SAMPLE_BLOCKS` blocks (a saturated section carries some 500k values: all
of them is ``logfilter check``'s work), and the text index's commit point and segment
footers. Damage of headers or logs stops the start with
:class:`~chainindex.errors.DataDamagedError`; damage of the derived data is rebuilt there
(:mod:`~chainindex.check.repair`), or stops a read-only start, which may not write.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from chainindex.check.chain import check_chain
from chainindex.check.derived import check_exact_index, check_sections
from chainindex.check.problems import Problem, Problems
from chainindex.check.repair import repair_derived
from chainindex.check.text import check_text_index
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.store import schema
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import ChainView
from chainindex.store.sections import SectionStore

__all__ = ["EXACT_SAMPLE_BLOCKS", "newest_problems", "startup_check"]

log = logging.getLogger("chainindex.check")

EXACT_SAMPLE_BLOCKS = 16
"""Blocks at the end of the newest section whose exact-index values the start checks."""


def newest_problems(store: KeyValueStore, datadir: str | Path) -> list[Problem]:
    """What is wrong with the newest section and the blocks above it."""
    problems = Problems()
    raw = store.get(schema.meta_key(schema.META_SECTION_SIZE))
    if raw is None:
        return []
    sections = SectionStore(store, schema.decode_u64(raw))
    with store.snapshot() as reader:
        view = ChainView(reader, sections)
        state = view.state()
        if state.head is None or state.tail is None:
            return []
        size = state.section_size
        lo = max(state.first_section, state.sections - 1)
        first = max(state.tail, lo * size)
        check_chain(reader, first, state.head.number, state.head.hash, state.headers_only,
                    problems)  # fmt: skip
        check_sections(view, sections, state, problems, lo)
        exact_raw = reader.get(schema.meta_key(schema.META_EXACT_FIRST))
        if exact_raw is not None and state.sections > lo:
            sample = max(first, state.sections * size - EXACT_SAMPLE_BLOCKS)
            check_exact_index(view, state, schema.decode_u64(exact_raw), problems, lo,
                              from_block=sample)  # fmt: skip
    check_text_index(datadir, state.tail, problems, full=False)
    return problems.items


async def startup_check(
    store: KeyValueStore,
    datadir: str | Path,
    *,
    read_only: bool = False,
    registry: AbiRegistry | None = None,
) -> list[str]:
    """Check the newest section (see the module docstring) and rebuild damaged derived data;
    returns what was rebuilt. Damage of the primary data (or of any data, ``read_only``)
    raises :class:`~chainindex.errors.DataDamagedError`."""
    problems = await asyncio.to_thread(newest_problems, store, datadir)
    for problem in problems:
        log.error("data directory damaged: %s", problem.line())
    stop = [p for p in problems if p.primary or read_only]
    if stop:
        raise stop[0].error()
    if not problems:
        return []
    return await repair_derived(store, datadir, problems, registry)
