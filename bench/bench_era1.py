"""era1 files against the JSON chain archive as a sync source, on the fixture chain.

    python -m bench.bench_era1 [--repeats N]

The execution-apis fixture chain's pre-merge blocks (0..35: 177 transactions, 276 logs,
block 2 carrying 10.6 MB of log data) are
written once as one era1 file and as the chain archive of the same blocks. Measured, median
of ``--repeats`` runs each, CPU time of this process (``process_time``) and wall time:

* read: every block with its logs from the source, validated (``blocks(0, 35)``; for era1
  the first read of a file also checks it whole: framing, snappy, accumulator);
* sync: the whole sync into a fresh LevelDB (section size 8, confirmations 0), reading,
  validating, storing, sections.

File sizes are printed beside (the era1 file is snappy-compressed; the archive is JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.common import Table, machine
from chainindex.source import SourceOptions, open_source
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from tests.chainindex.source.era1.era1_chain import (
    CHAIN_ID,
    write_archive_prefix,
    write_fixture_era1,
)


async def _read(upstream: str) -> None:
    async with open_source(upstream, SourceOptions(chain_id=CHAIN_ID)) as source:
        blocks = await source.blocks(0, 35, with_logs=True)
    assert len(blocks) == 36


async def _sync(upstream: str, datadir: Path) -> None:
    store = open_datadir(datadir)
    try:
        async with open_source(upstream, SourceOptions(chain_id=CHAIN_ID)) as source:
            config = SyncConfig(section_size=8, confirmations=0, follow=False, chain_id=CHAIN_ID)
            indexer = ChainIndexer(store, source, config)
            await indexer.run()
            assert indexer.status.synced_head == 35
    finally:
        store.close()


def _timed(make: Callable[[], Awaitable[None]], repeats: int) -> tuple[float, float]:
    """Median (CPU ms, wall ms) of ``repeats`` runs of ``make()``."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        asyncio.run(make())  # type: ignore[arg-type]
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start\n")
    with tempfile.TemporaryDirectory(prefix="bench-era1-") as tmp:
        root = Path(tmp)
        (era1_file,) = write_fixture_era1(root / "era1")
        archive = write_archive_prefix(root / "chain.jsonl")
        sources = {
            f"era1 ({era1_file.stat().st_size:,} bytes)": f"era1:{root / 'era1'}",
            f"JSON archive ({archive.stat().st_size:,} bytes)": str(archive),
        }
        table = Table(
            "Blocks 0..35 of the execution-apis chain, median ms",
            ["source", "read CPU", "read wall", "sync CPU", "sync wall"],
        )
        runs = iter(range(1_000_000))
        for label, upstream in sources.items():
            read = _timed(lambda u=upstream: _read(u), args.repeats)  # type: ignore[misc]
            sync = _timed(
                lambda u=upstream: _sync(u, root / f"dd{next(runs)}"),  # type: ignore[misc]
                args.repeats,
            )
            table.add(label, *read, *sync)
        table.print()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
