"""The read API: consistent snapshots while sync commits, on-demand logs, refusals."""

from __future__ import annotations

import asyncio

import pytest

from chainindex.errors import LogsUnavailableError, StoreError
from chainindex.source import ArchiveSource
from chainindex.source.ondemand import LogCache
from chainindex.store import LevelDBStore
from chainindex.store.reader import ChainReader, ChainView
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import ChainLog, Header
from tests.chainindex.reference import reference_logs
from tests.chainindex.sync.test_sync_archive import records
from tests.fixtures import execution_apis_archive


def snapshot_facts(view: ChainView) -> tuple[int, int, int, bool]:
    """Synced head, headers stored, sections counted, and whether every counted section's
    vectors are there — all from one snapshot."""
    state = view.state()
    if state.head is None:
        return -1, 0, 0, True
    headers = view.headers(0, 10_000)
    complete = all(
        view.bit_vectors(bit, state.first_section, state.sections - 1)[1].all()
        for bit in (0, 1000, 2047)
    )
    assert headers[-1] == state.head
    return state.head.number, len(headers), state.sections, complete


async def test_reads_are_consistent_while_sync_commits(leveldb: LevelDBStore) -> None:
    source = ArchiveSource(execution_apis_archive())
    config = SyncConfig(section_size=8, confirmations=0, blocks_per_fetch=1, fetch_ahead=1)
    indexer = ChainIndexer(leveldb, source, config)
    seen = []

    async def watch() -> None:
        while indexer.status.phase != "stopped":
            seen.append(await indexer.reader.read(snapshot_facts))

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(watch())
        await indexer.run()
    await source.aclose()
    assert len({head for head, *_ in seen}) > 5  # reads really interleaved with commits
    for head, headers, sections, complete in seen:
        assert headers == head + 1
        assert sections <= (head + 1) // 8
        assert complete


class CountingSource(ArchiveSource):
    """The archive source, counting logs fetches and pausing them so they overlap."""

    fetches = 0

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        self.fetches += 1
        await asyncio.sleep(0.01)
        return await super().block_logs(header)


async def test_log_cache_is_bounded_and_shares_fetches() -> None:
    source = CountingSource(execution_apis_archive())
    all_records = records()
    try:
        headers = [await source.header_at(n) for n in range(3, 13)]
        cache = LogCache(source, max_blocks=4, max_logs=30)
        first = headers[0]
        assert first is not None
        results = await asyncio.gather(*(cache.logs(first) for _ in range(5)))
        assert source.fetches == 1
        expected = reference_logs(all_records[3]["block"], all_records[3]["receipts"])
        assert all(list(r) == expected for r in results)
        for header in headers:
            assert header is not None
            await cache.logs(header)
        assert len(cache) <= 4
        assert cache._cached_logs <= 30
        fetched = source.fetches
        last = headers[-1]
        assert last is not None
        await cache.logs(last)
        assert source.fetches == fetched  # the most recent block is still cached
        await cache.logs(first)
        assert source.fetches == fetched + 1  # the oldest was evicted
    finally:
        await source.aclose()


def test_a_reader_needs_a_synced_directory(leveldb: LevelDBStore) -> None:
    with pytest.raises(StoreError, match="has not been synced yet"):
        ChainReader(leveldb)


async def test_logs_not_stored_and_no_fetcher(leveldb: LevelDBStore) -> None:
    source = ArchiveSource(execution_apis_archive())
    config = SyncConfig(section_size=8, confirmations=0, headers_only=True, until=5)
    await ChainIndexer(leveldb, source, config).run()
    await source.aclose()
    reader = ChainReader(leveldb)
    header = await reader.header(3)
    assert header is not None
    assert await reader.canonical_hash(3) == header.hash
    assert await reader.canonical_hash(6) is None
    assert await reader.logs_record(header) is None
    with pytest.raises(LogsUnavailableError, match="block 3: logs are not stored"):
        await reader.logs(header)
