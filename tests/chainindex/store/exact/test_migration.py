"""Schema 2 → 3: a directory written before the exact index is migrated when opened, its
sections indexed from their logs (step by step, by ``logfilter build-index``, and after
``kill -9`` at random moments of it), answering the same all along.

A version-2 directory is made the way one looked: a directory written by the current writer,
with the exact index's records and marker deleted and the version stamped back to 2.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainindex.filters import LogCriteria, LogQuery, LogQueryEngine
from chainindex.filters.exact import exact_coverage
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import LevelDBStore, open_datadir, schema
from chainindex.store.exact.build import build_next, pending_sections
from chainindex.store.exact.index import ExactIndexStore
from chainindex.store.reader import ChainReader
from chainindex.types import Block
from tests.chainindex.filters.chain import (
    ADDRESS_POOL,
    TOPIC_POOL,
    random_chain,
    reference_logs,
    write_chain,
)
from tests.fixtures import REPO

SECTION = 8


def records_of(store: LevelDBStore) -> dict[bytes, bytes]:
    """The exact index's ``x`` and ``X`` records."""
    return {
        **dict(store.iterate(schema.EXACT_PREFIX, b"y")),
        **dict(store.iterate(schema.EXACT_COUNTS_PREFIX, b"Y")),
    }


def make_version_2(path: Path, blocks: list[Block], confirmed: int) -> dict[bytes, bytes]:
    """A version-2 directory at ``path`` holding ``blocks``; returns the exact-index records
    a version-3 directory holds for them."""
    store = write_chain(path, blocks, section_size=SECTION, confirmed=confirmed)
    records = records_of(store)
    assert records
    with store.batch() as batch:
        for key in records:
            batch.delete(key)
        batch.delete(schema.meta_key(schema.META_EXACT_FIRST))
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", 2))
    store.close()
    return records


def check_answers(store: LevelDBStore, blocks: list[Block], seed: int) -> None:
    rng = random.Random(seed)
    reader = ChainReader(store)
    logs = [log for b in blocks for log in b.logs or ()]
    head = blocks[-1].header.number
    with SectionRetriever(reader.sections) as retriever:
        engine = LogQueryEngine(reader, retriever)
        for _ in range(15):
            criteria = LogCriteria(
                tuple(rng.sample(ADDRESS_POOL, rng.choice([0, 1, 2]))),
                tuple(tuple(rng.sample(TOPIC_POOL, rng.choice([0, 1, 2]))) for _ in range(2)),
            )
            first = rng.randint(0, head)
            last = rng.randint(first, head)
            got = asyncio.run(engine.collect(LogQuery(criteria, first, last)))
            expected = reference_logs(logs, criteria.addresses, criteria.topics, first, last)
            assert [log for b in got for log in b.logs()] == expected


def test_a_version_2_directory_is_migrated_then_built_section_by_section(tmp_path: Path) -> None:
    blocks = random_chain(3, 300)
    path = tmp_path / "dd"
    records = make_version_2(path, blocks, confirmed=280)
    store = open_datadir(path)
    try:
        assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
        count = ChainReader(store).view_sync(lambda v: v.state().sections)
        assert count == 35
        assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) == schema.encode_u64(count)
        assert pending_sections(store) == count
        index = ExactIndexStore(SECTION)
        step = 0
        while True:
            if step % 9 == 0:  # the bloom sections below, the exact index above: same answers
                check_answers(store, blocks, step)
            progress = build_next(store, index)
            if progress is None:
                break
            step += 1
            assert (progress.section, progress.left) == (count - step, count - step)
            coverage = ChainReader(store).view_sync(exact_coverage)
            assert coverage is not None
            assert (coverage.first_block, coverage.sections_to_build) == (
                (count - step) * SECTION,
                count - step,
            )
        assert step == count
        assert records_of(store) == records
        check_answers(store, blocks, 99)
    finally:
        store.close()


def test_a_version_2_headers_only_directory_gets_no_index(tmp_path: Path) -> None:
    path = tmp_path / "dd"
    store = write_chain(path, random_chain(4, 50), section_size=SECTION, confirmed=40,
                        headers_only=True)  # fmt: skip
    assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) is None
    assert not records_of(store)
    with store.batch() as batch:
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", 2))
    store.close()
    store = open_datadir(path)
    assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) is None
    assert pending_sections(store) == 0
    store.close()
    done = cli("build-index", "--datadir", str(path))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "stores headers only" in done.stderr


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "rpc.cli", *args], cwd=REPO, env=env, capture_output=True,
        text=True,
    )  # fmt: skip


def test_build_index_refuses_a_missing_directory(tmp_path: Path) -> None:
    done = cli("build-index", "--datadir", str(tmp_path / "nothing"))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"logfilter: no data directory at {tmp_path / 'nothing'}\n"
    assert not (tmp_path / "nothing").exists()


@pytest.mark.slow
def test_kill_9_during_build_index_then_resume(tmp_path: Path) -> None:
    blocks = random_chain(5, 3000)
    path = tmp_path / "dd"
    records = make_version_2(path, blocks, confirmed=2990)
    rng = random.Random(os.environ.get("KILL_SEED", "12"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "rpc.cli", "build-index", "--datadir", str(path),
               "--log-interval", "0.01"]  # fmt: skip
    seen: list[int] = []
    for _ in range(8):
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        while (line := process.stderr.readline()) and not line.startswith(b"build-index:"):
            pass
        time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
        store = open_datadir(path)
        try:
            exact_first = schema.decode_u64(
                store.get(schema.meta_key(schema.META_EXACT_FIRST)) or b""
            )
            seen.append(exact_first)
            # Exactly the records of the sections built so far, as a clean build writes them.
            expected = {
                k: v for k, v in records.items() if int.from_bytes(k[-4:], "big") >= exact_first
            }
            assert records_of(store) == expected
        finally:
            store.close()
    assert len(set(seen)) >= 3, seen  # the kills landed at different points of the build
    done = cli("build-index", "--datadir", str(path))
    assert done.returncode == 0, done.stderr
    assert "exact index covers blocks 0..2983" in done.stdout
    store = open_datadir(path)
    try:
        assert records_of(store) == records
        check_answers(store, blocks, 7)
    finally:
        store.close()
