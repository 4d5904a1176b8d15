"""``serve`` on a directory with sealed history seals the head store's oldest final blocks,
as ``sync`` does, with queries and installed filters answering throughout.

Each seal is :class:`~chainindex.segments.sealing.HeadSealer`'s three steps, with the
query engine told in between: steps 1 and 2 (build, check, publish the manifest) leave the
head store holding the sealed blocks; the new segment is then opened and handed to the
engine (:meth:`~chainindex.filters.segmented.SegmentedQueryEngine.extend`), so queries that
start from then on read those blocks from the segment; once every query that started before
has ended (:meth:`~chainindex.filters.segmented.SegmentedQueryEngine.drained`), step 3 drops
them from the head store. A query therefore reads each block from one place, whichever
moment it runs across, and never a block that is gone: no log is missed or given twice.
Installed filters and subscriptions follow chain events, which a seal does not publish
(the chain does not change). This is read-copy-update (the Linux kernel's RCU): readers
never wait; the writer publishes the new copy, waits for a grace period that ends when the
readers of the old one are done, then frees it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from dataclasses import dataclass

from chainindex.aio import run_to_completion
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.segments.history import open_segment
from chainindex.segments.sealing import SEAL_INTERVAL, HeadSealer
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import LogFetcher
from chainindex.sync.indexer import ChainIndexer

__all__ = ["HistorySealing"]

log = logging.getLogger("rpc.server.sealing")


@dataclass
class HistorySealing:
    """The service's sealing of its head store (see the module docstring)."""

    sealer: HeadSealer
    """What is sealed, from which upstream."""
    engine: SegmentedQueryEngine
    """The service's query engine, told of each new segment."""
    indexer: ChainIndexer
    """The service's sync (its writer's lock guards the head store's writes)."""
    store: KeyValueStore
    """The head store."""
    fetcher: LogFetcher | None = None
    """Logs of headers-only segments, fetched on demand (as for the other segments)."""
    executor: Executor | None = None
    """The query path's thread pool (the new segment's reads run there)."""
    interval: float = SEAL_INTERVAL
    """Seconds between checks for a segment due."""

    async def run(self) -> None:
        """Seal what becomes due, every ``interval`` seconds once sync has checked the
        directory, until cancelled (a cancellation between the steps leaves what a kill
        leaves: finished at the next start)."""
        while True:
            await asyncio.sleep(self.interval)
            if self.indexer.status.phase != "starting":
                await self.seal_due()

    async def seal_due(self) -> int:
        """Seal every segment that is due; returns how many."""
        lock = self.indexer.writer.lock
        sealer = self.sealer
        done = 0
        while (seal := await run_to_completion(sealer.publish_next, self.store, lock)) is not None:
            segment = await run_to_completion(
                open_segment, sealer.datadir, seal, self.fetcher, self.executor
            )
            generation = self.engine.extend(segment)
            await self.engine.drained(generation)
            await run_to_completion(sealer.drop, self.store, lock, seal)
            done += 1
        return done
