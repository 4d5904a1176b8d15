"""The query path end to end over real LevelDB data directories, against a brute-force filter.

Every random query's answer must equal :func:`reference_logs` over all the chain's logs,
whichever way the engine is configured to run it: through the exact index or the bloom
sections, the matcher on every indexed stretch or never, verification one block per worker
call or many, scans in short or long chunks, with the value cache filling up across queries;
over a chain synced from genesis, one synced from a later block (sections below its first
are empty), and a headers-only one whose logs come from a fetcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_typing import Address, Hash32
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloombits.valuecache import ValueCache
from chainindex.errors import (
    BlockRangeBeyondHeadError,
    BlockRangeLimitError,
    InvalidBlockRangeError,
    PendingLogsError,
    PrunedHistoryError,
    ResultLimitError,
    UnknownBlockError,
)
from chainindex.filters import BlockTag, LogCriteria, LogQuery, LogQueryEngine, QueryConfig
from chainindex.filters.records import RecordCache
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import LevelDBStore
from chainindex.store.reader import ChainReader
from chainindex.types import Block, ChainLog, Header
from tests.chainindex.filters.chain import (
    ADDRESS_POOL,
    TOPIC_POOL,
    random_chain,
    reference_logs,
    write_chain,
)

SECTION = 16
BLOCKS = 420
UNINDEXED = 40  # blocks above the last built section's confirmation point


class Fetcher:
    """Logs of a headers-only directory, from the chain in memory (the upstream's role)."""

    def __init__(self, blocks: list[Block]) -> None:
        self.by_hash = {b.header.hash: b.logs or () for b in blocks}
        self.calls = 0

    async def logs(self, header: Header) -> tuple[ChainLog, ...]:
        self.calls += 1
        return self.by_hash[header.hash]


@dataclass
class Env:
    """A data directory and what the tests need around it."""

    blocks: list[Block]
    store: LevelDBStore
    reader: ChainReader
    retriever: SectionRetriever
    cache: ValueCache

    @property
    def logs(self) -> list[ChainLog]:
        return [log for b in self.blocks for log in b.logs or ()]

    @property
    def tail(self) -> int:
        return self.blocks[0].header.number

    @property
    def head(self) -> int:
        return self.blocks[-1].header.number

    def engine(self, **config: Any) -> LogQueryEngine:
        return LogQueryEngine(
            self.reader, self.retriever, cache=self.cache, config=QueryConfig(**config)
        )


def make_env(path: Path, blocks: list[Block], *, headers_only: bool = False) -> Iterator[Env]:
    store = write_chain(
        path,
        blocks,
        section_size=SECTION,
        confirmed=blocks[-1].header.number - UNINDEXED,
        headers_only=headers_only,
    )
    reader = ChainReader(store, fetcher=Fetcher(blocks) if headers_only else None)
    retriever = SectionRetriever(reader.sections)
    yield Env(blocks, store, reader, retriever, ValueCache(min_sections=1))
    retriever.close()
    store.close()


@pytest.fixture(scope="module")
def genesis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """420 blocks from genesis; sections of 16 built up to block 367, the rest a tail."""
    yield from make_env(tmp_path_factory.mktemp("genesis"), random_chain(1, BLOCKS))


@pytest.fixture(scope="module")
def later(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Blocks 37..336: the first section (32..47) is partly below the first block."""
    yield from make_env(tmp_path_factory.mktemp("later"), random_chain(2, 300, first=37))


@pytest.fixture(scope="module")
def headers_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The genesis chain's headers only; logs come from a fetcher."""
    yield from make_env(
        tmp_path_factory.mktemp("headers"), random_chain(1, BLOCKS), headers_only=True
    )


values = st.sampled_from(ADDRESS_POOL) | st.binary(min_size=20, max_size=20).map(Address)
topic_values = st.sampled_from(TOPIC_POOL) | st.binary(min_size=32, max_size=32).map(Hash32)
addresses: st.SearchStrategy[tuple[Address, ...]] = st.lists(values, max_size=4).map(tuple)
positions: st.SearchStrategy[tuple[tuple[Hash32, ...], ...]] = st.lists(
    st.lists(topic_values, max_size=3).map(tuple), max_size=4
).map(tuple)
configs = st.fixed_dictionaries(
    {
        "matcher_min_blocks": st.sampled_from([0, 1, 40, 10**9]),
        "verify_batch": st.sampled_from([1, 3, 512]),
        "scan_chunk": st.sampled_from([7, 8192]),
        "direct_bytes": st.sampled_from([0, 2, 6, 200]),  # sections of 16 blocks: 2 bytes
        "query_path": st.sampled_from(["auto", "exact", "bloom"]),
    }
)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def answer(engine: LogQueryEngine, query: LogQuery, max_results: int = 0) -> list[ChainLog]:
    return [log for block in await engine.collect(query, max_results) for log in block.logs()]


async def streamed(engine: LogQueryEngine, query: LogQuery) -> list[ChainLog]:
    out = []
    async for chunk in engine.stream(query):
        out += [log for block in chunk for log in block.logs()]
    return out


def check_random_queries(env: Env, data: st.DataObject) -> None:
    first = data.draw(st.integers(env.tail, env.head), label="first")
    last = data.draw(st.integers(first, env.head), label="last")
    criteria = LogCriteria(data.draw(addresses, label="address"), data.draw(positions))
    config = data.draw(configs, label="config")
    engine = env.engine(**config)
    expected = reference_logs(env.logs, criteria.addresses, criteria.topics, first, last)
    got = run(answer(engine, LogQuery(criteria, first, last)))
    assert got == expected
    if data.draw(st.booleans(), label="stream too"):
        assert run(streamed(engine, LogQuery(criteria, first, last))) == expected


settings_ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(data=st.data())
def test_random_queries_from_genesis(genesis: Env, data: st.DataObject) -> None:
    check_random_queries(genesis, data)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_queries_sharing_one_record_cache(genesis: Env, data: st.DataObject) -> None:
    """Several queries through one engine: records one query's prefilter kept raw are
    parsed for the next that needs them; a small budget evicts as it goes."""
    budget = data.draw(st.sampled_from([1 << 10, 1 << 14, 64 << 20]), label="budget")
    engine = LogQueryEngine(
        genesis.reader, genesis.retriever, records=RecordCache(max_bytes=budget)
    )
    for _ in range(data.draw(st.integers(2, 6), label="queries")):
        first = data.draw(st.integers(genesis.tail, genesis.head), label="first")
        last = data.draw(st.integers(first, genesis.head), label="last")
        criteria = LogCriteria(data.draw(addresses, label="address"), data.draw(positions))
        expected = reference_logs(genesis.logs, criteria.addresses, criteria.topics, first, last)
        assert run(answer(engine, LogQuery(criteria, first, last))) == expected


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_queries_from_a_later_block(later: Env, data: st.DataObject) -> None:
    check_random_queries(later, data)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_queries_headers_only(headers_only: Env, data: st.DataObject) -> None:
    check_random_queries(headers_only, data)


def test_the_matcher_and_the_scan_both_run(genesis: Env) -> None:
    """A query over the whole chain uses sections (indexed part) and the tail scan."""
    engine = genesis.engine()
    criteria = LogCriteria((ADDRESS_POOL[0],))
    expected = reference_logs(genesis.logs, criteria.addresses, (), 0, genesis.head)
    assert len(expected) > 50
    assert run(answer(engine, LogQuery(criteria, 0, genesis.head))) == expected
    # Candidates were only the blocks whose blooms hold the address, not every block.
    assert genesis.blocks
    assert engine.stats.candidate_blocks < BLOCKS
    assert engine.stats.matched_blocks == len({log.block_number for log in expected})


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_result_limit_suggests_a_range_that_fits(genesis: Env, data: st.DataObject) -> None:
    limit = data.draw(st.integers(1, 30), label="limit")
    first = data.draw(st.integers(0, genesis.head - 1), label="first")
    criteria = LogCriteria((), data.draw(positions.filter(lambda p: len(p) <= 1)))
    expected = reference_logs(genesis.logs, (), criteria.topics, first, genesis.head)
    engine = genesis.engine()
    query = LogQuery(criteria, first, genesis.head)
    if len(expected) <= limit:
        assert run(answer(engine, query, limit)) == expected
        return
    with pytest.raises(ResultLimitError) as caught:
        run(answer(engine, query, limit))
    over = expected[limit].block_number  # the block where the count passes the limit
    error = caught.value
    assert (error.first, error.last, error.maximum) == (first, max(first, over - 1), limit)
    assert error.limit == "results"
    fits = [log for log in expected if log.block_number <= error.last]
    if error.last < over:
        assert run(answer(engine, LogQuery(criteria, first, error.last), limit)) == fits


def test_block_hash_query(genesis: Env) -> None:
    engine = genesis.engine()
    for block in genesis.blocks[::37]:
        got = run(answer(engine, LogQuery(LogCriteria(), block_hash=block.header.hash)))
        assert got == list(block.logs or ())
    with pytest.raises(UnknownBlockError, match=r"^unknown block$"):
        run(answer(engine, LogQuery(LogCriteria(), block_hash=bytes(32))))  # type: ignore[arg-type]


def test_tags(genesis: Env) -> None:
    engine = genesis.engine()
    every = genesis.logs
    cases = [
        (BlockTag.EARLIEST, BlockTag.LATEST, 0, genesis.head),
        (None, None, genesis.head, genesis.head),
        (10, None, 10, genesis.head),
        (BlockTag.EARLIEST, 5, 0, 5),
        # Without a finality source (an archive, or read-only), safe and finalized are the head.
        (BlockTag.SAFE, BlockTag.FINALIZED, genesis.head, genesis.head),
    ]
    for begin, end, first, last in cases:
        got = run(answer(engine, LogQuery(LogCriteria(), begin, end)))
        assert got == reference_logs(every, (), (), first, last), (begin, end)


def test_geth_range_errors_in_geth_order(later: Env) -> None:
    engine = later.engine()
    head = later.head
    cases: list[tuple[object, object, type[Exception]]] = [
        (50, 40, InvalidBlockRangeError),  # reversed numbers: first
        (10, 5, InvalidBlockRangeError),  # reversed wins over pruned (geth checks it first)
        (10, 50, PrunedHistoryError),  # below the first synced block (37)
        (BlockTag.PENDING, None, PendingLogsError),
        (50, BlockTag.PENDING, PendingLogsError),
        (head + 2, BlockTag.LATEST, InvalidBlockRangeError),  # latest resolved, then reversed
        (head - 1, head + 5, BlockRangeBeyondHeadError),
        (head + 2, head + 5, BlockRangeBeyondHeadError),
    ]
    for begin, end, error in cases:
        with pytest.raises(error):
            run(answer(engine, LogQuery(LogCriteria(), begin, end)))  # type: ignore[arg-type]


def test_block_range_limit(genesis: Env) -> None:
    engine = genesis.engine(max_block_range=100)
    assert run(answer(engine, LogQuery(LogCriteria(), 5, 104))) == reference_logs(
        genesis.logs, (), (), 5, 104
    )
    with pytest.raises(BlockRangeLimitError) as caught:
        run(answer(engine, LogQuery(LogCriteria(), 5, 105)))
    assert (caught.value.first, caught.value.last, caught.value.maximum) == (5, 104, 100)
    assert str(caught.value) == (
        "query exceeds max block range 100; try with this block range [0x5, 0x68]"
    )


def test_headers_only_fetches_only_candidates(headers_only: Env) -> None:
    fetcher = headers_only.reader.fetcher
    assert isinstance(fetcher, Fetcher)
    before = fetcher.calls
    criteria = LogCriteria((ADDRESS_POOL[1],), ((), (TOPIC_POOL[2],)))
    engine = headers_only.engine()
    expected = reference_logs(headers_only.logs, criteria.addresses, criteria.topics, 0, 419)
    assert run(answer(engine, LogQuery(criteria, 0, 419))) == expected
    assert 0 < fetcher.calls - before < BLOCKS // 2
