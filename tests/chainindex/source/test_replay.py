"""ReplaySource: an archive shown up to a released head, growing on demand."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from chainindex.errors import MissingBlockError
from chainindex.source import ArchiveSource, ReplaySource
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.synthetic import ChainGenerator, ChainShape, write_archive
from chainindex.types import Header

BLOCKS = 40


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "chain.jsonl"
    write_archive(ChainGenerator(ChainShape(fill=0.05), seed=3), path, BLOCKS)
    return path


def _hashes(path: Path) -> list[str]:
    """Block hashes straight from the archive's JSON lines."""
    return [orjson.loads(line)["block"]["hash"] for line in path.read_bytes().splitlines()]


async def test_shows_only_released_blocks(archive: Path) -> None:
    replay = ReplaySource(ArchiveSource(archive), 10)
    try:
        assert not replay.finite
        assert (await replay.latest()).number == 10
        assert (await replay.latest()).hash.hex() == _hashes(archive)[10][2:]
        assert await replay.header_at(11) is None
        assert (await replay.header_at(10)) == await replay.latest()
        with pytest.raises(MissingBlockError):
            await replay.blocks(5, 11, with_logs=True)
        blocks = await replay.blocks(5, 10, with_logs=True)
        assert [b.header.number for b in blocks] == list(range(5, 11))
        assert replay.remaining == BLOCKS - 1 - 10
    finally:
        await replay.aclose()


async def test_release_announces_heads_and_stops_at_the_end(archive: Path) -> None:
    replay = ReplaySource(ArchiveSource(archive), 30)
    heads: list[Header] = []
    seen = asyncio.Event()

    def on_head(header: Header) -> None:
        heads.append(header)
        seen.set()

    try:
        watcher = asyncio.create_task(replay.watch_heads(on_head))
        await asyncio.sleep(0)
        assert await replay.release(4) == 4
        await asyncio.wait_for(seen.wait(), 5)
        assert [h.number for h in heads] == [34]
        seen.clear()
        assert await replay.release(100) == BLOCKS - 1 - 34  # clamped to the archive
        await asyncio.wait_for(seen.wait(), 5)
        assert heads[-1].number == BLOCKS - 1
        assert await replay.release(1) == 0
        assert replay.remaining == 0
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher
    finally:
        await replay.aclose()


async def test_a_following_indexer_syncs_each_release(archive: Path, tmp_path: Path) -> None:
    replay = ReplaySource(ArchiveSource(archive), 19)
    store = open_datadir(tmp_path / "dd")
    try:
        indexer = ChainIndexer(store, replay, SyncConfig(section_size=8, confirmations=0))
        async with asyncio.TaskGroup() as tasks:
            running = tasks.create_task(indexer.run())
            assert (await asyncio.wait_for(indexer.wait_synced(19), 20)).number == 19
            await replay.release(7)
            head = await asyncio.wait_for(indexer.wait_synced(26), 20)
            assert head.hash.hex() == _hashes(archive)[26][2:]
            assert indexer.status.phase == "following"  # not stopped: more may come
            running.cancel()
    finally:
        store.close()
        await replay.aclose()
