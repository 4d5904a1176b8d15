"""Building the exact index of the sections a directory stored before it had one (a
directory migrated from schema version 2), beside sync or alone (``logfilter build-index``).

One section per write batch, downward from the oldest section sync indexed itself
(:func:`chainindex.store.exact.build.build_next` through
:meth:`~chainindex.store.writer.ChainWriter.build_index_step`, serialised with sync's writes),
each batch in a worker thread run to completion (a cancellation waits for it: no batch is
abandoned half way, and a ``kill -9`` loses at most the section being built). Progress is
logged every :data:`PROGRESS_INTERVAL` seconds, or handed to a callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chainindex.aio import run_to_completion
from chainindex.store.exact.build import BuildProgress, pending_sections
from chainindex.store.writer import ChainWriter

__all__ = ["PROGRESS_INTERVAL", "build_exact_index"]

PROGRESS_INTERVAL = 10.0
"""Seconds between progress lines."""

log = logging.getLogger("chainindex.sync.indexer")


async def build_exact_index(
    writer: ChainWriter,
    on_progress: Callable[[BuildProgress], None] | None = None,
    interval: float = PROGRESS_INTERVAL,
) -> int:
    """Build every section still without exact-index records; returns how many were built.
    Each step goes to ``on_progress`` if given, else a line is logged every ``interval``
    seconds."""
    left = await run_to_completion(pending_sections, writer.store)
    if not left:
        return 0
    log.info(
        "exact index: building %d sections from the stored logs (queries use the bloom "
        "sections there meanwhile)",
        left,
    )
    shown = time.monotonic()
    built = 0
    while (progress := await run_to_completion(writer.build_index_step)) is not None:
        built += 1
        if on_progress is not None:
            on_progress(progress)
        elif time.monotonic() - shown >= interval or not progress.left:
            shown = time.monotonic()
            log.info("exact index: section %d built, %d to go", progress.section, progress.left)
    log.info("exact index: complete")
    return built
