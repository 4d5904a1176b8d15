"""The text index fed from the chain store: catch-up, following, reorgs, restarts.

End to end on real components: a chain archive or a real anvil node → the chain indexer →
LevelDB → :class:`TextFeed` → the text index → search (and the ``logfilter search`` CLI).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import orjson
import pytest
from eth_typing import Hash32

from chainindex.logsearch.feed import TextFeed
from chainindex.logsearch.index import LogSearchResult, TextIndex
from chainindex.source import open_source
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from chainindex.sync.events import ChainEvent
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import ChainLog
from rpc.cli import main
from tests.anvil import Anvil
from tests.chainindex.sync.test_sync_anvil import FAST, sync_once
from tests.emitter import Emitter
from tests.fixtures import execution_apis_archive

CONFIG = SyncConfig(section_size=8, confirmations=0, refresh_interval=0.05)


async def stored_logs(reader: ChainReader) -> list[ChainLog]:
    state = await reader.state()
    assert state.head is not None
    out: list[ChainLog] = []
    for header in await reader.headers(state.tail or 0, state.head.number):
        out.extend(await reader.logs(header))
    return out


def indexed_keys(index: TextIndex) -> list[tuple[int, int, bytes]]:
    keys: list[tuple[int, int, bytes]] = []
    after = None
    while True:
        page = index.search("", limit=1000, after=after, sort="block_asc")
        keys += [(h.log.block_number, h.log.log_index, h.log.block_hash) for h in page.hits]
        if page.cursor is None:
            return keys
        after = page.cursor


def names(result: LogSearchResult) -> list[str]:
    return sorted(h.event.args[0].value for h in result.hits if h.event is not None)


async def test_catch_up_from_a_synced_archive_and_repair_a_diverged_index(
    tmp_path: Path,
) -> None:
    datadir = tmp_path / "dd"
    store = open_datadir(datadir)
    indexer = await sync_once(store, str(execution_apis_archive()), section_size=16)
    expected = [
        (log.block_number, log.log_index, log.block_hash)
        for log in await stored_logs(indexer.reader)
    ]
    assert len(expected) == 383
    index = TextIndex.in_datadir(datadir)
    feed = TextFeed(index, indexer.reader, indexer.events, batch_blocks=10)
    await feed.catch_up()
    assert indexed_keys(index) == expected
    assert index.committed_head() == (54, (await indexer.reader.header(54)).hash)  # type: ignore[union-attr]

    # The index diverges from the store (as after a reorg while the service was down): the
    # logs of blocks 50..54 are replaced by logs of other blocks at the same heights.
    real = [log for log in await stored_logs(indexer.reader) if log.block_number >= 50]
    index.delete_from_block(49)
    index.add_logs(dataclasses.replace(log, block_hash=Hash32(b"\xee" * 32)) for log in real)
    index.commit(54, b"\xee" * 32)
    index.close()
    index = TextIndex.in_datadir(datadir)
    await TextFeed(index, indexer.reader, indexer.events).catch_up()
    assert indexed_keys(index) == expected  # rolled back to block 49, replayed 50..54
    index.close()
    store.close()


async def wait_indexed(feed: TextFeed, anvil: Anvil, number: int) -> None:
    target = bytes.fromhex(anvil.rpc("eth_getBlockByNumber", hex(number), False)["hash"][2:])
    async with asyncio.timeout(30):
        await feed.wait_indexed(number, target)


async def test_names_registered_on_anvil_are_searchable_through_sync_and_reorgs(
    anvil: Anvil, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anvil.set_automine(True)
    emitter = Emitter(anvil)
    owner = anvil.accounts()[3]
    anvil.set_automine(False)
    for i, name in enumerate(["vitalik", "vitalik-fan", "nick"]):
        emitter.register(name, owner, 10**16, 0, 2**35 + i)
        anvil.mine()
    snapshot = anvil.snapshot()
    emitter.register("wrapped-ether", owner, 10**16, 5, 2**36)
    anvil.mine()
    first_head = anvil.block_number()

    datadir = tmp_path / "dd"
    store = open_datadir(datadir)
    index = TextIndex.in_datadir(datadir)
    async with open_source(anvil.url, FAST) as source:
        indexer = ChainIndexer(store, source, CONFIG)
        feed = TextFeed(index, indexer.reader, indexer.events, commit_seconds=0)
        async with asyncio.TaskGroup() as tasks:
            sync_task = tasks.create_task(indexer.run())
            feed_task = tasks.create_task(feed.run())
            await wait_indexed(feed, anvil, first_head)
            assert names(index.search("name:vitalik*")) == ["vitalik", "vitalik-fan"]
            assert names(index.search('"wrapped ether"')) == ["wrapped-ether"]
            # A reorg replaces the last registration by another one, one block longer.
            anvil.revert(snapshot)
            emitter.register("brantly", owner, 10**16, 0, 2**36)
            anvil.mine()
            anvil.mine()
            await wait_indexed(feed, anvil, anvil.block_number())
            assert names(index.search("wrapped")) == []
            assert names(index.search("brantly OR vitalik")) == [
                "brantly",
                "vitalik",
                "vitalik-fan",
            ]
            # And another, through anvil_reorg (replacing the last two blocks).
            anvil.reorg(2, [(emitter.tx(Emitter.register_data("vitalk", owner, 1, 0, 1)), 0)])
            await wait_indexed(feed, anvil, anvil.block_number())
            assert names(index.search("vitalik~1")) == ["vitalik", "vitalik-fan", "vitalk"]
            assert names(index.search("brantly")) == []
            sync_task.cancel()
            feed_task.cancel()
    head = anvil.block_number()
    assert index.committed_block() == head  # the cancelled feed committed what it had
    index.close()
    store.close()

    # A restart catches up with nothing to do, and the CLI reads the same data directory.
    store = open_datadir(datadir)
    reader = ChainReader(store)
    index = TextIndex.in_datadir(datadir)
    feed = TextFeed(index, reader, indexer.events)
    await feed.catch_up()
    assert index.committed_block() == head
    assert indexed_keys(index) == [
        (log.block_number, log.log_index, log.block_hash) for log in await stored_logs(reader)
    ]
    index.close()
    store.close()
    assert main(["search", "name:vitalk OR nick", "--datadir", str(datadir), "--json"]) == 0
    result = orjson.loads(capsys.readouterr().out)
    assert result["total"] == 2
    hit = next(h for h in result["hits"] if h["event"]["args"][0]["value"] == "vitalk")
    assert hit["log"]["address"] == emitter.address
    assert hit["event"]["name"] == "NameRegistered"
    assert [a["name"] for a in hit["event"]["args"]] == [
        "name",
        "label",
        "owner",
        "baseCost",
        "premium",
        "expires",
    ]


async def test_a_feed_that_falls_behind_catches_up_from_the_store(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    store = open_datadir(datadir)
    index = TextIndex.in_datadir(datadir)
    async with open_source(str(execution_apis_archive()), FAST) as source:
        config = SyncConfig(section_size=16, confirmations=0, follow=False, blocks_per_fetch=2)
        indexer = ChainIndexer(store, source, config)
        # A one-event buffer: the feed is dropped as soon as two commits queue up.
        feed = TextFeed(index, indexer.reader, indexer.events, max_events=1, commit_seconds=0)
        original = feed.apply

        async def slow_apply(event: ChainEvent) -> None:
            await asyncio.sleep(0.01)  # slower than the sync: events pile up
            await original(event)

        feed.apply = slow_apply  # type: ignore[method-assign]
        async with asyncio.TaskGroup() as tasks:
            feeding = tasks.create_task(feed.run())
            await indexer.run()
            await feed.wait_indexed(54)
            feeding.cancel()
    assert feed.resubscriptions > 0
    expected = [
        (log.block_number, log.log_index, log.block_hash)
        for log in await stored_logs(indexer.reader)
    ]
    assert indexed_keys(index) == expected
    index.close()
    store.close()
