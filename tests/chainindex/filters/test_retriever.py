"""The LevelDB retriever on a real database built with the Generator, and the matcher on top."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from eth_typing import Hash32

from bloombits.matcher import Matcher
from chainindex.errors import DataDamagedError
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import LevelDBStore, SectionStore, schema
from tests.bloombits.chain import Chain, random_chain, reference

SIZE = 64


def head(section: int, salt: int = 0) -> Hash32:
    return Hash32(bytes([salt]) + section.to_bytes(31, "big"))


def store_chain(sections: SectionStore, chain: Chain, *, salt: int = 0, start: int = 0) -> None:
    for index in range(start, len(chain.vectors)):
        with sections.kv.batch() as batch:
            sections.write_section(batch, index, head(index, salt), chain.vectors[index])


@pytest.fixture
def pool() -> list[bytes]:
    rng = np.random.default_rng(21)
    return [rng.bytes(20) for _ in range(4)]


@pytest.fixture
def chain(pool: list[bytes]) -> Chain:
    # Sparse blooms compress; some sections are all zero for a bit (stored as b"").
    return random_chain(np.random.default_rng(22), SIZE, 10, pool, rate=0.05, noise=0.03)


@pytest.fixture(params=[64, 3], ids=["per-section", "rows-of-3"])
def group(request: pytest.FixtureRequest) -> int:
    """Sections per row: 64 leaves the 10 sections as ``B`` records; 3 puts sections 0..8
    into rows and leaves section 9 alone."""
    value: int = request.param
    return value


@pytest.fixture
def sections(leveldb: LevelDBStore, chain: Chain, group: int) -> SectionStore:
    store = SectionStore(leveldb, SIZE, group_size=group)
    store_chain(store, chain)
    return store


@pytest.fixture
def retriever(sections: SectionStore) -> Iterator[SectionRetriever]:
    retriever = SectionRetriever(sections, max_gap=2)
    yield retriever
    retriever.close()


async def test_vectors_equal_the_generator_output(
    chain: Chain, retriever: SectionRetriever
) -> None:
    rng = np.random.default_rng(3)
    for bit in [0, 2047, *rng.integers(0, 2048, 20).tolist()]:
        wanted = sorted(set(rng.integers(0, 10, 6).tolist()))
        vectors, present = await retriever.retrieve(bit, wanted)
        assert present.all()
        for row, section in zip(vectors, wanted, strict=True):
            assert row.tobytes() == chain.vectors[section][bit].tobytes()


async def test_sections_not_stored_yet_are_absent(retriever: SectionRetriever) -> None:
    vectors, present = await retriever.retrieve(5, [8, 9, 10, 11, 400])
    assert present.tolist() == [True, True, False, False, False]
    assert not vectors[2:].any()
    assert (await retriever.retrieve(5, [])).vectors.shape == (0, SIZE // 8)


async def test_reads_run_off_the_event_loop_thread(
    sections: SectionStore, retriever: SectionRetriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = set()
    original = SectionStore.read_vectors

    def spy(self: SectionStore, *args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        threads.add(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SectionStore, "read_vectors", spy)
    await asyncio.gather(*(retriever.retrieve(bit, [0, 5, 9]) for bit in range(8)))
    assert threads
    assert threading.main_thread() not in threads


async def test_a_rewritten_section_is_read_under_its_new_head(
    leveldb: LevelDBStore, sections: SectionStore, retriever: SectionRetriever, pool: list[bytes]
) -> None:
    before = await retriever.retrieve(11, list(range(10)))
    assert before.present.all()  # the heads are cached now
    # A reorg rewrites sections 7.. with other blocks.
    other = random_chain(np.random.default_rng(99), SIZE, 10, pool, rate=0.3)
    with leveldb.batch() as batch:
        sections.truncate(batch, 7)
    store_chain(sections, other, salt=1, start=7)
    after = await retriever.retrieve(11, list(range(10)))
    assert after.present.all()
    assert (after.vectors[:7] == before.vectors[:7]).all()
    for section in range(7, 10):
        assert after.vectors[section].tobytes() == other.vectors[section][11].tobytes()


async def test_a_growing_store_is_seen(
    leveldb: LevelDBStore, chain: Chain, pool: list[bytes]
) -> None:
    sections = SectionStore(leveldb, SIZE)
    store_chain(sections, Chain(SIZE, chain.blooms[: 4 * SIZE]))
    with SectionRetriever(sections) as retriever:
        assert (await retriever.retrieve(3, [3, 4])).present.tolist() == [True, False]
        store_chain(sections, chain, start=4)
        assert (await retriever.retrieve(3, [3, 4, 9])).present.all()


async def test_a_missing_vector_of_a_stored_section_is_corruption(
    leveldb: LevelDBStore, retriever: SectionRetriever, group: int
) -> None:
    with leveldb.batch() as batch:
        if group == 3:  # sections 3..5 are one row, under section 5's head
            batch.delete(schema.bloom_row_key(77, 1, head(5)))
        else:
            batch.delete(schema.bloom_bits_key(77, 4, head(4)))
    missing = 3 if group == 3 else 4
    with pytest.raises(DataDamagedError) as raised:
        await retriever.retrieve(77, [3, 4, 5])
    assert raised.value.detail == f"section {missing} is stored but has no vector for bloom bit 77"
    assert raised.value.component == "bloom sections"
    assert str(raised.value) == (  # the sections read: 3..5, or a run of them
        f"data directory damaged (bloom sections of blocks {raised.value.first}-"
        f"{raised.value.last}): run logfilter check"
    )
    assert raised.value.first is not None
    assert raised.value.last is not None
    assert raised.value.first <= missing * SIZE < (missing + 1) * SIZE - 1 <= raised.value.last


async def test_a_malformed_vector_is_corruption(
    leveldb: LevelDBStore, retriever: SectionRetriever, group: int
) -> None:
    with leveldb.batch() as batch:
        if group == 3:
            batch.put(schema.bloom_row_key(78, 0, head(2)), b"\x07")
        else:
            batch.put(schema.bloom_bits_key(78, 2, head(2)), b"\x07")
    with pytest.raises(DataDamagedError) as raised:
        await retriever.retrieve(78, [2])
    assert "malformed" in raised.value.detail
    assert (raised.value.first, raised.value.last) == (2 * SIZE, 3 * SIZE - 1)


async def test_the_matcher_over_leveldb_equals_the_reference(
    chain: Chain, retriever: SectionRetriever, pool: list[bytes]
) -> None:
    filters_list = [
        [[pool[0]]],
        [[pool[0], pool[1]], [pool[2]]],
        [pool, [pool[3]], [], [pool[1], b"\x00" * 32]],
    ]
    for filters in filters_list:
        for begin, end in [(0, chain.blocks - 1), (70, 300), (200, 200), (300, chain.blocks + 90)]:
            matcher = Matcher(SIZE, filters, batch_sections=3)
            last = min(end, chain.blocks - 1)
            async with matcher.start(begin, last, retriever) as session:
                got = [n async for n in session]
            assert got == reference(chain, filters, begin, last)
