"""``--checkpoint NUMBER:HASH``: a chain without that block is refused, at start (the data
directory's block) and when the block is fetched; nothing of the other chain's block is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainindex.errors import CheckpointMismatchError, ConfigError
from chainindex.source import ArchiveSource
from chainindex.store import open_datadir
from chainindex.sync.checkpoint import Checkpoint
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.chainindex.sync.test_sync_archive import records
from tests.fixtures import execution_apis_archive, hexbytes

CONFIG = SyncConfig(section_size=8, confirmations=0, follow=False, blocks_per_fetch=8)


def checkpoint(number: int, block_hash: str | None = None) -> SyncConfig:
    given = block_hash or records()[number]["block"]["hash"]
    return SyncConfig(
        section_size=8,
        confirmations=0,
        follow=False,
        blocks_per_fetch=8,
        checkpoint=Checkpoint.parse(f"{number}:{given}"),
    )


async def sync(path: Path, config: SyncConfig) -> int | None:
    """Sync the execution-apis archive; the stored head."""
    store = open_datadir(path)
    try:
        source = ArchiveSource(execution_apis_archive())
        try:
            indexer = ChainIndexer(store, source, config)
            try:
                await indexer.run()
            finally:
                head = indexer.writer.state().head
        finally:
            await source.aclose()
        return None if head is None else head.number
    finally:
        store.close()


@pytest.mark.parametrize("text", ["12", "x:0x" + "00" * 32, "-1:0x" + "00" * 32, "5:0x00", ""])
def test_a_malformed_checkpoint_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="is not NUMBER:HASH"):
        Checkpoint.parse(text)


async def test_the_chain_with_the_checkpoint_syncs(tmp_path: Path) -> None:
    assert await sync(tmp_path / "dd", checkpoint(10)) == len(records()) - 1


async def test_another_chain_is_refused_when_the_block_is_fetched(tmp_path: Path) -> None:
    wrong = "0x" + "ab" * 32
    with pytest.raises(CheckpointMismatchError, match=f"block 10 with hash 0x.*{wrong[2:]}"):
        await sync(tmp_path / "dd", checkpoint(10, wrong))
    store = open_datadir(tmp_path / "dd")
    try:
        indexer = ChainIndexer(store, ArchiveSource(execution_apis_archive()), CONFIG)
        assert indexer.writer.header(10) is None
        head = indexer.writer.state().head
        assert head is None or head.number < 10
    finally:
        store.close()


async def test_a_data_directory_on_another_chain_is_refused_at_start(tmp_path: Path) -> None:
    await sync(tmp_path / "dd", CONFIG)
    store = open_datadir(tmp_path / "dd")
    try:
        good = ChainIndexer(store, ArchiveSource(execution_apis_archive()), checkpoint(30))
        stored = good.writer.header(30)
        assert stored is not None
        assert stored.hash == hexbytes(records()[30]["block"]["hash"])
        with pytest.raises(CheckpointMismatchError, match="the data directory has block 30"):
            ChainIndexer(
                store, ArchiveSource(execution_apis_archive()), checkpoint(30, "0x" + "cd" * 32)
            )
    finally:
        store.close()
