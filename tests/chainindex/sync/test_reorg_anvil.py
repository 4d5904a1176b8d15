"""Real reorgs on anvil (evm_snapshot/evm_revert and anvil_reorg) while the indexer follows.

The events must say exactly which logs left the chain (as the node reported them before the
reorg, now with removed=True) and which joined it, in chain order; sections above the common
ancestor must be rebuilt from the new blocks; and the store must end up identical to a fresh
sync of the new chain.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from chainindex.errors import ReorgTooDeepError
from chainindex.source import open_source
from chainindex.store import open_datadir
from chainindex.sync.events import ChainEvent
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import ChainLog
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, node_records, random_calldata
from tests.chainindex.reference import dump, reference_logs
from tests.chainindex.sync.test_sync_anvil import FAST, events_until, following, sync_once
from tests.chainindex.sync.test_sync_archive import check_sections
from tests.fixtures import hexbytes

CONFIG = SyncConfig(section_size=8, confirmations=0, refresh_interval=0.1)


def all_logs(records: list[dict[str, Any]]) -> list[ChainLog]:
    return [log for r in records for log in reference_logs(r["block"], r["receipts"])]


def removed_and_added(events: list[ChainEvent]) -> tuple[list[ChainLog], list[ChainLog]]:
    """Removed logs of all events, and logs added from the first reorg on."""
    removed: list[ChainLog] = []
    added: list[ChainLog] = []
    seen_reorg = False
    for event in events:
        removed += event.removed_logs()
        seen_reorg = seen_reorg or event.is_reorg
        if seen_reorg:
            added += event.added_logs()
    return removed, added


async def check_against_fresh_sync(anvil: Anvil, tmp_path: Path, followed: Path) -> None:
    """The followed store equals a fresh sync of the node's current chain."""
    fresh = open_datadir(tmp_path / "fresh")
    await sync_once(fresh, anvil.url, section_size=8, confirmations=0)
    fresh.close()
    assert dump(followed) == dump(tmp_path / "fresh")


async def test_revert_to_snapshot_and_mine_another_branch(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 10, seed=5)  # head 12
    snapshot = anvil.snapshot()
    fork = anvil.block_number()
    build_chain(anvil, 10, seed=6, emitters=emitters)  # blocks 13..22: crosses section 2 (16..23)
    old_head = anvil.block_number()
    old = node_records(anvil, fork + 1, old_head)
    assert all_logs(old)

    store = open_datadir(tmp_path / "dd")
    async with open_source(anvil.url, FAST) as source:
        indexer = ChainIndexer(store, source, CONFIG)
        sub = indexer.events.subscribe()
        async with following(indexer):
            await indexer.wait_synced(old_head)
            assert indexer.status.sections == (old_head + 1) // 8
            anvil.revert(snapshot)
            build_chain(anvil, 12, seed=7, emitters=emitters)  # new 13..24
            new_head = anvil.block_number()
            events = await events_until(sub, anvil, new_head)
        sub.close()
    new = node_records(anvil, fork + 1, new_head)
    removed, added = removed_and_added(events)
    assert removed == [dataclasses.replace(log, removed=True) for log in all_logs(old)]
    assert added == all_logs(new)
    reorgs = [e for e in events if e.is_reorg]
    assert len(reorgs) == 1
    assert [b.header.number for b in reorgs[0].removed] == list(range(fork + 1, old_head + 1))
    blooms = {
        n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(node_records(anvil, 0, new_head))
    }
    check_sections(indexer.reader, blooms, 8, (new_head + 1) // 8)
    store.close()
    await check_against_fresh_sync(anvil, tmp_path, tmp_path / "dd")


async def test_anvil_reorg_across_a_section_boundary(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 28, seed=8)  # head 30
    head = anvil.block_number()
    depth = 12  # replaces 19..30: section 2 (16..23) and 3 (24..31)
    old = node_records(anvil, head - depth + 1, head)
    rng = random.Random(9)
    accounts = anvil.accounts()
    replacement = [
        (
            emitters[i % 2].tx(random_calldata(rng, emitters[i % 2], accounts[3])),
            rng.randrange(depth),
        )
        for i in range(15)
    ]
    store = open_datadir(tmp_path / "dd")
    async with open_source(anvil.ws_url, FAST) as source:
        indexer = ChainIndexer(store, source, CONFIG)
        sub = indexer.events.subscribe()
        async with following(indexer):
            await indexer.wait_synced(head)
            assert indexer.status.sections == 3
            anvil.reorg(depth, replacement)
            assert anvil.block_number() == head
            events = await events_until(sub, anvil, head)
        sub.close()
    new = node_records(anvil, head - depth + 1, head)
    assert [r["block"]["hash"] for r in new] != [r["block"]["hash"] for r in old]
    removed, added = removed_and_added(events)
    assert removed == [dataclasses.replace(log, removed=True) for log in all_logs(old)]
    assert added == all_logs(new)
    assert len(all_logs(new)) > 0
    (reorg,) = [e for e in events if e.is_reorg]
    assert [b.header.number for b in reorg.added] == list(range(head - depth + 1, head + 1))
    blooms = {
        n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(node_records(anvil, 0, head))
    }
    check_sections(indexer.reader, blooms, 8, 3)
    store.close()
    await check_against_fresh_sync(anvil, tmp_path, tmp_path / "dd")


async def test_a_chain_shortened_by_revert_is_rolled_back(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 14, seed=10)  # head 16
    snapshot = anvil.snapshot()
    build_chain(anvil, 5, seed=11, emitters=emitters)  # 17..21
    store = open_datadir(tmp_path / "dd")
    old = node_records(anvil, 17, 21)
    async with open_source(anvil.url, FAST) as source:
        indexer = ChainIndexer(store, source, CONFIG)
        sub = indexer.events.subscribe()
        async with following(indexer):
            await indexer.wait_synced(21)
            assert indexer.status.sections == 2
            anvil.revert(snapshot)  # back to 16, nothing new mined
            events = await events_until(sub, anvil, 16)
        sub.close()
    (event,) = [e for e in events if e.is_reorg]
    assert event is events[-1]
    assert event.head.number == 16
    assert [b.header.number for b in event.removed] == [17, 18, 19, 20, 21]
    assert event.added == ()
    assert list(event.removed_logs()) == [
        dataclasses.replace(g, removed=True) for g in all_logs(old)
    ]
    assert indexer.status.sections == 2  # 0..15 stay: the ancestor is 16
    store.close()
    await check_against_fresh_sync(anvil, tmp_path, tmp_path / "dd")


async def test_a_reorg_deeper_than_the_bound_stops_sync(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 20, seed=12)
    head = anvil.block_number()
    store = open_datadir(tmp_path / "dd")
    await sync_once(store, anvil.url, section_size=8, confirmations=0)
    store.close()
    before = dump(tmp_path / "dd")
    rng = random.Random(13)
    tx = emitters[0].tx(random_calldata(rng, emitters[0], anvil.accounts()[3]))
    anvil.reorg(9, [(tx, 0)])
    store = open_datadir(tmp_path / "dd")
    with pytest.raises(ReorgTooDeepError, match=r"more than 5 blocks below the synced head 22"):
        await sync_once(store, anvil.url, section_size=8, confirmations=0, max_reorg_depth=5)
    store.close()
    assert dump(tmp_path / "dd") == before
    # With a sufficient bound the same directory follows the reorg.
    store = open_datadir(tmp_path / "dd")
    await sync_once(store, anvil.url, section_size=8, confirmations=0, max_reorg_depth=9)
    store.close()
    assert anvil.block_number() == head
    await check_against_fresh_sync(anvil, tmp_path, tmp_path / "dd")
