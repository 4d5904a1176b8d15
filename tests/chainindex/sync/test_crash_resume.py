"""kill -9 of `logfilter sync` at random moments, then resume: the result equals a clean sync.

After every kill the data directory is opened and checked: everything in it is exactly what
a clean sync stores (nothing stale, nothing half written), and the blocks it claims, tail to
head, are all there with their sections.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chainindex.source import open_source
from chainindex.store import SectionStore, open_datadir, schema
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import ChainReader
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain
from tests.chainindex.reference import dump
from tests.fixtures import REPO

KILLS = 22
PROGRESS_KEYS = {schema.meta_key(schema.META_HEAD), schema.meta_key(schema.META_SECTION_COUNT)}
BLOOM_PREFIXES = {schema.BLOOM_BITS_PREFIX, schema.BLOOM_ROWS_PREFIX}


def sync_command(url: str, datadir: Path) -> list[str]:
    return [
        sys.executable, "-m", "rpc.cli", "sync", "--upstream", url, "--datadir", str(datadir),
        "--section-size", "8", "--confirmations", "0", "--no-follow", "--batch-blocks", "1",
        "--log-interval", "0.05",
    ]  # fmt: skip


def check_partial(datadir: Path, clean: dict[bytes, bytes], clean_vectors: np.ndarray) -> int:
    """Check a killed run's directory against the clean one; returns its synced head.

    Bloom records are compared by what they hold: a group of sections the clean sync moved
    into rows is still per-section in a directory killed before the group was complete."""
    store = open_datadir(datadir)
    try:
        reader = ChainReader(store)
        state = reader.view_sync(lambda view: view.state())
        head = -1 if state.head is None else state.head.number
        headers = reader.view_sync(lambda view: view.headers(0, head))
        assert [h.number for h in headers] == list(range(head + 1))
        assert state.sections <= (head + 1) // 8
        check_bloom_records(store, state.sections, clean_vectors)
    finally:
        store.close()
    partial = dump(datadir)
    stale = {
        k for k in partial
        if k not in PROGRESS_KEYS and k[:1] not in BLOOM_PREFIXES and partial[k] != clean.get(k)
    }  # fmt: skip
    assert not stale, f"{len(stale)} records differ from a clean sync, e.g. {sorted(stale)[0]!r}"
    return head


def check_bloom_records(store: KeyValueStore, count: int, clean_vectors: np.ndarray) -> None:
    """The stored sections' vectors equal the clean sync's, each section in exactly one form
    (per-section records, or inside its complete group's rows), nothing else."""
    sections = SectionStore(store, 8)
    group = sections.group_size
    heads = sections.heads(0, count - 1) if count else []
    rows = count // group
    expected = {
        schema.bloom_row_key(bit, g, heads[g * group + group - 1])  # type: ignore[arg-type]
        for g in range(rows) for bit in range(2048)
    } | {
        schema.bloom_bits_key(bit, s, heads[s])  # type: ignore[arg-type]
        for s in range(rows * group, count) for bit in range(2048)
    }  # fmt: skip
    stored = {k for k, _ in store.iterate(b"B", b"C")} | {k for k, _ in store.iterate(b"R", b"S")}
    assert stored == expected
    for bit in range(2048):
        vectors, found = sections.read_vectors(bit, 0, count - 1)
        assert found.all()
        assert (vectors == clean_vectors[bit, :count]).all(), bit


def all_vectors(datadir: Path) -> np.ndarray:
    """Every stored vector of a closed data directory, as a ``(2048, sections, width)`` array."""
    store = open_datadir(datadir)
    try:
        sections = SectionStore(store, 8)
        count = sections.count()
        return np.stack([sections.read_vectors(bit, 0, count - 1)[0] for bit in range(2048)])
    finally:
        store.close()


def test_kill_9_at_random_moments_then_resume(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 800, seed=21)
    head = anvil.block_number()

    async def clean_sync() -> None:
        store = open_datadir(tmp_path / "clean")
        async with open_source(anvil.url) as source:
            config = SyncConfig(section_size=8, confirmations=0, follow=False)
            await ChainIndexer(store, source, config).run()
        store.close()

    asyncio.run(clean_sync())
    clean = dump(tmp_path / "clean")
    clean_vectors = all_vectors(tmp_path / "clean")

    rng = random.Random(os.environ.get("KILL_SEED", "22"))
    datadir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    heads = []
    for _ in range(KILLS):
        process = subprocess.Popen(
            sync_command(anvil.url, datadir),
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.6))  # somewhere in start-up (or the first commits)
        else:
            # Once progress lines flow (every 0.05 s), sync is committing: kill within 0.12 s.
            while (line := process.stderr.readline()) and not line.startswith(b"sync:"):
                pass
            time.sleep(rng.uniform(0.0, 0.12))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
        heads.append(check_partial(datadir, clean, clean_vectors))
    # The kills landed while sync was under way, not only before it started or after it ended.
    assert len({h for h in heads if 0 <= h < head}) >= KILLS // 2, heads
    finished = subprocess.run(
        sync_command(anvil.url, datadir), cwd=REPO, env=env, capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr
    assert f"synced blocks 0..{head}" in finished.stdout
    assert dump(datadir) == clean
