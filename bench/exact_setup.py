"""The chains and queries of :mod:`bench.bench_exact`: synced from the synthetic source.

A chain is (fill, blocks) of :mod:`chainindex.synthetic` with seed 1, synced with its logs
by ``logfilter sync --upstream synthetic:FILL?blocks=N&seed=1`` (no archive on disk) into
``OUT/data/FILL-N``; a finished sync leaves ``bench.json`` there (the spec, sync seconds, the
sync's peak RSS), and a later run with the same spec reuses the directory.

The queries, values picked by popularity rank from the generator (as :mod:`bench.e2e_chain`):

* ``rare address``: the most popular contract expected to log at most once per 1,000 blocks;
* ``common address``: the contract of rank 0;
* ``AND of common values``: rank 0's ``Transfer`` logs to the top holder
  (``[Transfer, null, holder 0]``), common each, together in about half the blocks;
* ``10 addresses + 2 topics``: contracts of ranks 0, 1, 2, 5, 10, 20, 50, 100, 200, 500 with
  ``Transfer`` at position 0 and holder 0 at position 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.e2e_chain import TRANSFER, Query
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape

REPO = Path(__file__).resolve().parent.parent
SEED = 1
TEN_RANKS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)


@dataclass(frozen=True)
class BenchChain:
    """One synced chain of the benchmark."""

    fill: str
    blocks: int
    datadir: Path
    section_size: int
    sync_seconds: float
    """Wall time of the sync (of the run that made the directory)."""
    sync_peak_mib: float
    """Peak RSS of that sync process."""

    @property
    def name(self) -> str:
        return f"{self.fill} {self.blocks:,}"

    def window(self, length: int) -> tuple[int, int]:
        """The chain's last ``length`` blocks."""
        return self.blocks - length, self.blocks - 1


def spec(fill: str, blocks: int) -> str:
    """The ``--upstream`` of the chain."""
    return f"synthetic:{fill}?blocks={blocks}&seed={SEED}"


def sync_chain(out: Path, fill: str, blocks: int, section_size: int) -> BenchChain:
    """The chain synced into ``out/data`` (reused when a previous run finished it)."""
    datadir = out / "data" / f"{fill}-{blocks}-s{section_size}"
    marker = datadir / "bench.json"
    if marker.exists():
        done = json.loads(marker.read_text())
        if done.get("spec") == spec(fill, blocks):
            return BenchChain(fill, blocks, datadir, section_size, done["seconds"], done["peak"])
    subprocess.run(["rm", "-rf", str(datadir)], check=True)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "rpc.cli", "sync", "--upstream", spec(fill, blocks),
        "--datadir", str(datadir), "--no-follow", "--confirmations", "0",
        "--section-size", str(section_size), "--log-interval", "3600",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"sync of {spec(fill, blocks)} failed: {errors.decode()[-2000:]}")
    peak = usage.ru_maxrss / 1024
    marker.write_text(json.dumps({"spec": spec(fill, blocks), "seconds": seconds, "peak": peak}))
    return BenchChain(fill, blocks, datadir, section_size, seconds, peak)


def queries(fill: str) -> list[Query]:
    """The four queries of the chain (see the module)."""
    gen = ChainGenerator(ChainShape(fill=FILL_PRESETS[fill]), seed=SEED)
    mean = gen.mean_logs
    rare = next(r for r in range(gen.shape.contracts) if gen.contract_share(r) * mean <= 1e-3)
    common = gen.contract(0)
    holder = b"\x00" * 12 + gen.holder(0)
    common_rate = gen.contract_share(0) * mean
    return [
        Query("rare address", (gen.contract(rare),), (), gen.contract_share(rare) * mean),
        Query("common address", (common,), (), common_rate),
        Query("AND of common values", (common,), (TRANSFER, None, holder), common_rate),
        Query("10 addresses + 2 topics", tuple(gen.contract(r) for r in TEN_RANKS),
              (TRANSFER, None, holder), mean),
    ]  # fmt: skip
