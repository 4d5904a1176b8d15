"""``logfilter sync`` over a schema-2 directory: migrated on open, the exact index of the
sections it had built beside sync (which waits for it before exiting), the records equal to a
directory synced with the index from the start."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from chainindex.store import LevelDBStore, schema
from tests.fixtures import REPO, execution_apis_archive


def sync(datadir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "rpc.cli", "sync", "--upstream", str(execution_apis_archive()),
         "--datadir", str(datadir), "--section-size", "8", "--confirmations", "0",
         "--no-follow"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip


def index_records(store: LevelDBStore) -> dict[bytes, bytes]:
    """The exact index's ``x`` and ``X`` records."""
    return {
        **dict(store.iterate(schema.EXACT_PREFIX, b"y")),
        **dict(store.iterate(schema.EXACT_COUNTS_PREFIX, b"Y")),
    }


def test_sync_migrates_and_builds_the_index(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    assert sync(datadir).returncode == 0
    store = LevelDBStore(datadir)
    records = index_records(store)
    assert len({key[-4:] for key in records if key[:1] == b"x"}) == 6  # sections 0..5
    with store.batch() as batch:  # what a schema-2 directory holds
        for key in records:
            batch.delete(key)
        batch.delete(schema.meta_key(schema.META_EXACT_FIRST))
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", 2))
    store.close()
    done = sync(datadir)
    assert done.returncode == 0, done.stderr
    assert f"migrated from schema version 2 to {schema.SCHEMA_VERSION}" in done.stderr
    assert "exact index: building 6 sections" in done.stderr
    assert "exact index: complete" in done.stderr
    store = LevelDBStore(datadir)
    try:
        assert index_records(store) == records
        assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) == schema.encode_u64(0)
        assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
    finally:
        store.close()
