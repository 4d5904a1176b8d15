"""Shared fixtures: real LevelDB data directories in temporary folders, a real anvil node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainindex.store import LevelDBStore, open_datadir
from tests.anvil import Anvil


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


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    """A fresh anvil node on 127.0.0.1 (free port, chain id 31337), stopped after the test.

    The chain is the test's own: mine, snapshot, revert and reorganise freely.
    """
    with Anvil() as node:
        yield node
