"""Candidate density 1.0 on a saturated chain (about half of every bloom's bits set), through
the exact path, on the stored sections and in the head index alike: every block whose logs
are read holds a match, for a rare address, a common address, an AND of common values (the
top contract's top event to its top recipient) and ``[[A], null, [H]]``; the bloom path reads
many more for the same answer, and both equal a brute-force filter."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest

from chainindex.filters import LogCriteria, LogQuery, LogQueryEngine, QueryConfig
from chainindex.filters.retriever import SectionRetriever
from chainindex.source.parse import parse_block
from chainindex.store import LevelDBStore, open_datadir
from chainindex.store.reader import ChainReader
from chainindex.store.writer import ChainWriter
from chainindex.synthetic import ChainGenerator, ChainShape
from chainindex.types import Block, ChainLog
from tests.chainindex.filters.chain import reference_logs

BLOCKS = 160
SECTION = 64  # sections 0 and 1 stored; blocks 128..159 in the head index


@pytest.fixture(scope="module")
def saturated(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[list[Block], LevelDBStore]]:
    records = ChainGenerator(ChainShape(), seed=5).records(BLOCKS)
    blocks = [parse_block(r["block"], r["receipts"]) for r in records]
    store = open_datadir(tmp_path_factory.mktemp("saturated") / "dd")
    writer = ChainWriter(store, SECTION)
    writer.append(blocks, chain_id=1)
    while writer.build_section(BLOCKS - 1) is not None:
        pass
    yield blocks, store
    store.close()


def queries(logs: list[ChainLog]) -> dict[str, LogCriteria]:
    addresses = Counter(log.address for log in logs)
    common, _ = addresses.most_common(1)[0]
    rare = min(addresses, key=lambda a: (addresses[a], a))
    of_common = [log for log in logs if log.address == common and len(log.topics) >= 3]
    event = Counter(log.topics[0] for log in of_common).most_common(1)[0][0]
    to = Counter(log.topics[2] for log in of_common if log.topics[0] == event).most_common(1)
    return {
        "rare address": LogCriteria((rare,)),
        "common address": LogCriteria((common,)),
        "common AND": LogCriteria((common,), ((event,), (), (to[0][0],))),
        "[[A], null, [H]]": LogCriteria((), ((event,), (), (to[0][0],))),
    }


NAMES = ["rare address", "common address", "common AND", "[[A], null, [H]]"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("first", "last"), [(0, 127), (128, 159), (30, 150)])
def test_density_is_one_on_the_exact_path(
    saturated: tuple[list[Block], LevelDBStore], name: str, first: int, last: int
) -> None:
    blocks, store = saturated
    logs = [log for b in blocks for log in b.logs or ()]
    criteria = queries([log for log in logs if first <= log.block_number <= last])[name]
    expected = reference_logs(logs, criteria.addresses, criteria.topics, first, last)
    assert expected
    reader = ChainReader(store)
    with SectionRetriever(reader.sections) as retriever:
        answers = {}
        engines = {}
        for path in ("exact", "bloom"):
            config = QueryConfig(query_path=path)
            engine = LogQueryEngine(reader, retriever, config=config)
            found = asyncio.run(engine.collect(LogQuery(criteria, first, last)))
            answers[path] = [log for b in found for log in b.logs()]
            engines[path] = engine
    assert answers["exact"] == answers["bloom"] == expected
    exact = engines["exact"].stats
    assert (
        exact.candidate_blocks
        == exact.matched_blocks
        == len({log.block_number for log in expected})
    )
    assert exact.paths["exact"].candidate_blocks == exact.candidate_blocks
    if name == "rare address":  # at saturation the blooms cannot tell it from noise
        bloom = engines["bloom"].stats
        assert bloom.candidate_blocks > 2 * bloom.matched_blocks
