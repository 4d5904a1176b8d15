"""Backfill into segments with 2 workers, then the head store's sync: every answer equals a
plain sync's, byte for byte, across segment boundaries and the head, limits included; a
worker failing mid-segment is rerun from scratch; a Dask LocalCluster builds the same
segments as the process pool."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from functools import partial
from pathlib import Path

import pytest
from eth_typing import Address, Hash32
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.errors import SegmentError
from chainindex.filters.criteria import BlockTag, LogCriteria, LogQuery
from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.coordinator import plan_segments
from chainindex.segments.executors import dask_available
from chainindex.segments.manifest import SealedSegment, read_manifest, segment_dir
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader, ChainView
from chainindex.types import ChainLog, Header
from tests.chainindex.segments.chain import (
    BLOCKS,
    SEALED_TO,
    SECTION,
    SEGMENT,
    answer,
    backfill,
    engine,
    every_log,
    sync,
)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain synced the plain way."""
    path = tmp_path_factory.mktemp("plain") / "dd"
    sync(path)
    return path


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain backfilled into 4 segments, the rest synced into the head store."""
    path = tmp_path_factory.mktemp("segmented") / "dd"
    backfill(path)
    sync(path)
    return path


@pytest.fixture(scope="module")
def chain_logs(plain: Path) -> list[ChainLog]:
    with engine(plain) as plain_engine:
        return asyncio.run(every_log(plain_engine))


def test_plan_segments_aligns_to_segments_and_whole_sections() -> None:
    assert plan_segments(0, 1023, 64, 256) == [(0, 255), (256, 511), (512, 767), (768, 1023)]
    assert plan_segments(128, 700, 64, 256) == [(128, 255), (256, 511), (512, 639)]
    assert plan_segments(0, 62, 64, 256) == []
    with pytest.raises(SegmentError, match="multiple of the section size"):
        plan_segments(0, 1023, 64, 100)
    with pytest.raises(SegmentError, match="does not start a section"):
        plan_segments(10, 1023, 64, 256)


def _header(view: ChainView, number: int) -> Header | None:
    return view.header(number)


def test_segments_are_sealed_at_the_chains_hashes(plain: Path, segmented: Path) -> None:
    manifest = read_manifest(segmented)
    assert manifest is not None
    spans = [(s.first, s.last) for s in manifest.segments]
    assert spans == [(0, 255), (256, 511), (512, 767), (768, 1023)]
    store = open_datadir(plain)
    try:
        reader = ChainReader(store)
        for seal in manifest.segments:
            last = reader.view_sync(partial(_header, number=seal.last))
            first = reader.view_sync(partial(_header, number=seal.first))
            assert last is not None
            assert first is not None
            assert seal.last_hash == "0x" + last.hash.hex()
            assert seal.parent_hash == "0x" + first.parent_hash.hex()
            sealed = json.loads((segment_dir(segmented, *spans[0]) / "SEALED.json").read_text())
            assert sealed["first"] == 0
            assert sealed["section_size"] == SECTION
    finally:
        store.close()
    head = open_datadir(segmented)
    try:
        state = ChainReader(head).view_sync(lambda v: v.state())
        assert state.tail == SEALED_TO + 1  # the head store continues after the history
        assert state.head is not None
        assert state.head.number == BLOCKS - 1
    finally:
        head.close()


BOUNDARIES = (SEGMENT, 2 * SEGMENT, 3 * SEGMENT, SEALED_TO + 1)
"""First blocks of the segments after the first, and of the head store."""


def _query(chain_logs: list[ChainLog], data: st.DataObject) -> LogQuery:
    """A random query: values of logs near a segment boundary (and an absent value), or
    none (every log); a range that often crosses boundaries and reaches the head."""
    near = [log for log in chain_logs if min(abs(log.block_number - b) for b in BOUNDARIES) <= 2]
    picked = data.draw(st.lists(st.sampled_from(near), min_size=1, max_size=3))
    absent = Hash32(b"\x42" * 32)
    addresses = [log.address for log in picked] + [Address(b"\x42" * 20)]
    chosen_addresses = data.draw(st.lists(st.sampled_from(addresses), max_size=2))
    positions = []
    for position in range(data.draw(st.integers(0, 3))):
        values = [log.topics[position] for log in picked if len(log.topics) > position]
        positions.append(data.draw(st.lists(st.sampled_from([*values, absent]), max_size=2)))
    boundary = data.draw(st.sampled_from(BOUNDARIES))
    first = data.draw(st.integers(max(0, boundary - 300), boundary))
    last = data.draw(st.integers(boundary - 1 if first < boundary else first, BLOCKS - 1))
    criteria = LogCriteria(tuple(chosen_addresses), tuple(tuple(p) for p in positions))
    return LogQuery(criteria, first, last)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_filters_answer_as_a_plain_sync(
    plain: Path, segmented: Path, chain_logs: list[ChainLog], data: st.DataObject
) -> None:
    query = _query(chain_logs, data)
    max_results = data.draw(st.sampled_from([0, 0, 1, 3, 10, 40]))

    async def both() -> tuple[object, object]:
        with engine(plain) as reference, engine(segmented) as tested:
            return await answer(reference, query, max_results), await answer(
                tested, query, max_results
            )

    expected, got = asyncio.run(both())
    assert got == expected


async def test_limits_split_across_a_boundary(plain: Path, segmented: Path) -> None:
    """A result limit that runs out just past a segment boundary suggests the same range."""
    wildcard = LogQuery(LogCriteria(), SEGMENT - 8, SEGMENT + 8)
    with engine(plain) as reference, engine(segmented) as tested:
        blocks = await reference.collect(wildcard)
        counts = [len(b) for b in blocks]
        for limit in range(1, sum(counts)):
            assert await answer(tested, wildcard, limit) == await answer(reference, wildcard, limit)


async def test_tags_and_block_hashes(plain: Path, segmented: Path) -> None:
    with engine(plain) as reference, engine(segmented) as tested:
        bounds: list[tuple[int | BlockTag, BlockTag]] = [
            (BlockTag.EARLIEST, BlockTag.LATEST),
            (300, BlockTag.LATEST),
        ]
        for first, last in bounds:
            query = LogQuery(LogCriteria(), first, last)
            assert await answer(tested, query) == await answer(reference, query)
        store_reader = reference.reader
        for number in (5, 300, SEALED_TO, SEALED_TO + 1, BLOCKS - 1):
            header = await store_reader.header(number)
            assert header is not None
            query = LogQuery(LogCriteria(), block_hash=header.hash)
            assert await answer(tested, query) == await answer(reference, query)
        beyond = LogQuery(LogCriteria(), 0, BLOCKS)
        assert await answer(tested, beyond) == await answer(reference, beyond)


def flaky_build(task: SegmentTask) -> SealedSegment:
    """A worker that fails half way through the segment 256-511 once: it leaves a sealed
    half-segment behind (the worst kind of partial), then raises."""
    marker = Path(task.directory).parent.parent / f"failed-{task.first}"
    if task.first == SEGMENT and not marker.exists():
        # This task may run before anything has created the data directory.
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        build_segment(dataclasses.replace(task, last=task.first + SECTION - 1))
        raise RuntimeError("worker failed in the middle of the segment")
    return build_segment(task)


def test_a_failed_segment_is_rebuilt_from_scratch(segmented: Path, tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    manifest = backfill(datadir, build=flaky_build)
    assert (datadir / "failed-256").exists()  # the failure happened
    reference = read_manifest(segmented)
    assert reference is not None
    # The same records as an undisturbed backfill: nothing of the failed attempt stayed.
    assert [s.content_hash for s in manifest.segments] == [
        s.content_hash for s in reference.segments
    ]
    assert [s.entries for s in manifest.segments] == [s.entries for s in reference.segments]


@pytest.mark.skipif(not dask_available(), reason="Dask is an extra: pip install 'logfilter[dask]'")
def test_a_dask_local_cluster_builds_the_same_segments(segmented: Path, tmp_path: Path) -> None:
    manifest = backfill(tmp_path / "dd", use_dask=True)
    reference = read_manifest(segmented)
    assert reference is not None
    assert manifest == reference
