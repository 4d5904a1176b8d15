"""Sync from a real anvil node over HTTP and WebSocket; backfill, then follow the head."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from chainindex.source import SourceOptions, open_source
from chainindex.store import LevelDBStore, open_datadir
from chainindex.sync.events import ChainEvent, EventSubscription
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import ChainLog
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, node_records
from tests.chainindex.reference import assert_stored_chain, dump, reference_header, reference_logs
from tests.chainindex.sync.test_sync_archive import check_sections
from tests.fixtures import hexbytes

FAST = SourceOptions(poll_interval=0.05, backoff=0.01, timeout=10)


async def sync_once(store: LevelDBStore, url: str, **config: object) -> ChainIndexer:
    """Sync ``url`` until its head (no follow)."""
    async with open_source(url, FAST) as source:
        indexer = ChainIndexer(store, source, SyncConfig(follow=False, **config))  # type: ignore[arg-type]
        await indexer.run()
        return indexer


async def test_backfill_over_http_and_ws_stores_what_the_node_returns(
    anvil: Anvil, tmp_path: Path
) -> None:
    build_chain(anvil, 300, seed=1)
    head = anvil.block_number()
    expected = node_records(anvil, 0, head)
    assert sum(len(r["logs"]) for rec in expected for r in rec["receipts"]) > 1500

    http_store = open_datadir(tmp_path / "http")
    indexer = await sync_once(
        http_store, anvil.url, section_size=16, confirmations=0, blocks_per_fetch=7
    )
    assert assert_stored_chain(indexer.reader, expected) == head + 1
    state = await indexer.reader.state()
    assert state.chain_id == 31337
    assert state.head == reference_header(expected[-1]["block"])
    blooms = {n: hexbytes(rec["block"]["logsBloom"]) for n, rec in enumerate(expected)}
    check_sections(indexer.reader, blooms, 16, (head + 1) // 16)
    # The node's own eth_getLogs over the whole chain: the same logs, in the same order.
    node_logs = anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)})
    stored: list[ChainLog] = []
    for n in range(head + 1):
        header = await indexer.reader.header(n)
        assert header is not None
        stored += await indexer.reader.logs(header)
    assert [(log.block_number, log.log_index, "0x" + log.data.hex()) for log in stored] == [
        (int(x["blockNumber"], 16), int(x["logIndex"], 16), x["data"]) for x in node_logs
    ]
    http_store.close()

    ws_store = open_datadir(tmp_path / "ws")
    await sync_once(ws_store, anvil.ws_url, section_size=16, confirmations=0, fetch_ahead=2)
    ws_store.close()
    assert dump(tmp_path / "ws") == dump(tmp_path / "http")


@asynccontextmanager
async def following(indexer: ChainIndexer) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``indexer`` in the background for the duration of the block."""
    async with asyncio.TaskGroup() as tasks:
        task = tasks.create_task(indexer.run())
        try:
            yield task
        finally:
            task.cancel()


async def events_until(sub: EventSubscription, anvil: Anvil, number: int) -> list[ChainEvent]:
    """Events until the synced head is the node's block ``number``."""
    target = anvil.rpc("eth_getBlockByNumber", hex(number), False)["hash"]
    events = []
    async with asyncio.timeout(30):
        async for event in sub:
            events.append(event)
            if event.head.number == number and "0x" + event.head.hash.hex() == target:
                return events
    raise AssertionError("subscription ended")


async def test_follow_mode_publishes_every_new_block(anvil: Anvil, leveldb: LevelDBStore) -> None:
    emitters = build_chain(anvil, 20, seed=2)
    for url in (anvil.url, anvil.ws_url):
        async with open_source(url, FAST) as source:
            indexer = ChainIndexer(
                leveldb, source, SyncConfig(section_size=8, confirmations=3, refresh_interval=0.2)
            )
            sub = indexer.events.subscribe()
            async with following(indexer):
                start = anvil.block_number()
                await indexer.wait_synced(start)
                for round_ in range(3):
                    build_chain(anvil, 4, seed=10 + round_, emitters=emitters)
                    await asyncio.sleep(0.05)
                end = anvil.block_number()
                events = await events_until(sub, anvil, end)
                assert indexer.status.phase in ("following", "syncing")
            added = [block for event in events for block in event.added]
            assert not any(event.removed for event in events)
            expected = node_records(anvil, added[0].header.number, end)
            assert [b.header for b in added] == [reference_header(r["block"]) for r in expected]
            assert [list(b.logs or ()) for b in added] == [
                reference_logs(r["block"], r["receipts"]) for r in expected
            ]
            # confirmations=3: sections whose last block is at most end - 3.
            assert indexer.status.sections == (end - 3 + 1) // 8
            sub.close()
        assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
    assert_stored_chain(indexer.reader, node_records(anvil, 0, anvil.block_number()))


async def test_cancelling_stops_promptly_without_leftover_tasks(
    anvil: Anvil, leveldb: LevelDBStore
) -> None:
    build_chain(anvil, 200, seed=3)
    async with open_source(anvil.ws_url, FAST) as source:
        indexer = ChainIndexer(leveldb, source, SyncConfig(section_size=8, blocks_per_fetch=2))
        task = asyncio.get_running_loop().create_task(indexer.run())
        await indexer.wait_synced(40)
        task.cancel()
        async with asyncio.timeout(2):
            await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()
        assert indexer.status.phase == "stopped"
    # Nothing left running once the source (which owns its WebSocket reader) is closed.
    assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()
    # What was committed before the cancellation is a consistent prefix of the chain.
    state = await indexer.reader.state()
    assert state.head is not None
    assert assert_stored_chain(indexer.reader, node_records(anvil, 0, state.head.number)) >= 41
