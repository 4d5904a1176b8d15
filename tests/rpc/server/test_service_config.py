"""``open_service`` refuses a configuration that cannot work with a
:class:`~chainindex.errors.ConfigError`, before it syncs or serves anything."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chainindex.errors import ConfigError
from chainindex.store import open_datadir
from chainindex.store.writer import ChainWriter
from rpc.server.service import ServiceConfig, open_service
from tests.fixtures import execution_apis_archive


def _open(config: ServiceConfig) -> None:
    async def main() -> None:
        async with open_service(config):
            pass

    asyncio.run(main())


def test_read_only_without_a_data_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no data directory at"):
        _open(ServiceConfig(str(tmp_path / "none"), None, read_only=True))
    assert not (tmp_path / "none").exists()


def test_read_only_over_an_empty_data_directory(tmp_path: Path) -> None:
    store = open_datadir(tmp_path / "empty")
    ChainWriter(store, 8)  # a sync that stopped before its first commit
    store.close()
    with pytest.raises(ConfigError, match="holds no synced blocks"):
        _open(ServiceConfig(str(tmp_path / "empty"), None, read_only=True))


def test_sync_without_an_upstream(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an upstream"):
        _open(ServiceConfig(str(tmp_path / "d"), None))


def test_proxy_to_an_archive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--proxy needs an upstream node URL"):
        _open(ServiceConfig(str(tmp_path / "p"), str(execution_apis_archive()), proxy=True))
