"""Building the exact index of the sections a directory stored before it had one (a
directory migrated from schema version 2, or from 3 whose format-3 records are deleted
first), beside sync or alone (``logfilter build-index``).

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
from chainindex.store.exact.build import BuildProgress, pending_sections, purge_pending
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
    purging = await run_to_completion(purge_pending, writer.store)
    if not left and not purging:
        return 0
    if purging:
        log.warning(
            "exact index: migrating to format 4: deleting the format-3 records, then "
            "rebuilding %d sections from the stored logs (queries use the bloom sections "
            "there meanwhile; resumable if interrupted)",
            left,
        )
    else:
        log.info(
            "exact index: building %d sections from the stored logs (queries use the bloom "
            "sections there meanwhile)",
            left,
        )
    shown = time.monotonic()
    built = 0
    purged = 0
    while (progress := await run_to_completion(writer.build_index_step)) is not None:
        if progress.purged or progress.section < 0:
            purged += progress.purged
            if time.monotonic() - shown >= interval:
                shown = time.monotonic()
                log.info("exact index: %d format-3 records deleted so far", purged)
        else:
            built += 1
        if on_progress is not None:
            on_progress(progress)
        elif progress.section >= 0 and (time.monotonic() - shown >= interval or not progress.left):
            shown = time.monotonic()
            log.info("exact index: section %d built, %d to go", progress.section, progress.left)
    log.info("exact index: complete")
    return built
