"""Sections built by the indexer, read by the matcher through the SectionRetriever.

The candidates must be exactly the blocks whose stored header bloom holds the filter
(checked block by block with ``bloom_contains``), over a chain synced from genesis and one
synced from a later block (whose sections below the first are answered as empty).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bloombits.bloom import bloom_contains
from bloombits.matcher import Matcher
from chainindex.filters.retriever import SectionRetriever
from chainindex.source import ArchiveSource
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.chainindex.sync.test_sync_archive import records
from tests.fixtures import execution_apis_archive, hexbytes


async def matches(
    indexer: ChainIndexer, filters: list[list[bytes]], begin: int, end: int
) -> list[int]:
    state = await indexer.reader.state()
    matcher = Matcher(state.section_size, filters)
    with SectionRetriever(indexer.reader.sections) as retriever:
        async with matcher.start(begin, end, retriever) as session:
            return [number async for number in session]


@pytest.mark.parametrize("from_block", [0, 13])
async def test_matcher_over_indexed_sections(tmp_path: Path, from_block: int) -> None:
    store = open_datadir(tmp_path / "dd")
    source = ArchiveSource(execution_apis_archive())
    try:
        config = SyncConfig(section_size=8, confirmations=0, from_block=from_block)
        indexer = ChainIndexer(store, source, config)
        await indexer.run()
        state = await indexer.reader.state()
        indexed_until = state.indexed_until
        assert indexed_until == 47
        all_records = records()
        addresses = sorted(
            {log["address"] for r in all_records for rc in r["receipts"] for log in rc["logs"]}
        )
        topics = sorted(
            {
                t
                for r in all_records
                for rc in r["receipts"]
                for log in rc["logs"]
                for t in log["topics"][:1]
            }
        )
        assert len(addresses) >= 10
        cases = [
            [[hexbytes(addresses[0])]],
            [[hexbytes(a) for a in addresses[:3]]],
            [[hexbytes(addresses[1])], [hexbytes(topics[0])]],
            [[], [hexbytes(t) for t in topics[:2]]],
        ]
        run = await indexer.reader.blooms(0, indexed_until)
        for filters in cases:
            expected = [
                run.first + i
                for i, bloom in enumerate(run.blooms)
                if all(
                    any(bloom_contains(bytes(bloom), v) for v in group)
                    for group in filters
                    if group
                )
            ]
            assert await matches(indexer, filters, 0, indexed_until) == expected
            assert all(n >= from_block for n in expected)
    finally:
        await source.aclose()
        store.close()
