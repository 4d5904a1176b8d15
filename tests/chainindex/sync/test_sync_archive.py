"""Sync from the real fixture archives into a real LevelDB: everything stored is checked."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from chainindex.errors import ArchiveError, ChainMismatchError, ConfigMismatchError
from chainindex.source import ArchiveSource, write_archive
from chainindex.store import LevelDBStore, open_datadir, schema
from chainindex.store.reader import ChainReader, ChainView
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape
from chainindex.synthetic import write_archive as synthetic_write_archive
from tests.chainindex.reference import assert_stored_chain, dump, reference_header, reference_logs
from tests.fixtures import execution_apis_archive, hexbytes, mainnet_block_files


def records() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in execution_apis_archive().read_bytes().splitlines()]


async def sync(
    store: LevelDBStore, archive: Path, *, verify: bool = True, **config: Any
) -> ChainIndexer:
    source = ArchiveSource(archive, verify=verify)
    try:
        indexer = ChainIndexer(store, source, SyncConfig(**config))
        await indexer.run()
        return indexer
    finally:
        await source.aclose()


def reference_vectors(blooms: list[bytes], size: int) -> np.ndarray:
    """Section vectors by definition: vector b, block k -> bit 7 - k % 8 of byte k // 8 is
    bloom bit b of block k, which is byte 255 - b // 8, mask 1 << (b % 8)."""
    bits = np.zeros((size, 2048), dtype=np.uint8)
    for k, bloom in enumerate(blooms):
        for b in range(2048):
            bits[k, b] = (bloom[255 - b // 8] >> (b % 8)) & 1
    return np.packbits(bits.T, axis=1)  # row b: blocks 0.. as bits, most significant first


def check_sections(reader: ChainReader, blooms: dict[int, bytes], size: int, count: int) -> None:
    state = reader.view_sync(lambda view: view.state())
    assert state.sections == count
    for section in range(state.first_section, count):
        section_blooms = [blooms.get(section * size + k, bytes(256)) for k in range(size)]
        expected = reference_vectors(section_blooms, size)
        for bit in range(2048):
            vectors, found = reader.view_sync(
                partial(ChainView.bit_vectors, bit=bit, first=section, last=section)
            )
            assert found.tolist() == [True]
            assert vectors[0].tobytes() == expected[bit].tobytes(), (section, bit)


async def test_execution_apis_chain_syncs_completely(leveldb: LevelDBStore) -> None:
    indexer = await sync(leveldb, execution_apis_archive(), section_size=8, confirmations=0)
    all_records = records()
    assert assert_stored_chain(indexer.reader, all_records) == 55
    state = await indexer.reader.state()
    assert state.tail == 0
    assert state.head == reference_header(all_records[54]["block"])
    assert state.chain_id is None
    assert not state.headers_only
    blooms = {n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(all_records)}
    check_sections(indexer.reader, blooms, 8, 6)  # 55 blocks: six full sections of 8
    run = await indexer.reader.blooms(50, 60)
    assert run.first == 50
    assert run.blooms.shape == (5, 256)
    assert [bytes(row) for row in run.blooms] == [blooms[n] for n in range(50, 55)]
    assert (await indexer.reader.blooms(70, 80)).blooms.shape == (0, 256)


async def test_sections_wait_for_confirmations(leveldb: LevelDBStore) -> None:
    indexer = await sync(leveldb, execution_apis_archive(), section_size=8, confirmations=10)
    # Head 54: a section is built when its last block is <= 44, so sections 0..4.
    assert indexer.status.sections == 5
    assert indexer.status.synced_head == 54


async def test_resume_gives_the_same_store_as_one_sync(tmp_path: Path) -> None:
    clean, resumed = tmp_path / "clean", tmp_path / "resumed"
    store = open_datadir(clean)
    await sync(store, execution_apis_archive(), section_size=16, confirmations=0)
    store.close()
    for until in (0, 3, 17, 31, 32, 54):
        store = open_datadir(resumed)
        indexer = await sync(
            store, execution_apis_archive(), section_size=16, confirmations=0, until=until
        )
        assert indexer.status.synced_head == until
        store.close()
    assert dump(resumed) == dump(clean)


async def test_headers_only_fetches_logs_on_demand(leveldb: LevelDBStore) -> None:
    source = ArchiveSource(execution_apis_archive())
    try:
        indexer = ChainIndexer(
            leveldb, source, SyncConfig(section_size=8, confirmations=0, headers_only=True)
        )
        await indexer.run()
        all_records = records()
        assert assert_stored_chain(indexer.reader, all_records, with_logs=False) == 55
        assert not any(key.startswith(schema.LOGS_PREFIX) for key, _ in leveldb.iterate(b"l", b"m"))
        assert (await indexer.reader.state()).headers_only
        assert indexer.logs_cache is not None
        for n in (2, 3, 3, 54):
            header = await indexer.reader.header(n)
            assert header is not None
            logs = await indexer.reader.logs(header)
            assert list(logs) == reference_logs(all_records[n]["block"], all_records[n]["receipts"])
        assert (indexer.logs_cache.hits, indexer.logs_cache.misses) == (1, 3)
        blooms = {n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(all_records)}
        check_sections(indexer.reader, blooms, 8, 6)
    finally:
        await source.aclose()


async def test_a_later_tail_counts_earlier_blocks_as_empty(leveldb: LevelDBStore) -> None:
    indexer = await sync(
        leveldb, execution_apis_archive(), section_size=8, confirmations=0, from_block=13
    )
    state = await indexer.reader.state()
    assert (state.tail, state.first_section, state.sections) == (13, 1, 6)
    assert await indexer.reader.header(12) is None
    all_records = records()
    assert assert_stored_chain(indexer.reader, all_records[13:]) == 42
    blooms = {n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(all_records) if n >= 13}
    check_sections(indexer.reader, blooms, 8, 6)
    vectors, found = await indexer.reader.bit_vectors(5, 0, 0)
    assert found.tolist() == [False]
    assert not vectors.any()


async def test_mainnet_blocks(tmp_path: Path) -> None:
    """Each hash-linked pair of recorded mainnet blocks syncs from its first block."""
    by_number = {int(p.stem): orjson.loads(p.read_bytes()) for p in mainnet_block_files()}
    pairs = [(n, n + 1) for n in sorted(by_number) if n + 1 in by_number]
    assert len(pairs) == 6
    for first, second in pairs:
        archive = tmp_path / f"{first}.jsonl"
        archive.write_bytes(b"".join(orjson.dumps(by_number[n]) + b"\n" for n in (first, second)))
        store = open_datadir(tmp_path / f"dd{first}")
        # An ethereum-etl export without mixHash: its hash cannot be checked, so verification
        # refuses it, and it is synced with verification off (--no-verify).
        verify = "mixHash" in by_number[first]["block"]
        if not verify:
            with pytest.raises(ArchiveError, match=f"block {first}: the header has no mixHash"):
                await sync(store, archive, section_size=8, confirmations=0, from_block=first)
        indexer = await sync(
            store, archive, verify=verify, section_size=8, confirmations=0, from_block=first
        )
        assert assert_stored_chain(indexer.reader, [by_number[first], by_number[second]]) == 2
        store.close()


async def test_mismatched_settings_are_refused(tmp_path: Path) -> None:
    store = open_datadir(tmp_path / "dd")
    await sync(store, execution_apis_archive(), section_size=8, confirmations=0, until=20)
    with pytest.raises(ConfigMismatchError, match="section size 8, not 16"):
        await sync(store, execution_apis_archive(), section_size=16)
    with pytest.raises(ConfigMismatchError, match="synced with logs"):
        await sync(store, execution_apis_archive(), section_size=8, headers_only=True)
    with pytest.raises(ConfigMismatchError, match="starts at block 0, not 4"):
        await sync(store, execution_apis_archive(), section_size=8, from_block=4)
    mainnet = tmp_path / "mainnet.jsonl"
    mainnet.write_bytes(mainnet_block_files()[0].read_bytes())
    with pytest.raises((ChainMismatchError, ArchiveError)):
        await sync(store, mainnet, section_size=8)
    store.close()
    # Nothing of the refused runs was written.
    clean = open_datadir(tmp_path / "clean")
    await sync(clean, execution_apis_archive(), section_size=8, confirmations=0, until=20)
    clean.close()
    assert dump(tmp_path / "dd") == dump(tmp_path / "clean")


async def test_another_chain_with_the_same_numbers_is_refused(tmp_path: Path) -> None:
    """An archive whose block at the tail has another hash is another chain."""
    lines = execution_apis_archive().read_bytes().splitlines()
    other = tmp_path / "other.jsonl"
    record = orjson.loads(lines[0])
    record["block"]["hash"] = "0x" + "ab" * 32
    other.write_bytes(orjson.dumps(record) + b"\n")
    store = open_datadir(tmp_path / "dd")
    await sync(store, execution_apis_archive(), section_size=8, until=3)
    with pytest.raises(ArchiveError, match=r"block 0: hash 0xabab.* is not keccak256"):
        await sync(store, other, section_size=8)
    # Without verification, the made-up hash is still another chain.
    with pytest.raises(
        ChainMismatchError, match="does not have the data directory's first block 0"
    ):
        await sync(store, other, verify=False, section_size=8)
    store.close()


async def test_a_headers_only_archive_needs_no_logs_mode(tmp_path: Path) -> None:
    source = ArchiveSource(execution_apis_archive())
    headers_only = tmp_path / "headers.jsonl"
    try:
        await write_archive(source, 0, 54, headers_only, with_logs=False)
    finally:
        await source.aclose()
    assert all(
        set(orjson.loads(line)) == {"block"} for line in headers_only.read_bytes().splitlines()
    )
    store = open_datadir(tmp_path / "dd")
    with pytest.raises(
        ArchiveError, match=r"headers.jsonl:1: block 0 has no receipts .* --no-logs"
    ):
        await sync(store, headers_only, section_size=8, confirmations=0)
    indexer = await sync(store, headers_only, section_size=8, confirmations=0, headers_only=True)
    all_records = records()
    assert assert_stored_chain(indexer.reader, all_records, with_logs=False) == 55
    blooms = {n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(all_records)}
    check_sections(indexer.reader, blooms, 8, 6)
    store.close()


@pytest.mark.parametrize("fill", ["sparse", "saturated"])
async def test_synthetic_chains_sync_completely(tmp_path: Path, fill: str) -> None:
    """Archives of the project's synthetic generator, full and headers-only, from genesis and
    from a later block: every record is stored exactly, sections from their blooms."""
    shape = ChainShape(fill=FILL_PRESETS[fill], contracts=500, holders=5000)
    for first_block, headers_only in ((0, False), (1000, False), (0, True)):
        generator = ChainGenerator(
            shape, seed=3, first_block=first_block, headers_only=headers_only
        )
        archive = tmp_path / f"{first_block}-{headers_only}.jsonl"
        synthetic_write_archive(generator, archive, 40)
        expected = list(
            ChainGenerator(
                shape, seed=3, first_block=first_block, headers_only=headers_only
            ).records(40)
        )
        store = open_datadir(tmp_path / f"dd-{first_block}-{headers_only}")
        indexer = await sync(
            store, archive, section_size=16, confirmations=0, from_block=first_block,
            headers_only=headers_only,
        )  # fmt: skip
        checked = assert_stored_chain(indexer.reader, expected, with_logs=not headers_only)  # type: ignore[arg-type]
        assert checked == 40
        blooms = {
            int(r["block"]["number"], 16): hexbytes(r["block"]["logsBloom"]) for r in expected
        }
        check_sections(indexer.reader, blooms, 16, (first_block + 40) // 16)
        store.close()
