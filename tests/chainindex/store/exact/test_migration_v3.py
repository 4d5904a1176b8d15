"""Schema 3 → 4: a directory written by the schema-3 logfilter (``tests/data/exact-v3.tar.xz``,
see ``tests/data/CHAINS.md``) is migrated when opened: its format-3 records deleted in
batches, then its index rebuilt downward in format 4, equal to a directory written in format
4 from the start, answering the same as brute force all along; also after ``kill -9`` at
random moments of it."""

from __future__ import annotations

import os
import random
import signal
import struct
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from chainindex.store import LevelDBStore, open_datadir, schema
from chainindex.store.exact import build
from chainindex.store.exact.build import build_next, pending_sections, purge_pending
from chainindex.store.exact.index import ExactIndexStore
from chainindex.store.reader import ChainReader
from tests.chainindex.filters.chain import random_chain, write_chain
from tests.chainindex.store.exact.test_migration import check_answers, cli, records_of
from tests.fixtures import REPO

SECTION = 8
BLOCKS = random_chain(21, 200)  # what the fixture holds (tests/data/CHAINS.md)
SECTIONS = 23


def unpack_v3(tmp_path: Path) -> Path:
    with tarfile.open(REPO / "tests" / "data" / "exact-v3.tar.xz", "r:xz") as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "exact-v3"


def old_keys(store: LevelDBStore) -> list[bytes]:
    return [k for k, _ in store.iterate(schema.EXACT_PREFIX, b"y") if len(k) != 13]


def format_4_records(tmp_path: Path) -> dict[bytes, bytes]:
    store = write_chain(tmp_path / "fresh", BLOCKS, section_size=SECTION, confirmed=190)
    try:
        return records_of(store)
    finally:
        store.close()


def test_the_fixture_is_a_schema_3_directory(tmp_path: Path) -> None:
    store = LevelDBStore(unpack_v3(tmp_path))
    try:
        assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", 3)
        assert len(old_keys(store)) == 704
        assert not records_of(store).keys() - set(old_keys(store))  # no format-4 record
    finally:
        store.close()


def test_a_version_3_directory_is_purged_then_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = format_4_records(tmp_path)
    monkeypatch.setattr(build, "PURGE_KEYS", 100)
    store = open_datadir(unpack_v3(tmp_path))
    try:
        assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
        assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) == schema.encode_u64(SECTIONS)
        assert purge_pending(store)
        assert pending_sections(store) == SECTIONS
        check_answers(store, BLOCKS, 1)  # the bloom sections answer meanwhile
        index = ExactIndexStore(SECTION)
        purges = []
        while purge_pending(store):
            progress = build_next(store, index)
            assert progress is not None
            assert (progress.section, progress.left) == (-1, SECTIONS)
            purges.append(progress.purged)
            assert len(old_keys(store)) == 704 - sum(purges)
        assert purges == [100] * 7 + [4]
        assert not old_keys(store)
        built = 0
        while (progress := build_next(store, index)) is not None:
            built += 1
            assert progress.section == SECTIONS - built
            if built % 8 == 0:
                check_answers(store, BLOCKS, built)
        assert built == SECTIONS
        assert records_of(store) == expected
        check_answers(store, BLOCKS, 99)
        coverage = ChainReader(store).view_sync(lambda v: v.state().sections)
        assert coverage == SECTIONS
    finally:
        store.close()


_KILLABLE = """
import sys
from chainindex.store.exact import build
build.PURGE_KEYS = 3
from rpc.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_9_during_the_migration_then_resume(tmp_path: Path) -> None:
    expected = format_4_records(tmp_path)
    path = unpack_v3(tmp_path)
    first = LevelDBStore(path)
    old = sorted(old_keys(first))
    first.close()
    rng = random.Random(os.environ.get("KILL_SEED", "4"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", _KILLABLE, "build-index", "--datadir", str(path),
               "--log-interval", "0.001"]  # fmt: skip
    seen: set[tuple[int, int]] = set()
    for _ in range(10):
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        while (line := process.stderr.readline()) and not line.startswith(b"build-index:"):
            pass
        time.sleep(rng.uniform(0.0, 0.04))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
        store = open_datadir(path)
        try:
            left = sorted(old_keys(store))
            marker = store.get(schema.meta_key(schema.META_EXACT_PURGE))
            exact_first = schema.decode_u64(
                store.get(schema.meta_key(schema.META_EXACT_FIRST)) or b""
            )
            seen.add((len(left), exact_first))
            # The purge deletes in key order: what is left is a suffix of the old keys, and
            # the marker is the last key deleted; no section is built before it ends.
            assert left == old[len(old) - len(left) :]
            if marker is not None:
                assert exact_first == SECTIONS
                assert marker in ({b""} if len(left) == len(old) else {old[-len(left) - 1]})
            else:
                assert not left
            built = {
                k: v for k, v in expected.items() if int.from_bytes(k[-4:], "big") >= exact_first
            }
            new = {k: v for k, v in records_of(store).items() if k not in set(left)}
            assert new == built
        finally:
            store.close()
    assert len(seen) >= 3, seen  # the kills landed at different points
    done = cli("build-index", "--datadir", str(path))
    assert done.returncode == 0, done.stderr
    store = open_datadir(path)
    try:
        assert records_of(store) == expected
        check_answers(store, BLOCKS, 5)
    finally:
        store.close()
