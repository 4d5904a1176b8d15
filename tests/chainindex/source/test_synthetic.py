"""The synthetic source against the archive path: generate → archive file → ArchiveSource.

Whatever order ranges are asked in, :class:`SyntheticSource` must give exactly the blocks
(and records) the archive written by :func:`chainindex.synthetic.write_archive` gives, for
sparse and saturated chains, full and headers-only, from genesis and from a later block.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.errors import ArchiveError, ConfigError, LogsUnavailableError, MissingBlockError
from chainindex.source import ArchiveSource, SyntheticSource, open_source
from chainindex.synthetic import ChainGenerator, ChainShape, write_archive
from chainindex.types import Header
from tests.chainindex.reference import reference_header, reference_logs

SATURATED = ChainShape(contracts=500, holders=2_000)
"""Saturated blooms (batches of 32 blocks), a small population to keep the test quick."""
SPARSE = ChainShape(fill=0.05, contracts=500, holders=2_000)
"""Sparse blooms (batches of 512 blocks)."""

CHAINS = {
    # name: (shape, seed, first block, blocks): each crosses generator batches
    "saturated": (SATURATED, 3, 0, 100),
    "saturated-late": (SATURATED, 4, 1_000_037, 70),
    "sparse": (SPARSE, 5, 0, 1_100),
}


def archive(tmp: Path, name: str, headers_only: bool) -> Path:
    shape, seed, first, count = CHAINS[name]
    path = tmp / f"{name}{'-headers' if headers_only else ''}.jsonl"
    generator = ChainGenerator(shape, seed, first_block=first, headers_only=headers_only)
    write_archive(generator, path, count)
    return path


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each chain as a full archive (``name``) and a headers-only one (``name-headers``)."""
    tmp = tmp_path_factory.mktemp("synthetic")
    out = {name: archive(tmp, name, False) for name in CHAINS}
    out.update({f"{name}-headers": archive(tmp, name, True) for name in CHAINS})
    return out


@asynccontextmanager
async def both(
    name: str, archives: dict[str, Path], *, headers_only: bool = False
) -> AsyncIterator[tuple[SyntheticSource, ArchiveSource]]:
    shape, seed, first, count = CHAINS[name]
    ours = SyntheticSource(shape, seed, count, first_block=first)
    theirs = ArchiveSource(archives[f"{name}-headers" if headers_only else name])
    try:
        yield ours, theirs
    finally:
        await ours.aclose()
        await theirs.aclose()


ranges = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 20), st.booleans()), min_size=1, max_size=5
)


@pytest.mark.parametrize("name", list(CHAINS))
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(asked=ranges)
async def test_same_blocks_as_the_archive_in_any_order(
    name: str, archives: dict[str, Path], asked: list[tuple[float, int, bool]]
) -> None:
    """Blocks equal the full archive's (headers too: a headers-only chain has the full
    one's headers); records equal the full archive's, or the headers-only archive's."""
    _, _, first, count = CHAINS[name]
    headers = ArchiveSource(archives[f"{name}-headers"])
    try:
        async with both(name, archives) as (ours, theirs):
            for where, length, with_logs in asked:
                a = first + int(where * (count - 1))
                b = min(first + count - 1, a + length)
                got = await ours.blocks(a, b, with_logs=with_logs)
                assert got == await theirs.blocks(a, b, with_logs=with_logs)
                assert [blk.header.number for blk in got] == list(range(a, b + 1))
                if not with_logs:
                    assert got == await headers.blocks(a, b, with_logs=False)
                reference = theirs if with_logs else headers
                assert (await ours.records(a, b, with_logs=with_logs)) == (
                    await reference.records(a, b, with_logs=with_logs)
                )
    finally:
        await headers.aclose()


@pytest.mark.parametrize("name", list(CHAINS))
async def test_head_headers_and_logs_as_the_file_says(name: str, archives: dict[str, Path]) -> None:
    """Against the archive's own lines, read plainly (no parser of the project)."""
    _, _, first, count = CHAINS[name]
    lines = [orjson.loads(line) for line in archives[name].read_bytes().splitlines()]
    async with both(name, archives) as (ours, _):
        assert (ours.first, ours.last) == (first, first + count - 1)
        assert await ours.chain_id() == int(lines[0]["chainId"], 16)  # as the archive names it
        assert ours.finite
        assert await ours.latest() == reference_header(lines[-1]["block"])
        for offset in (count - 1, 0, count // 2, 1, count - 2):
            header = await ours.header_at(first + offset)
            assert header == reference_header(lines[offset]["block"])
            assert header is not None
            logs = await ours.block_logs(header)
            record = lines[offset]
            assert list(logs) == reference_logs(record["block"], record["receipts"])
        assert await ours.header_at(first + count) is None
        assert await ours.header_at(first - 1) is None


async def test_a_full_sync_run_reads_consecutive_blocks(archives: dict[str, Path]) -> None:
    """Runs as sync asks for them (consecutive), headers-only then full, link up."""
    async with both("saturated", archives) as (ours, theirs):
        await ours.latest()
        for with_logs in (False, True):
            parent: Header | None = None
            for a in range(0, 100, 17):
                got = await ours.blocks(a, min(a + 16, 99), with_logs=with_logs)
                assert got == await theirs.blocks(a, min(a + 16, 99), with_logs=with_logs)
                if parent is not None:
                    assert got[0].header.parent_hash == parent.hash
                parent = got[-1].header


async def test_out_of_range_and_foreign_blocks(archives: dict[str, Path]) -> None:
    async with both("saturated-late", archives) as (ours, theirs):
        for source in (ours, theirs):  # the same errors as the archive's
            with pytest.raises(ArchiveError, match="starts at block 1000037, not 1000000"):
                await source.blocks(1_000_000, 1_000_040, with_logs=True)
            with pytest.raises(MissingBlockError, match="1000107"):
                await source.blocks(1_000_100, 1_000_110, with_logs=False)
        other = SyntheticSource(SATURATED, 99, 70, first_block=1_000_037)
        try:
            stranger = await other.header_at(1_000_040)
        finally:
            await other.aclose()
        assert stranger is not None
        with pytest.raises(LogsUnavailableError, match="another block at this height"):
            await ours.block_logs(stranger)


async def test_spec_names_the_generated_chain() -> None:
    async with open_source("synthetic:sparse?blocks=600&seed=5&contracts=500&holders=2000") as s:
        assert isinstance(s, SyntheticSource)
        assert (s.first, s.last, s.seed, s.shape) == (0, 599, 5, SPARSE)
        assert s.name == "synthetic:sparse?blocks=600&seed=5&contracts=500&holders=2000"
    async with open_source("synthetic:?blocks=10&first=0x10&logs-per-block=3") as s:
        assert isinstance(s, SyntheticSource)
        assert (s.first, s.last, s.seed) == (16, 25, 0)
        assert s.shape == ChainShape(fill=None, logs_per_block=3.0)
    async with open_source("synthetic:30%?blocks=1") as s:
        assert isinstance(s, SyntheticSource)
        assert s.shape == ChainShape(fill=0.3)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("synthetic:saturated", "say how many blocks"),
        ("synthetic:saturated?blocks=0", "at least 1 block"),
        ("synthetic:saturated?blocks=ten", "blocks must be a whole number"),
        ("synthetic:saturated?blocks=5&seed=-1", "seed must not be negative"),
        ("synthetic:saturated?blocks=5&colour=red", "unknown key 'colour'"),
        ("synthetic:saturated?blocks=5&blocks=6", "'blocks' given twice"),
        ("synthetic:saturated?blocks", "key=value pairs"),
        ("synthetic:full?blocks=5", "fill must be sparse, saturated or a fraction"),
        ("synthetic:0.95?blocks=5", r"fill must lie in \(0, 0.9\]"),
        ("synthetic:?blocks=5&logs-per-block=x", "could not convert"),
    ],
)
async def test_bad_specs_are_one_config_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        async with open_source(spec):
            pass
    assert str(caught.value).startswith(spec)
    assert "\n" not in str(caught.value)


async def _head_walk_peak(blocks: int) -> int:
    """Peak traced bytes of finding the head of a sparse chain of ``blocks`` blocks."""
    source = SyntheticSource(SPARSE, 1, blocks)
    try:
        await source.header_at(3)  # the generator's population, made once
        tracemalloc.start()
        try:
            head = await source.latest()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert head.number == blocks - 1
        return peak
    finally:
        await source.aclose()


async def test_finding_the_head_keeps_no_records() -> None:
    """The headers walked to reach a height are dropped as they go: walking three times as
    far costs no more memory (held records would triple it: a generator batch is the bound)."""
    short = await _head_walk_peak(8_000)
    long = await _head_walk_peak(24_000)
    assert long < 1.5 * short
