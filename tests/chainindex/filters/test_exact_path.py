"""The exact path against the bloom path and a brute-force filter, across reorgs.

Random chains of small pools of values (so that filters match often and ANDs of common
values are common), sections of 8 blocks in groups of 2, written with the real writer into a
real LevelDB; then random reorgs of depth 1 to 64 (some reaching below the stored sections,
so that truncation deletes records), appends and section builds. After each step, random
filters (address lists, topic positions with wildcards and alternatives, a block hash) are
answered through the exact path (stored records and the head index, one engine kept across
steps so that its head index follows the reorgs), through the bloom path, and by brute force:
the three answers are equal. Blocks read on the exact path all hold a match. At the end, the
index records (``x`` and ``X``) equal those of a directory written from scratch with the
final chain: a truncation leaves nothing behind. The exact engine's bitmap cache is off, tiny
or large; in some runs fingerprints are squeezed so that values collide (answers stay exact).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.filters import LogCriteria, LogQuery, LogQueryEngine, QueryConfig
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import SectionStore, open_datadir, schema
from chainindex.store.exact import index, keys
from chainindex.store.exact import reader as reader_module
from chainindex.store.kv import KeyValueStore
from chainindex.store.reader import ChainReader
from chainindex.store.writer import ChainWriter
from chainindex.types import Block, ChainLog
from tests.chainindex.filters.chain import (
    ADDRESS_POOL,
    TOPIC_POOL,
    random_chain,
    reference_logs,
)

SECTION = 8
GROUP = 2


def fork(parent: Block, seed: int, count: int) -> list[Block]:
    """``count`` random blocks extending ``parent``."""
    blocks = random_chain(seed, count, first=parent.header.number + 1)
    if blocks:
        header = dataclasses.replace(blocks[0].header, parent_hash=parent.header.hash)
        blocks[0] = Block(header, blocks[0].logs)
    return blocks


def new_store(path: Path) -> tuple[KeyValueStore, ChainWriter]:
    store = open_datadir(path)
    SectionStore(store, SECTION, group_size=GROUP)  # fixes the group size
    return store, ChainWriter(store, SECTION)


def build(writer: ChainWriter, confirmed: int) -> None:
    while writer.build_section(confirmed) is not None:
        pass


def random_criteria(rng: random.Random) -> LogCriteria:
    addresses = tuple(rng.sample(ADDRESS_POOL, rng.choice([0, 0, 1, 1, 2, 3])))
    topics = tuple(
        tuple(rng.sample(TOPIC_POOL, rng.choice([0, 1, 1, 2])))
        for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))
    )
    return LogCriteria(addresses, topics)


async def answer(engine: LogQueryEngine, query: LogQuery) -> list[ChainLog]:
    return [log for block in await engine.collect(query) for log in block.logs()]


def check_queries(
    rng: random.Random,
    chain: list[Block],
    exact: LogQueryEngine,
    bloom: LogQueryEngine,
    collide: bool = False,
) -> None:
    logs = [log for b in chain for log in b.logs or ()]
    head = chain[-1].header.number
    for _ in range(12):
        criteria = random_criteria(rng)
        if rng.random() < 0.1:
            block = rng.choice(chain)
            query = LogQuery(criteria, block_hash=block.header.hash)
            first = last = int(block.header.number)
        else:
            first = rng.randint(0, head)
            last = rng.randint(first, head)
            query = LogQuery(criteria, first, last)
        expected = reference_logs(logs, criteria.addresses, criteria.topics, first, last)
        paths = exact.stats.paths["exact"]
        before = (paths.candidate_blocks, paths.matched_blocks)
        assert asyncio.run(answer(exact, query)) == expected, (criteria, first, last)
        assert asyncio.run(answer(bloom, query)) == expected, (criteria, first, last)
        read = paths.candidate_blocks - before[0]
        if not collide and (not criteria.topics or criteria.topics[-1]):  # exact counts
            assert paths.matched_blocks - before[1] == read  # every block read held a match


def index_records(store: KeyValueStore) -> dict[bytes, bytes]:
    """The exact index's ``x`` records and ``X`` counts."""
    return {
        **dict(store.iterate(schema.EXACT_PREFIX, b"y")),
        **dict(store.iterate(schema.EXACT_COUNTS_PREFIX, b"Y")),
    }


def few_fingerprints(value: bytes) -> int:
    """Fingerprints squeezed into 8 (the values of the pools collide all the time)."""
    return keys.fingerprint(value) % 8


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**9),
    confirmations=st.sampled_from([0, 3, 12]),
    cache_bytes=st.sampled_from([0, 2048, 64 << 20]),
    collide=st.sampled_from([False, False, True]),
)
def test_exact_bloom_and_brute_force_agree_across_reorgs(
    tmp_path_factory: st.SearchStrategy[object],
    seed: int,
    confirmations: int,
    cache_bytes: int,
    collide: bool,
) -> None:
    """Also with the exact index's bitmap cache off, tiny (evicting all the time) or large,
    and with fingerprints forced to collide (answers still exact: only candidates added)."""
    with pytest.MonkeyPatch.context() as patch:
        if collide:
            patch.setattr(index, "fingerprint", few_fingerprints)
            patch.setattr(reader_module, "fingerprint", few_fingerprints)
        run_reorgs(tmp_path_factory, seed, confirmations, cache_bytes, collide)


def run_reorgs(
    tmp_path_factory: st.SearchStrategy[object],
    seed: int,
    confirmations: int,
    cache_bytes: int,
    collide: bool,
) -> None:
    rng = random.Random(seed)
    base = Path(tmp_path_factory.mktemp("reorgs"))  # type: ignore[attr-defined]
    store, writer = new_store(base / "dd")
    chain = random_chain(seed, rng.randint(20, 90))
    writer.append(chain, chain_id=1)
    build(writer, chain[-1].header.number - confirmations)
    reader = ChainReader(store)
    retriever = SectionRetriever(reader.sections)
    exact = LogQueryEngine(
        reader,
        retriever,
        config=QueryConfig(query_path="exact", exact_cache_bytes=cache_bytes),
    )
    bloom = LogQueryEngine(reader, retriever, config=QueryConfig(query_path="bloom"))
    check_queries(rng, chain, exact, bloom, collide)
    for _ in range(rng.randint(2, 5)):
        if rng.random() < 0.6:
            depth = min(rng.randint(1, 64), len(chain) - 1)
            ancestor = chain[-depth - 1]
            branch = fork(ancestor, rng.randrange(10**9), depth + rng.randint(-depth, 6))
            writer.reorg(ancestor.header, branch)
            chain = chain[: len(chain) - depth] + branch
            exact.notify_reorg(ancestor.header.number + 1)
            bloom.notify_reorg(ancestor.header.number + 1)
        else:
            more = fork(chain[-1], rng.randrange(10**9), rng.randint(1, 30))
            writer.append(more, chain_id=1)
            chain += more
        build(writer, chain[-1].header.number - confirmations)
        check_queries(rng, chain, exact, bloom, collide)
    retriever.close()
    if cache_bytes:
        assert exact.exact_cache is not None
        stats = exact.exact_cache.stats()
        assert stats.misses > 0
        assert stats.bytes <= cache_bytes
    else:
        assert exact.exact_cache is None
    fresh, fresh_writer = new_store(base / "fresh")
    fresh_writer.append(chain, chain_id=1)
    while fresh_writer.state().sections < writer.state().sections:  # as many as were kept
        fresh_writer.build_section(chain[-1].header.number)
    assert index_records(store) == index_records(fresh)
    assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) == schema.encode_u64(0)
    store.close()
    fresh.close()
