"""The head store's oldest final blocks sealed into segments by ``sync``: answers equal a plain
sync's, the head store keeps only the blocks above the sealed ones, and a seal stopped after
any of its steps (what ``kill -9`` leaves) opens and answers the same, and is finished by the
next sync."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chainindex.filters.criteria import LogCriteria, LogQuery
from chainindex.segments.manifest import read_manifest
from chainindex.segments.sealing import HeadSealer
from chainindex.store import open_datadir, schema
from chainindex.store.writer import ChainWriter
from rpc.cli import main
from tests.chainindex.segments.chain import SECTION, SEGMENT, answer, backfill, engine, sync

LONG = 2000
"""Blocks of the longer chain: 4 backfilled segments, then 976 in the head store."""
LONG_SPEC = f"synthetic:sparse?blocks={LONG}&seed=11"
"""The same generator and seed as the backfill's chain (its first 1200 blocks are those)."""
SEALED_BY_SYNC = [(1024, 1279), (1280, 1535), (1536, 1791)]
"""Segments whole, final (confirmations 0) and sectioned below the head 1999."""


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "dd"
    sync(path, until=LONG - 1, spec=LONG_SPEC)
    return path


def _sync_command(datadir: Path) -> int:
    return main([
        "sync", "--upstream", LONG_SPEC, "--datadir", str(datadir), "--section-size",
        str(SECTION), "--confirmations", "0", "--no-follow",
    ])  # fmt: skip


def _answers_equal(plain: Path, datadir: Path, last: int) -> None:
    queries = [LogQuery(LogCriteria(), 0, last)]
    queries += [LogQuery(LogCriteria(), b - 6, min(b + 6, last)) for b in range(256, last, 256)]
    queries += [LogQuery(LogCriteria(), 900, last)]

    async def both() -> None:
        with engine(plain) as expected, engine(datadir) as got:
            for query in queries:
                for limit in (0, 5):
                    assert await answer(got, query, limit) == await answer(expected, query, limit)

    asyncio.run(both())


def _head_store_holds_only_its_blocks(datadir: Path, tail: int) -> None:
    store = open_datadir(datadir)
    try:
        state = ChainWriter(store, SECTION).state()
        assert state.tail == tail
        assert state.first_section == tail // SECTION
        below = [
            *store.iterate(*schema.header_range(0, tail - 1)),
            *store.iterate(*schema.logs_range(0, tail - 1)),
            *store.iterate(schema.section_head_key(0), schema.section_head_key(tail // SECTION)),
        ]
        assert below == []
        numbers = [schema.parse_header_key(k)[0] for k, _ in store.iterate(b"h", b"i")]
        assert numbers == list(range(tail, LONG))
    finally:
        store.close()


def test_sync_seals_final_head_blocks(plain: Path, tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    backfill(datadir)
    assert _sync_command(datadir) == 0
    manifest = read_manifest(datadir)
    assert manifest is not None
    spans = [(s.first, s.last) for s in manifest.segments]
    assert spans[4:] == SEALED_BY_SYNC
    _head_store_holds_only_its_blocks(datadir, SEALED_BY_SYNC[-1][1] + 1)
    _answers_equal(plain, datadir, LONG - 1)


@pytest.mark.parametrize("steps", [1, 2])
def test_a_seal_cut_short_answers_the_same_and_is_finished(
    plain: Path, tmp_path: Path, steps: int
) -> None:
    datadir = tmp_path / "dd"
    backfill(datadir)
    sync(datadir, until=1500, spec=LONG_SPEC)
    sealer = HeadSealer(str(datadir), LONG_SPEC, SECTION, SEGMENT, stop_after=steps)
    store = open_datadir(datadir)
    try:
        [seal] = sealer.seal_due(store, ChainWriter(store, SECTION).lock)
    finally:
        store.close()
    assert (seal.first, seal.last) == SEALED_BY_SYNC[0]
    manifest = read_manifest(datadir)
    assert manifest is not None
    assert manifest.last == (1023 if steps == 1 else 1279)
    _answers_equal(plain, datadir, 1500)  # as a kill after that step leaves it
    assert _sync_command(datadir) == 0
    _head_store_holds_only_its_blocks(datadir, SEALED_BY_SYNC[-1][1] + 1)
    _answers_equal(plain, datadir, LONG - 1)
