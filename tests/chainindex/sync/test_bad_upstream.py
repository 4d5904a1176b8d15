"""A misbehaving upstream: bad answers are rejected naming the block, retried, never stored.

The node serves the real execution-apis chain with faults (:mod:`tests.chainindex.fakenode`);
the data directory must end up identical to a sync of the same chain from its archive.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from chainindex.errors import InvalidBlockError, UpstreamError
from chainindex.source import ArchiveSource, SourceOptions, open_source
from chainindex.store import open_datadir, schema
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.chainindex.fakenode import CHAIN_ID, FakeNode, Fault
from tests.chainindex.reference import assert_stored_chain, dump
from tests.chainindex.sync.test_sync_archive import records
from tests.fixtures import execution_apis_archive

OPTIONS = SourceOptions(timeout=0.5, backoff=0.01, attempts=4, poll_interval=0.05)
UNVERIFIED = dataclasses.replace(OPTIONS, verify=False)
"""For the structural checks (links, blooms) on their own: with verification on, a changed
parent hash or bloom is refused first as a hash that is not the header's."""
CONFIG = SyncConfig(section_size=8, confirmations=0, follow=False, blocks_per_fetch=8)


@pytest.fixture(scope="module")
def clean_dump(tmp_path_factory: pytest.TempPathFactory) -> dict[bytes, bytes]:
    """The store of a sync from the archive, plus the chain id a node reports."""
    import asyncio

    path = tmp_path_factory.mktemp("clean") / "dd"

    async def sync() -> None:
        store = open_datadir(path)
        source = ArchiveSource(execution_apis_archive())
        await ChainIndexer(store, source, CONFIG).run()
        await source.aclose()
        store.close()

    asyncio.run(sync())
    expected = dump(path)
    expected[schema.meta_key(schema.META_CHAIN_ID)] = schema.encode_u64(CHAIN_ID)
    return expected


async def sync_from(
    node: FakeNode, path: Path, config: SyncConfig = CONFIG, options: SourceOptions = OPTIONS
) -> ChainIndexer:
    store = open_datadir(path)
    try:
        async with node.serving(), open_source(node.url, options) as source:
            indexer = ChainIndexer(store, source, config)
            await indexer.run()
            return indexer
    finally:
        store.close()


FAULTS = {
    "wrong parent hash inside a fetch": (Fault("parent", 20, times=2), "block 20: parentHash"),
    "wrong parent hash at a fetch start": (Fault("parent", 16, times=2), "block 16: parentHash"),
    "bloom not matching receipts": (Fault("bloom", 13, times=2), "block 13: logsBloom is not"),
    "truncated receipts": (Fault("truncate", 11, times=3), "block 11: 3 receipts for 4"),
    "HTTP 500": (Fault("http500", 30, times=2), "HTTP 500 internal error"),
    "timeout": (Fault("timeout", 5, times=1), "no answer within 0.5s"),
    "malformed JSON": (Fault("malformed", 40, times=2), "malformed JSON in the answer"),
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
async def test_bad_answers_are_retried_and_never_stored(
    kind: str, tmp_path: Path, clean_dump: dict[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    fault, message = FAULTS[kind]
    node = FakeNode([fault], delay=1.0)
    structural = fault.kind in ("parent", "bloom")
    await sync_from(node, tmp_path / "dd", options=UNVERIFIED if structural else OPTIONS)
    assert fault.applied == fault.times
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(message in w for w in warnings), warnings
    assert dump(tmp_path / "dd") == clean_dump


async def test_a_block_that_stays_bad_stops_sync_and_nothing_of_it_is_stored(
    tmp_path: Path,
) -> None:
    node = FakeNode([Fault("bloom", 30, times=-1)])
    with pytest.raises(InvalidBlockError, match="block 30: logsBloom is not the bloom"):
        await sync_from(node, tmp_path / "dd", options=UNVERIFIED)
    await assert_stored_before(tmp_path / "dd", 30)


async def assert_stored_before(path: Path, bad: int) -> None:
    """The store holds an honest prefix of the chain ending before block ``bad``."""
    store = open_datadir(path)
    try:
        source = ArchiveSource(execution_apis_archive())
        indexer = ChainIndexer(store, source, CONFIG)
        state = await indexer.reader.state()
        assert state.head is not None
        assert state.head.number < bad
        # Runs before the bad one may or may not have been committed when it failed.
        stored = assert_stored_chain(indexer.reader, records()[: state.head.number + 1])
        assert stored == state.head.number + 1
        assert await indexer.reader.header(bad) is None
        await source.aclose()
    finally:
        store.close()


async def test_a_parent_hash_that_stays_wrong_is_an_error(tmp_path: Path) -> None:
    node = FakeNode([Fault("parent", 16, times=-1)])
    config = dataclasses.replace(CONFIG, max_inconsistent=3)
    with pytest.raises(
        InvalidBlockError, match=r"block 16: parentHash 0x6666.* not extend block 15"
    ):
        await sync_from(node, tmp_path / "dd", config, UNVERIFIED)
    node = FakeNode([Fault("parent", 16, times=-1)])
    with pytest.raises(InvalidBlockError, match=r"block 16: hash 0x.* is not keccak256"):
        await sync_from(node, tmp_path / "dd2", config)


LIES = {
    "lie-forged-hash": (20, "hash 0x5a5a.* is not keccak256 of the header"),
    "lie-log-data": (20, "receiptsRoot 0x.* is not the root of the receipts"),
    "lie-dropped-logs": (20, "receiptsRoot 0x.* is not the root of the receipts"),
    "lie-zero-roots": (20, "receiptsRoot 0x0000.* is not the root of the receipts"),
    "lie-bloom": (20, "logsBloom is not the bloom of the receipts' logs"),
}


@pytest.mark.parametrize("kind", sorted(LIES))
async def test_a_careful_liar_is_refused_naming_block_and_field(kind: str, tmp_path: Path) -> None:
    bad, message = LIES[kind]
    config = dataclasses.replace(CONFIG, max_inconsistent=3)
    with pytest.raises(InvalidBlockError, match=f"block {bad}: {message}"):
        await sync_from(FakeNode([Fault(kind, bad)]), tmp_path / "dd", config)
    await assert_stored_before(tmp_path / "dd", bad)


@pytest.mark.parametrize("kind", sorted(set(LIES) - {"lie-bloom"}))
async def test_without_verification_the_lie_would_be_stored(kind: str, tmp_path: Path) -> None:
    # The lies are careful: only the consensus checks see them.
    node = FakeNode([Fault(kind, LIES[kind][0])])
    await sync_from(node, tmp_path / "dd", options=UNVERIFIED)
    store = open_datadir(tmp_path / "dd")
    try:
        indexer = ChainIndexer(store, ArchiveSource(execution_apis_archive()), CONFIG)
        stored = await indexer.reader.header(20)
        assert stored is not None
        assert "0x" + stored.hash.hex() == node.records[20]["block"]["hash"]
    finally:
        store.close()


async def test_receipts_per_transaction_when_the_node_lacks_block_receipts(
    tmp_path: Path, clean_dump: dict[bytes, bytes]
) -> None:
    node = FakeNode([Fault("no-block-receipts")])
    await sync_from(node, tmp_path / "dd")
    assert node.calls["eth_getTransactionReceipt"] == sum(len(r["receipts"]) for r in records())
    assert dump(tmp_path / "dd") == clean_dump


async def test_answers_too_large_for_the_node_are_fetched_in_halves(
    tmp_path: Path, clean_dump: dict[bytes, bytes]
) -> None:
    node = FakeNode([Fault("too-large", 3)])  # at most 3 blocks' receipts per batch
    await sync_from(node, tmp_path / "dd")
    assert dump(tmp_path / "dd") == clean_dump


async def test_unreachable_upstream(tmp_path: Path) -> None:
    node = FakeNode([])  # never served
    store = open_datadir(tmp_path / "dd")
    try:
        async with open_source(node.url, OPTIONS) as source:
            with pytest.raises(UpstreamError, match=f"cannot reach {node.url}"):
                await ChainIndexer(store, source, CONFIG).run()
    finally:
        store.close()


async def test_an_outage_after_catching_up_is_waited_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = FakeNode([], head=30)
    store = open_datadir(tmp_path / "dd")
    config = dataclasses.replace(CONFIG, follow=True, refresh_interval=0.1)
    try:
        async with open_source(node.url, OPTIONS) as source:
            indexer = ChainIndexer(store, source, config)
            async with asyncio.TaskGroup() as tasks:
                task = tasks.create_task(indexer.run())
                async with node.serving():
                    await indexer.wait_synced(30)
                    await asyncio.sleep(0.3)
                    assert indexer.status.phase == "following"
                await asyncio.sleep(1.5)  # the node is down
                assert not task.done()
                node.head = 54
                async with node.serving():
                    await asyncio.wait_for(indexer.wait_synced(54), 10)
                task.cancel()
    finally:
        store.close()
    assert any("the upstream is failing" in r.getMessage() for r in caplog.records)
    assert indexer.status.synced_head == 54
