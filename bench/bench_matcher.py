"""Matcher benchmark: candidate blocks over ~20M blocks of bloom sections, against naive scans.

    python -m bench.bench_matcher [--sections 4883] [--workdir DIR] [--keep] [--repeats 7]

For each fill (saturated 44%, sparse 5%) a synthetic chain (bench/bloom_chain.py) is stored
twice: as LevelDB sections (real Generator rotation, compression, SectionStore) and as a flat
file of header blooms. The directories are reused across runs when present and deleted at
the end unless ``--keep`` (or ``--workdir`` pointing at a directory to keep) is given.

Queries: (a) one address; (b) one address AND one topic; (c) 10 addresses ORed AND two topic
positions. Each is timed to produce *all* candidate blocks as arrays (``session.batches()``):

* cold: LevelDB reopened, its files evicted from the page cache, fresh retriever and matcher;
* warm: files in the page cache, a fresh matcher every run, no value cache ("CPU": the
  process CPU time of those runs, all threads, less disturbed by other load than wall time);
  "bitsets" stops at the batches' bitsets instead of listing every candidate's number;
* cached: the same query repeated with a shared :class:`~bloombits.ValueCache` (steady state);
* naive: every header bloom of the flat file checked, vectorized with numpy in 64k-block reads
  (the fastest way to check every bloom; warm, and cold once);
* naive (Python): a per-header ``bloom_contains`` loop over the whole chain (or the first
  ``--python-sections``; the speed-up is then per block scanned).

The matcher's candidates are checked equal to the naive scan's before anything is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

from bench.bloom_chain import ADDRESSES, FILLS, SECTION_SIZE, TOPICS, ChainSpec, build_chain
from bench.common import Table, machine
from bloombits.arrays import I64
from bloombits.bloom import BLOOM_BYTE_LENGTH, bloom_contains, blooms_contain
from bloombits.matcher import Matcher
from bloombits.retrieval import VectorBatch
from bloombits.valuecache import ValueCache
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import LevelDBStore, SectionStore, open_datadir

Filters = list[list[bytes]]

QUERIES: dict[str, Filters] = {
    "(a) 1 address": [[ADDRESSES[0]]],
    "(b) 1 address + 1 topic": [[ADDRESSES[0]], [TOPICS[0]]],
    "(c) 10 addresses + 2 topics": [list(ADDRESSES), [TOPICS[0]], [TOPICS[1]]],
}

NAIVE_CHUNK = 1 << 16
"""Blocks per read in the vectorized naive scan."""


# --- the two ways to find candidates --------------------------------------------------------


async def match(
    sections: SectionStore,
    retriever: SectionRetriever,
    filters: Filters,
    blocks: int,
    cache: ValueCache | None = None,
    *,
    numbers: bool = True,
) -> I64:
    """All candidate blocks of ``0 .. blocks - 1``, through the matcher, as block numbers
    (or, with ``numbers=False``, left as the batches' bitsets: an empty array returned)."""
    matcher = Matcher(sections.section_size, filters, cache=cache)
    parts = []
    async with matcher.start(0, blocks - 1, retriever) as session:
        async for batch in session.batches():
            if numbers:
                parts.append(batch.numbers)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def naive_scan(path: Path, filters: Filters, blocks: int) -> I64:
    """Every header bloom read from the flat file and checked (numpy, a chunk at a time)."""
    parts = []
    buffer = np.empty((NAIVE_CHUNK, BLOOM_BYTE_LENGTH), dtype=np.uint8)
    with open(path, "rb", buffering=0) as flat:
        for start in range(0, blocks, NAIVE_CHUNK):
            count = flat.readinto(buffer.reshape(-1).data) // BLOOM_BYTE_LENGTH
            blooms = buffer[:count]
            matches = np.ones(count, dtype=np.bool_)
            for group in filters:
                any_value = np.zeros(count, dtype=np.bool_)
                for value in group:
                    any_value |= blooms_contain(blooms, value)
                matches &= any_value
            parts.append(np.flatnonzero(matches) + start)
    return np.concatenate(parts)


def naive_python(path: Path, filters: Filters, blocks: int) -> int:
    """The textbook loop: read each header's bloom, ``bloom_contains`` each value."""
    found = 0
    with open(path, "rb") as flat:
        for _ in range(blocks):
            bloom = flat.read(BLOOM_BYTE_LENGTH)
            if all(any(bloom_contains(bloom, v) for v in group) for group in filters):
                found += 1
    return found


# --- measurement helpers ---------------------------------------------------------------------


def evict(path: Path) -> None:
    """Drop ``path`` (a file, or every file under a directory) from the page cache."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def timed(run: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``run()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def atimed(run: Callable[[], Awaitable[object]], repeats: int) -> float:
    """Median seconds of ``await run()``."""
    return (await atimed_cpu(run, repeats))[0]


async def atimed_cpu(run: Callable[[], Awaitable[object]], repeats: int) -> tuple[float, float]:
    """Median wall seconds and median process CPU seconds (all threads) of ``await run()``."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        await run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


class Chain:
    """An open synthetic chain: its section store, retriever and flat bloom file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.flat = directory / "blooms.bin"
        self.store: LevelDBStore = open_datadir(directory / "sections")
        self.sections = SectionStore(self.store, SECTION_SIZE)
        self.retriever = SectionRetriever(self.sections)
        self.blocks = self.sections.count() * SECTION_SIZE

    def reopen_cold(self) -> None:
        """Close everything, evict the files from the page cache, open again."""
        self.close()
        evict(self.directory / "sections")
        self.store = open_datadir(self.directory / "sections")
        self.sections = SectionStore(self.store, SECTION_SIZE)
        self.retriever = SectionRetriever(self.sections)

    def close(self) -> None:
        self.retriever.close()
        self.store.close()


# --- the benchmark ---------------------------------------------------------------------------


async def bench_fill(name: str, chain: Chain, repeats: int) -> dict[str, float]:
    """The main table; returns the warm median seconds per query."""
    table = Table(
        f"{name}: all candidates of {chain.blocks:,} blocks ({chain.blocks // SECTION_SIZE} "
        "sections), median ms",
        [
            "query",
            "candidates",
            "density",
            "cold",
            "warm",
            "warm CPU",
            "warm, bitsets",
            "cached",
            "naive warm",
            "naive cold",
            "naive / warm",
        ],
    )
    warm_by_query = {}
    for query, filters in QUERIES.items():

        def run(
            cache: ValueCache | None = None, filters: Filters = filters, numbers: bool = True
        ) -> Awaitable[I64]:
            return match(
                chain.sections, chain.retriever, filters, chain.blocks, cache, numbers=numbers
            )

        def scan(filters: Filters = filters) -> I64:
            return naive_scan(chain.flat, filters, chain.blocks)

        expected = scan()
        got = await run()
        if not np.array_equal(got, expected):
            raise AssertionError(f"{query}: matcher and naive scan disagree")
        cold = []
        for _ in range(3):
            chain.reopen_cold()
            start = time.perf_counter()
            await run()
            cold.append(time.perf_counter() - start)
        await run()  # the page cache is warm again
        warm, warm_cpu = await atimed_cpu(run, repeats)
        warm_by_query[query] = warm
        bitsets = await atimed(lambda: run(numbers=False), repeats)
        cache = ValueCache(max_bytes=1 << 30, min_sections=1)
        for _ in range(3):  # seen twice, then stored, then served
            await run(cache)
        cached = await atimed(lambda cache=cache: run(cache), repeats)  # type: ignore[misc]
        naive_warm = timed(scan, 3)
        evict(chain.flat)
        naive_cold = timed(scan, 1)
        table.add(
            query,
            f"{len(got):,}",
            f"{len(got) / chain.blocks:.3%}",
            statistics.median(cold) * 1e3,
            warm * 1e3,
            warm_cpu * 1e3,
            bitsets * 1e3,
            cached * 1e3,
            naive_warm * 1e3,
            naive_cold * 1e3,
            f"{naive_warm / warm:.0f}x",
        )
    table.print()
    return warm_by_query


def bench_python_naive(chain: Chain, sections: int | None, warm: dict[str, float]) -> None:
    blocks = chain.blocks if sections is None else min(chain.blocks, sections * SECTION_SIZE)
    table = Table(
        f"Per-header Python loop (read a bloom, bloom_contains) over {blocks:,} blocks, warm",
        ["query", "seconds", "blocks/s", "matcher warm speed-up"],
    )
    for query, filters in QUERIES.items():
        seconds = timed(lambda f=filters: naive_python(chain.flat, f, blocks), 1)  # type: ignore[misc]
        speedup = seconds / warm[query] * chain.blocks / blocks
        table.add(query, seconds, f"{blocks / seconds:,.0f}", f"{speedup:,.0f}x")
    table.print()


class CountingRetriever:
    """Counts the retrievals it passes on."""

    def __init__(self, inner: SectionRetriever) -> None:
        self.inner = inner
        self.calls = 0

    async def retrieve(self, bit: int, sections: list[int]) -> VectorBatch:
        self.calls += 1
        return await self.inner.retrieve(bit, sections)


async def bench_batch_sizes(chain: Chain, sizes: Sequence[int], repeats: int) -> None:
    table = Table(
        "Query (c), warm, by sections per retrieval (median ms)", ["batch", "ms", "retrievals"]
    )
    filters = QUERIES["(c) 10 addresses + 2 topics"]
    for size in sizes:
        counting = CountingRetriever(chain.retriever)

        async def run(size: int = size, counting: CountingRetriever = counting) -> I64:
            matcher = Matcher(SECTION_SIZE, filters)
            parts = []
            async with matcher.start(0, chain.blocks - 1, counting, batch=size) as session:
                async for batch in session.batches():
                    parts.append(batch.numbers)
            return np.concatenate(parts)

        seconds = await atimed(run, repeats)
        table.add(size, seconds * 1e3, counting.calls // repeats)
    table.print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=4883, help="sections per chain")
    parser.add_argument("--workdir", type=Path, help="where the chains are built (reused)")
    parser.add_argument("--keep", action="store_true", help="keep the chains afterwards")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--python-sections", type=int, help="limit the per-header Python loop (default: all)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / "logfilter-bench-matcher"
    print(f"Machine: {machine()}\n")
    try:
        for index, (name, fill) in enumerate(FILLS.items()):
            directory = workdir / f"fill-{fill:.4f}-{args.sections}"
            started = time.perf_counter()
            build_chain(directory, ChainSpec(fill=fill, sections=args.sections, seed=index + 1))
            print(f"{name}: chain ready in {time.perf_counter() - started:.0f} s\n", flush=True)
            chain = Chain(directory)
            try:
                warm = asyncio.run(bench_fill(name, chain, args.repeats))
                if index == 0:
                    sizes = [16, 64, 256, 1024, 4096]
                    asyncio.run(bench_batch_sizes(chain, sizes, args.repeats))
                bench_python_naive(chain, args.python_sections, warm)
            finally:
                chain.close()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
