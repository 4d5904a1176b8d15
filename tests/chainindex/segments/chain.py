"""A generated chain built both ways: one plain sync, and a backfill into segments followed by
the head store's sync; the plain directory's engine is the reference the segmented one must
equal.

The chain is the project's synthetic one (``synthetic:sparse``), small sections (64 blocks)
and small segments (256 blocks), so a few hundred blocks cross several segment boundaries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bloombits.valuecache import ValueCache
from chainindex.errors import FilterError, QueryLimitError
from chainindex.filters import LogQueryEngine, QueryConfig
from chainindex.filters.criteria import LogCriteria, LogQuery
from chainindex.filters.retriever import SectionRetriever
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.coordinator import BackfillPlan, run_backfill
from chainindex.segments.executors import TaskRunner
from chainindex.segments.history import SegmentHistory, head_start
from chainindex.segments.manifest import Manifest, SealedSegment
from chainindex.source import open_source
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import ChainLog
from rpc.server.codec.logs import encode_block_logs

BLOCKS = 1200
"""Blocks of the generated chain."""
SPEC = f"synthetic:sparse?blocks={BLOCKS}&seed=11"
"""The chain, as ``--upstream`` names it."""
SECTION = 64
"""Blocks per section."""
SEGMENT = 256
"""Blocks per segment."""
SEALED_TO = 1023
"""Last block of the backfill (4 segments); the head store holds 1024..1199."""


def plan(datadir: Path, *, last: int = SEALED_TO, spec: str = SPEC) -> BackfillPlan:
    """The test backfill's plan."""
    return BackfillPlan(
        datadir=str(datadir),
        upstream=spec,
        first=0,
        last=last,
        section_size=SECTION,
        segment_blocks=SEGMENT,
        max_requests=4,
    )


def backfill(
    datadir: Path,
    *,
    use_dask: bool = False,
    build: Callable[[SegmentTask], SealedSegment] = build_segment,
) -> Manifest:
    """Backfill blocks 0..SEALED_TO of the chain into ``datadir`` with 2 workers."""
    with TaskRunner(2, use_dask=use_dask) as runner:
        return run_backfill(plan(datadir), runner, build=build)


def sync(datadir: Path, *, until: int = BLOCKS - 1, spec: str = SPEC) -> None:
    """Sync ``datadir`` (plain, or the head store after a backfill) up to ``until``."""
    config = SyncConfig(
        section_size=SECTION,
        confirmations=0,
        from_block=head_start(datadir, None),
        until=until,
        follow=False,
    )

    async def run() -> None:
        store = open_datadir(datadir)
        try:
            async with open_source(spec) as source:
                await ChainIndexer(store, source, config).run()
        finally:
            store.close()

    asyncio.run(run())


@contextmanager
def engine(datadir: Path) -> Iterator[LogQueryEngine]:
    """The query engine of ``datadir``: segmented when it has a manifest."""
    store = open_datadir(datadir)
    reader = ChainReader(store)
    retriever = SectionRetriever(reader.sections)
    history = SegmentHistory.open(datadir)
    config = QueryConfig(max_block_range=0)
    try:
        if history is None:
            yield LogQueryEngine(reader, retriever, cache=ValueCache(), config=config)
        else:
            segmented = SegmentedQueryEngine(
                history, reader, retriever, cache=ValueCache(), config=config
            )
            try:
                yield segmented
            finally:
                segmented.close()
                history.close()
    finally:
        retriever.close()
        store.close()


Answer = tuple[str, bytes] | tuple[str, int, int, str] | tuple[str, str, int, str]
"""``("logs", encoded answer)``, ``("limit", first, last, message)`` or ``("error", type,
0, message)``."""


async def answer(engine: LogQueryEngine, query: LogQuery, max_results: int = 0) -> Answer:
    """What ``eth_getLogs`` would send: the encoded logs, or the limit error's range."""
    try:
        if max_results:
            blocks = await engine.collect(query, max_results)
        else:
            blocks = []
            async for chunk in engine.stream(query):
                blocks.extend(chunk)
    except QueryLimitError as err:
        return ("limit", err.first, err.last, str(err))
    except FilterError as err:
        return ("error", type(err).__name__, 0, str(err))
    return ("logs", ("[" + encode_block_logs(blocks) + "]").encode())


async def every_log(engine: LogQueryEngine) -> list[ChainLog]:
    """Every log of the chain, through ``engine``."""
    out: list[ChainLog] = []
    async for chunk in engine.stream(LogQuery(LogCriteria(), 0, BLOCKS - 1)):
        for block in chunk:
            out.extend(block.logs())
    return out
