"""``RecordCache`` over a real LevelDB data directory: parsed records, records a prefilter
turned away (kept raw), and how the two meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainindex.filters.records import NO_MATCH, RecordCache
from chainindex.store import LevelDBStore
from chainindex.store.reader import ChainReader, ChainView
from chainindex.types import Block
from tests.chainindex.filters.chain import random_chain, write_chain


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[Block], ChainReader]]:
    blocks = random_chain(3, 40)
    store: LevelDBStore = write_chain(
        Path(tmp_path_factory.mktemp("records")), blocks, section_size=16, confirmed=31
    )
    yield blocks, ChainReader(store)
    store.close()


def with_logs(blocks: list[Block]) -> list[int]:
    return [b.header.number for b in blocks if b.logs]


def test_turned_away_then_needed(chain: tuple[list[Block], ChainReader]) -> None:
    blocks, reader = chain
    number = with_logs(blocks)[0]
    cache = RecordCache()

    def lookups(view: ChainView) -> None:
        expected = view.logs_record(view.header(number))  # type: ignore[arg-type]
        assert expected is not None
        assert len(expected)
        turned = cache.block(view, number, prefilter=lambda raw: False)
        assert turned is not None
        assert turned[1] is NO_MATCH
        assert len(cache) == 1
        assert cache.misses == 1
        # Held raw: the next lookup whose prefilter lets it through gets it parsed...
        kept = cache.block(view, number, prefilter=lambda raw: True)
        assert kept is not None
        assert kept[1] is not None
        assert kept[1] is not NO_MATCH
        assert kept[1].logs(kept[0]) == expected.logs(kept[0])
        assert cache.hits == 1
        # ... and from then on every lookup, whatever its prefilter, gets the parsed record.
        again = cache.block(view, number, prefilter=lambda raw: False)
        assert again is not None
        assert again[1] is kept[1]
        header = view.header(number)
        assert header is not None
        assert cache.get(view, header) is kept[1]
        assert len(cache) == 1

    reader.view_sync(lookups)


def test_budget_holds_with_raw_and_parsed_entries(
    chain: tuple[list[Block], ChainReader],
) -> None:
    blocks, reader = chain
    numbers = with_logs(blocks)
    cache = RecordCache(max_bytes=4096)

    def fill(view: ChainView) -> None:
        for i, number in enumerate(numbers):
            cache.block(view, number, prefilter=(lambda raw: False) if i % 2 else None)
            assert cache._bytes <= cache.max_bytes
        assert 0 < len(cache) < len(numbers)

    reader.view_sync(fill)


def test_blocks_without_stored_logs_and_unsynced_blocks(
    chain: tuple[list[Block], ChainReader],
) -> None:
    blocks, reader = chain
    cache = RecordCache()
    beyond = blocks[-1].header.number + 1
    assert reader.view_sync(lambda view: cache.block(view, beyond)) is None
