"""The head index against brute force: built from stored records in runs, merged, cut by
reorgs (snapshots of the chain before and after), pruned as sections are stored and read
again when sections are truncated, and asked by snapshots older than itself."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.store import open_datadir
from chainindex.store.exact import HeadIndex, head, value_key
from chainindex.store.kv import KeyValueReader
from chainindex.store.writer import ChainWriter
from chainindex.types import Block
from tests.chainindex.filters.chain import ADDRESS_POOL, TOPIC_POOL, random_chain

SECTION = 16


def brute(blocks: list[Block], groups: list[list[bytes]], first: int, last: int) -> list[int]:
    out = []
    for block in blocks:
        for log in block.logs or ():
            if not first <= log.block_number <= last:
                continue
            values = {b"\x00" + log.address} | {
                bytes([i + 1]) + t for i, t in enumerate(log.topics)
            }
            if all(values & set(group) for group in groups):
                out.append((log.block_number << 28) | log.log_index)
    return out


def random_groups(rng: random.Random) -> list[list[bytes]]:
    groups = []
    if rng.random() < 0.6:
        groups.append([value_key(0, a) for a in rng.sample(ADDRESS_POOL, rng.randint(1, 2))])
    for position in range(4):
        if rng.random() < 0.35 or not groups:
            topics = rng.sample(TOPIC_POOL, rng.randint(1, 3))
            groups.append([value_key(position + 1, t) for t in topics])
    return groups


def check(index: HeadIndex, reader: KeyValueReader, chain: list[Block], base: int,
          rng: random.Random) -> None:  # fmt: skip
    """Random lookups: the index holds every block from ``base`` for the snapshot."""
    top = chain[-1].header.number
    for _ in range(6):
        groups = random_groups(rng)
        first = rng.randint(base, top)
        last = rng.randint(first, top)
        coverage = index.positions(reader, groups, first, last, base)
        assert coverage.first == first
        assert coverage.positions.tolist() == brute(chain, groups, first, last)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9), run_blocks=st.sampled_from([1, 3, 256]))
def test_head_index_follows_snapshots(
    tmp_path_factory: pytest.TempPathFactory, seed: int, run_blocks: int
) -> None:
    rng = random.Random(seed)
    store = open_datadir(Path(tmp_path_factory.mktemp("head")) / "dd")
    writer = ChainWriter(store, SECTION)
    chain = random_chain(seed, rng.randint(10, 70))
    writer.append(chain, chain_id=1)
    index = HeadIndex(SECTION)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(head, "RUN_BLOCKS", run_blocks)
        base = rng.randint(0, chain[-1].header.number)
        with store.snapshot() as old:
            check(index, old, chain, base, rng)
            old_chain = list(chain)
            # A reorg (the index follows the new chain), then the old snapshot again.
            depth = rng.randint(1, min(40, len(chain) - 1))
            ancestor = chain[-depth - 1]
            branch = random_chain(rng.randrange(10**9), depth + rng.randint(-depth, 8),
                                  first=ancestor.header.number + 1)  # fmt: skip
            if branch:
                header = dataclasses.replace(branch[0].header, parent_hash=ancestor.header.hash)
                branch[0] = Block(header, branch[0].logs)
            writer.reorg(ancestor.header, branch)
            chain = chain[: len(chain) - depth] + branch
            new_base = min(rng.randint(base, base + 20), chain[-1].header.number)
            with store.snapshot() as new:
                check(index, new, chain, new_base, rng)
            # The older snapshot: its chain again (a query thread planning on it).
            check(index, old, old_chain, base, rng)
            # More sections stored: the blocks below them are dropped; fewer again (a reorg
            # truncated them): they are read again.
            higher = min(new_base + rng.randint(0, 30), chain[-1].header.number)
            with store.snapshot() as new:
                check(index, new, chain, higher, rng)
                check(index, new, chain, new_base, rng)
    store.close()
