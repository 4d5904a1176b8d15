"""Synthetic chain generator benchmark: blocks/s, logs/s, bloom fill and file size per block.

    python -m bench.bench_chaingen [--blocks N] [--repeats N] [--out DIR]

Generates ``--blocks`` blocks (default 10,000) from genesis in four modes: sparse and
saturated fill, each as a full archive and headers-only. By default the archive goes to
/dev/null (the generator's speed, not the disk's); ``--out DIR`` writes real files there (and
deletes them). Rates are medians of ``--repeats`` runs, each with a fresh generator (its
construction, including the fill calibration, is timed separately, once, cold).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass

from bench.common import Table, machine
from chainindex.synthetic import (
    EVENTS,
    FILL_PRESETS,
    ChainGenerator,
    ChainShape,
    Ev,
    EventType,
    GenerationStats,
    logs_for_fill,
    write_archive,
)
from chainindex.synthetic.archive import Sink
from chainindex.synthetic.sampling import zipf_exponent_for, zipf_table

MODES = [
    ("sparse", FILL_PRESETS["sparse"], False),
    ("saturated", FILL_PRESETS["saturated"], False),
    ("sparse, headers only", FILL_PRESETS["sparse"], True),
    ("saturated, headers only", FILL_PRESETS["saturated"], True),
]


@dataclass
class Run:
    """One generation run."""

    seconds: float
    """Wall time of the write."""
    cpu: float
    """CPU time of the write (steadier than wall time on a shared machine)."""
    size: int
    """Bytes written."""
    stats: GenerationStats
    """What was generated."""
    generator: ChainGenerator
    """The generator (for its population and calibration)."""


def generate(shape: ChainShape, blocks: int, headers_only: bool, out_dir: str | None) -> Run:
    generator = ChainGenerator(shape, seed=1, headers_only=headers_only)
    if out_dir is None:
        with open(os.devnull, "wb") as sink:
            counter = _Counter(sink)
            start, cpu = time.perf_counter(), time.process_time()
            stats = write_archive(generator, counter, blocks)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        return Run(seconds, cpu, counter.size, stats, generator)
    path = os.path.join(out_dir, "chain.jsonl")
    start, cpu = time.perf_counter(), time.process_time()
    stats = write_archive(generator, path, blocks, overwrite=True)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = os.path.getsize(path)
    os.unlink(path)
    return Run(seconds, cpu, size, stats, generator)


class _Counter:
    """A binary sink that counts what goes through it."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.size = 0

    def write(self, data: bytes) -> object:
        self.size += len(data)
        return self._sink.write(data)


def distinct_values(shape: ChainShape, blocks: int = 300) -> float:
    """Mean number of distinct addresses and topics per block (genesis excluded)."""
    total = 0
    for record in ChainGenerator(shape, seed=2).records(blocks + 1):
        values = {
            value
            for receipt in record.get("receipts", [])
            for log in receipt["logs"]
            for value in (log["address"], *log["topics"])
        }
        total += len(values)
    return total / blocks


def _label(event: EventType) -> str:
    """The event's name, telling ERC-721's ``Transfer`` (token id indexed) from ERC-20's."""
    return f"{event.name} (ERC-721)" if event is EVENTS[Ev.TRANSFER_721] else event.name


def _clear_caches() -> None:
    """Forget calibrations and popularity tables, so that a setup is timed cold."""
    logs_for_fill.cache_clear()
    zipf_table.cache_clear()
    zipf_exponent_for.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="write real files in this directory (deleted after)")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    rates = Table(
        f"Generation from genesis, {args.blocks:,} blocks (median of {args.repeats})",
        [
            "mode",
            "blocks/s",
            "logs/s",
            "blocks/CPU-s",
            "logs/CPU-s",
            "logs/block",
            "mean fill",
            "bytes/block",
            "setup s (cold)",
        ],
    )
    shapes = Table(
        "Shape of the generated chains (one run each)",
        [
            "mode",
            "distinct values/block",
            "top 1% of contracts' share",
            "contracts used",
            "topic addresses",
            "events",
        ],
    )
    out_dir = tempfile.mkdtemp(prefix="lf-chaingen-", dir=args.out) if args.out else None
    try:
        for name, fill, headers_only in MODES:
            shape = ChainShape(fill=fill)
            _clear_caches()
            start = time.perf_counter()
            ChainGenerator(shape, seed=1, headers_only=headers_only)  # calibration, cold
            setup = time.perf_counter() - start
            runs = [
                generate(shape, args.blocks, headers_only, out_dir) for _ in range(args.repeats)
            ]
            seconds = statistics.median(r.seconds for r in runs)
            cpu = statistics.median(r.cpu for r in runs)
            run = runs[0]
            stats = run.stats
            rates.add(
                name,
                f"{stats.blocks / seconds:,.0f}",
                f"{stats.logs / seconds:,.0f}",
                f"{stats.blocks / cpu:,.0f}",
                f"{stats.logs / cpu:,.0f}",
                f"{stats.logs / stats.blocks:.1f}",
                f"{stats.fill:.1%}",
                f"{run.size / stats.blocks:,.0f}",
                f"{setup:.2f}",
            )
            mix = sorted(zip(EVENTS, stats.event_logs.tolist(), strict=True), key=lambda e: -e[1])[
                :4
            ]
            shapes.add(
                name,
                f"{distinct_values(shape):.0f}" if not headers_only else "(same)",
                f"{stats.top_contract_share():.3f}",
                f"{int((stats.contract_logs > 0).sum()):,}",
                f"{int(run.generator.population.holders.known.sum()):,}",
                ", ".join(f"{_label(e)} {n / stats.logs:.1%}" for e, n in mix),
            )
    finally:
        if out_dir is not None:
            os.rmdir(out_dir)
    rates.print()
    shapes.print()


if __name__ == "__main__":
    main()
