"""Planning: the split between the exact index, the head index, the matcher and the bloom
scan, and safe/finalized."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainindex.errors import HeaderNotFoundError
from chainindex.filters import BlockTag, LogCriteria, LogQuery
from chainindex.filters.planning import plan_range, resolve_range
from chainindex.store.reader import ChainReader, ChainState
from tests.chainindex.filters.chain import ADDRESS_POOL, random_chain, write_chain

ANY = LogCriteria((ADDRESS_POOL[0],))


@pytest.fixture
def reader(tmp_path: Path) -> ChainReader:
    # 100 blocks, sections of 16 built while their last block is <= 70: sections 0..3.
    store = write_chain(tmp_path / "dd", random_chain(5, 100), section_size=16, confirmed=70)
    return ChainReader(store)


def test_split_at_the_last_section(reader: ChainReader) -> None:
    plan = reader.view_sync(lambda v: plan_range(v, LogQuery(ANY, 10, 99), query_path="bloom"))
    assert (plan.indexed, plan.scan) == ((10, 63), (64, 99))
    plan = reader.view_sync(lambda v: plan_range(v, LogQuery(ANY, 70, 80), query_path="bloom"))
    assert (plan.indexed, plan.scan) == (None, (70, 80))
    plan = reader.view_sync(lambda v: plan_range(v, LogQuery(ANY, 3, 40), query_path="bloom"))
    assert (plan.indexed, plan.scan) == ((3, 40), None)
    assert plan.anchor == reader.view_sync(lambda v: v.canonical_hash(40))


def test_short_indexed_stretches_are_scanned(reader: ChainReader) -> None:
    plan = reader.view_sync(
        lambda v: plan_range(v, LogQuery(ANY, 50, 99), matcher_min_blocks=20, query_path="bloom")
    )
    assert (plan.indexed, plan.scan) == (None, (50, 99))
    plan = reader.view_sync(
        lambda v: plan_range(v, LogQuery(ANY, 40, 99), matcher_min_blocks=20, query_path="bloom")
    )
    assert (plan.indexed, plan.scan) == ((40, 63), (64, 99))


def test_a_query_without_conditions_scans_for_non_empty_blooms(reader: ChainReader) -> None:
    plan = reader.view_sync(lambda v: plan_range(v, LogQuery(LogCriteria(), 0, 99)))
    assert (plan.indexed, plan.scan) == (None, (0, 99))


def test_safe_and_finalized_are_clamped_to_the_synced_head(reader: ChainReader) -> None:
    state: ChainState = reader.view_sync(lambda v: v.state())
    finality = {BlockTag.SAFE: 80, BlockTag.FINALIZED: 500}
    assert resolve_range(LogQuery(ANY, BlockTag.SAFE, None), state, finality) == (80, 99)
    assert resolve_range(LogQuery(ANY, BlockTag.FINALIZED, None), state, finality) == (99, 99)
    assert resolve_range(LogQuery(ANY, 0, BlockTag.SAFE), state, finality) == (0, 80)
    # No finality source (archive, read-only): the synced head.
    assert resolve_range(LogQuery(ANY, BlockTag.SAFE, BlockTag.FINALIZED), state) == (99, 99)


def test_nothing_synced(tmp_path: Path) -> None:
    store = write_chain(tmp_path / "empty", [], section_size=16, confirmed=0)
    state = ChainReader(store).view_sync(lambda v: v.state())
    with pytest.raises(HeaderNotFoundError, match="no blocks synced yet"):
        resolve_range(LogQuery(), state)
