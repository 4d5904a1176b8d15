"""A reorg at the head of a real node (anvil's ``anvil_reorg``) while the head store's oldest
blocks are being sealed: the seal goes through (only final blocks are sealed), the head
store follows the new branch, and every answer equals a plain sync of the final chain."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from chainindex.filters.criteria import LogCriteria, LogQuery
from chainindex.segments import sealing
from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.coordinator import BackfillPlan, run_backfill
from chainindex.segments.executors import TaskRunner
from chainindex.segments.history import head_start
from chainindex.segments.manifest import SealedSegment, read_manifest
from chainindex.segments.sealing import HeadSealer, keep_sealed
from chainindex.source import open_source
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, random_calldata
from tests.chainindex.segments.chain import answer, engine
from tests.chainindex.sync.test_sync_anvil import FAST, sync_once

SECTION = 8
SEGMENT = 16
CONFIRMATIONS = 4
DEPTH = 3
"""Blocks the reorg replaces at the head (fewer than the confirmations)."""


async def _follow_until_sealed(datadir: Path, anvil: Anvil, sealed_to: int) -> int:
    """Follow the node with sealing on until block ``sealed_to`` is sealed and the head store
    holds the node's head; returns the reorgs the indexer saw."""
    store = open_datadir(datadir)
    config = SyncConfig(
        section_size=SECTION,
        confirmations=CONFIRMATIONS,
        from_block=head_start(datadir, None),
        refresh_interval=0.1,
    )
    sealer = HeadSealer(str(datadir), anvil.url, SECTION, SEGMENT, confirmations=CONFIRMATIONS)
    try:
        async with open_source(anvil.url, FAST) as source:
            indexer = ChainIndexer(store, source, config)
            started = lambda: indexer.status.phase != "starting"  # noqa: E731
            task = asyncio.create_task(
                keep_sealed(indexer.run(), sealer, store, indexer.writer.lock, started)
            )
            deadline = time.monotonic() + 120
            while True:
                assert not task.done(), task.exception()
                assert time.monotonic() < deadline, indexer.status
                manifest = read_manifest(datadir)
                latest = await asyncio.to_thread(anvil.rpc, "eth_getBlockByNumber", "latest", False)
                head = indexer.head
                if (
                    manifest is not None
                    and manifest.last >= sealed_to
                    and head is not None
                    and "0x" + head.hash.hex() == latest["hash"]
                ):
                    break
                await asyncio.sleep(0.1)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return indexer.counters.reorgs
    finally:
        store.close()


async def test_a_reorg_while_sealing_answers_as_a_plain_sync(
    anvil: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emitters = build_chain(anvil, 40, seed=7)
    assert anvil.block_number() >= 40
    datadir = tmp_path / "dd"
    plan = BackfillPlan(
        datadir=str(datadir), upstream=anvil.url, first=0, last=SEGMENT - 1,
        section_size=SECTION, segment_blocks=SEGMENT, max_requests=2,
    )  # fmt: skip
    with TaskRunner(1, use_dask=False) as runner:
        await asyncio.to_thread(run_backfill, plan, runner)
    rng = random.Random(3)
    accounts = anvil.accounts()
    before = anvil.rpc("eth_getBlockByNumber", "latest", False)["hash"]
    reorged: list[str] = []

    def build_then_reorg(task: SegmentTask) -> SealedSegment:
        """The sealer's build; the first one replaces the node's last blocks as it ends."""
        seal = build_segment(task)
        if not reorged:
            txs = [(emitters[0].tx(random_calldata(rng, emitters[0], accounts[3])), 1)]
            anvil.reorg(DEPTH, txs)
            reorged.append(anvil.rpc("eth_getBlockByNumber", "latest", False)["hash"])
        return seal

    monkeypatch.setattr(sealing, "build_segment", build_then_reorg)
    reorgs = await _follow_until_sealed(datadir, anvil, 2 * SEGMENT - 1)
    assert reorged  # the node's head was replaced mid-seal
    assert reorged[0] != before
    assert reorgs >= 1  # and the head store followed it
    manifest = read_manifest(datadir)
    assert manifest is not None
    assert [(s.first, s.last) for s in manifest.segments][:2] == [(0, 15), (16, 31)]
    assert manifest.last <= anvil.block_number() - CONFIRMATIONS  # only final blocks sealed
    fresh = open_datadir(tmp_path / "fresh")
    await sync_once(fresh, anvil.url, section_size=SECTION, confirmations=0)
    fresh.close()
    head = anvil.block_number()
    queries = [LogQuery(LogCriteria(), 0, head), LogQuery(LogCriteria(), head - DEPTH - 2, head)]
    queries += [LogQuery(LogCriteria(), b - 3, b + 3) for b in (SEGMENT, 2 * SEGMENT)]
    with engine(tmp_path / "fresh") as expected, engine(datadir) as got:
        for query in queries:
            assert await answer(got, query) == await answer(expected, query)
        assert (await answer(got, queries[0]))[1] != b"[]"
