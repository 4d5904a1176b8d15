"""Shared fixtures: real LevelDB data directories in temporary folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainindex.store import LevelDBStore, open_datadir


@pytest.fixture
def datadir(tmp_path: Path) -> Path:
    """An empty data directory path (not yet created)."""
    return tmp_path / "datadir"


@pytest.fixture
def leveldb(datadir: Path) -> Iterator[LevelDBStore]:
    """A real LevelDB data directory, schema-checked, closed after the test."""
    store = open_datadir(datadir)
    yield store
    if not store.closed:
        store.close()
