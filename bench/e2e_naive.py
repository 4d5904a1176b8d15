"""Baselines of the end-to-end suite that read the data directory directly (no server).

* :func:`naive_scan`: what a log filter without bloom sections does (geth's unindexed path):
  read every header's ``logsBloom`` of the range from the same LevelDB (one range scan per
  4,096 headers), test the query against each bloom, then verify each candidate block by
  reading its stored logs and checking every log in plain Python. The bloom test is
  vectorised with numpy over the headers of a chunk (three byte/mask tests per value); it is
  written here, apart from the service's code, so that it doubles as the reference answer.
* :func:`matcher_candidates`: the service's bloom-section path alone, in-process
  (:class:`bloombits.Matcher` over :class:`chainindex.filters.retriever.SectionRetriever`), for
  chains whose logs exist nowhere (headers-only archives): candidate blocks only.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.e2e_chain import Query
from bloombits.bitutil import compress_many
from bloombits.bloom import bloom_indexes
from bloombits.generator import Generator
from bloombits.matcher import Matcher
from chainindex.filters.retriever import SectionRetriever
from chainindex.store import SectionStore, open_datadir
from chainindex.store.leveldb import LevelDBStore
from chainindex.store.reader import ChainView

CHUNK = 4096
"""Headers read per range scan."""

LogKey = tuple[int, int]
"""(block number, log index): what identifies a log across systems."""


@dataclass
class NaiveAnswer:
    """One naive run."""

    seconds: float
    candidates: int
    """Blocks whose bloom passed."""
    matched: int
    """Candidate blocks holding a matching log."""
    logs: list[LogKey] = field(default_factory=list)
    full: list[tuple[int, int, bytes, tuple[bytes, ...], bytes]] = field(default_factory=list)
    """(number, log index, address, topics, data) of every log found."""


def _bloom_test(blooms: npt.NDArray[np.uint8], groups: list[list[bytes]]) -> npt.NDArray[np.bool_]:
    """Rows of ``blooms`` that may hold the query: every group has a value all of whose three
    bits are set (bit b is byte ``255 - b // 8``, mask ``1 << (b % 8)``)."""
    keep = np.ones(len(blooms), dtype=np.bool_)
    for group in groups:
        any_value = np.zeros(len(blooms), dtype=np.bool_)
        for value in group:
            has = np.ones(len(blooms), dtype=np.bool_)
            for bit in bloom_indexes(value):
                has &= (blooms[:, 255 - bit // 8] & (1 << (bit % 8))) != 0
            any_value |= has
        keep &= any_value
    return keep


def _log_matches(query: Query, address: bytes, topics: tuple[bytes, ...]) -> bool:
    if query.addresses and address not in query.addresses:
        return False
    if len(topics) < len(query.topics):
        return False
    return all(want is None or want == got for want, got in zip(query.topics, topics, strict=False))


def naive_scan(
    store: LevelDBStore,
    query: Query,
    first: int,
    last: int,
    *,
    verify: bool = True,
    section_size: int = 4096,
) -> NaiveAnswer:
    """The query over ``first..last`` by the per-header scan (see the module); the
    directory's ``section_size`` only opens it (no section is read)."""
    view = ChainView(store, SectionStore(store, section_size))
    groups = query.groups
    started = time.perf_counter()
    answer = NaiveAnswer(0.0, 0, 0)
    for lo in range(first, last + 1, CHUNK):
        run = view.blooms(lo, min(last, lo + CHUNK - 1))
        for row in np.flatnonzero(_bloom_test(run.blooms, groups)):
            answer.candidates += 1
            if not verify:
                continue
            header = view.header(run.first + int(row))
            assert header is not None
            logs = view.logs(header)
            assert logs is not None, "naive scan needs stored logs"
            found = False
            for log in logs:
                if _log_matches(query, log.address, log.topics):
                    found = True
                    answer.logs.append((log.block_number, log.log_index))
                    answer.full.append(
                        (log.block_number, log.log_index, log.address, log.topics, log.data)
                    )
            answer.matched += found
    answer.seconds = time.perf_counter() - started
    return answer


def open_store(datadir: Path) -> LevelDBStore:
    return open_datadir(datadir)


async def _candidates(retriever: SectionRetriever, size: int, query: Query, first: int,
                      last: int) -> int:  # fmt: skip
    count = 0
    async with Matcher(size, query.groups).start(first, last, retriever) as session:
        async for batch in session.batches():
            count += len(batch.numbers)
    return count


def matcher_candidates(
    store: LevelDBStore, query: Query, first: int, last: int
) -> tuple[float, int]:
    """(seconds, candidate blocks) of the service's bloom path alone over ``first..last``: the
    matcher over the stored sections (a fresh matcher, no value cache), then the header
    blooms of the blocks above the last section (as the service scans them)."""
    sections = SectionStore(store, 4096)
    indexed_until = ChainView(store, sections).state().indexed_until
    retriever = SectionRetriever(sections)
    try:
        started = time.perf_counter()
        count = 0
        if first <= indexed_until:
            end = min(last, indexed_until)
            count = asyncio.run(_candidates(retriever, 4096, query, first, end))
        if last > indexed_until:
            lo = max(first, indexed_until + 1)
            count += naive_scan(store, query, lo, last, verify=False).candidates
        return time.perf_counter() - started, count
    finally:
        retriever.close()


def section_build_seconds(store: LevelDBStore) -> tuple[int, float]:
    """(sections, median seconds per section) to rebuild each stored section from the stored
    header blooms: one range scan of 4,096 headers, :class:`bloombits.Generator` (rotation)
    and the compression of its 2048 vectors; the LevelDB write is not included."""
    sections = SectionStore(store, 4096)
    view = ChainView(store, sections)
    count = view.state().sections
    times = []
    for section in range(count):
        started = time.perf_counter()
        run = view.blooms(section * 4096, section * 4096 + 4095)
        generator = Generator(4096)
        generator.add_blooms(0, run.blooms)
        compress_many(generator.vectors())
        times.append(time.perf_counter() - started)
    return count, float(np.median(times)) if times else float("nan")
