"""``logfilter backfill`` (2 workers) against a plain ``logfilter sync`` of the same blocks.

Both are the real commands in subprocesses, reading a chain archive written beforehand by
``logfilter generate`` (a synthetic chain streamed with ``synthetic:`` would not do: its
block hashes chain from block 0, so every worker would generate all blocks below its
segment). This measures the CPU side: parsing, validation (hashes, receipts roots),
storing, sections, exact index; no network. For each case: the wall time of each command (median of
``--repeats`` runs), the speedup, the rate per worker, and the peak RSS of each backfill
worker process (``VmHWM`` of every process the command spawned, sampled every 0.2 s). Prints a
table, with the load average before each run; then, for the backfill, where its wall time
went (medians, from its progress lines timestamped as they arrive): start-up (interpreter,
imports, planning and the cluster's start, up to the "N segments" line), building (up to the
last segment sealed) and the end (links, manifest, the cluster's shutdown, process exit).

    logfilter generate --blocks 327680 --headers-only --seed 1 --out sat-h.jsonl
    logfilter generate --blocks 20480 --fill sparse --seed 1 --out sparse.jsonl
    python -m bench.bench_backfill --headers-archive sat-h.jsonl \
        --section-size 4096 --segment-blocks 16384 --repeats 3
    python -m bench.bench_backfill --full-archive sparse.jsonl --repeats 3

``--section-size`` and ``--segment-blocks`` set the layout (BENCHMARKS.md: 4096 and 16384
for headers only, 512 and 2048 for the full case); ``--workers`` the backfill's workers;
``--baseline DIR`` also runs the backfill of another source tree in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One command's wall time, and the peak RSS (MiB) of each of its worker processes."""

    seconds: float
    workers_mib: list[float]
    load: float
    started: float | None = None
    """Seconds to the backfill's "N segments" line (start-up done)."""
    built: float | None = None
    """Seconds to its last "sealed" line."""


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _hwm_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _is_worker(pid: int) -> bool:
    """A process started by multiprocessing's spawn (a Dask worker or a pool worker); not
    the resource tracker, which is started otherwise."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"spawn_main" in f.read()
    except OSError:
        return False


def _run(argv: list[str], source: Path = REPO) -> Run:
    """Run ``logfilter ARGV`` from the source tree ``source``."""
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(source)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "rpc.cli", *argv], cwd=source, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[tuple[float, str]] = []

    def read(stream: IO[bytes]) -> None:  # timestamps each stderr line as it arrives
        for raw in stream:
            lines.append((time.monotonic() - started, raw.decode(errors="replace")))

    reader = threading.Thread(target=read, args=(process.stderr,), daemon=True)
    reader.start()
    peaks: dict[int, float] = {}
    while process.poll() is None:
        for child in _descendants(process.pid):
            hwm = _hwm_mib(child) if child in peaks or _is_worker(child) else None
            if hwm is not None:
                peaks[child] = max(peaks.get(child, 0.0), hwm)
        time.sleep(0.2)
    seconds = time.monotonic() - started
    reader.join()
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {''.join(line for _, line in lines)}")
    workers = sorted(peaks.values(), reverse=True)
    begun = [t for t, line in lines if line.startswith("backfill:") and " segments (" in line]
    sealed = [t for t, line in lines if line.startswith("backfill: segment") and "sealed" in line]
    return Run(seconds, workers, load, begun[0] if begun else None, max(sealed, default=None))


def _median(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else float("nan")


def _phases(label: str, runs: list[Run], blocks: int, workers: int, plain: float) -> str:
    up = _median([r.started for r in runs])
    built = _median([None if r.built is None or r.started is None else r.built - r.started
                     for r in runs])  # fmt: skip
    end = _median([None if r.built is None else r.seconds - r.built for r in runs])
    return (
        f"| {label} | {up:.1f} | {built:.1f} | {end:.1f} | {blocks / built / workers:.0f} | "
        f"{plain / built:.2f}x |"
    )


def _case(
    upstream: str,
    blocks: int,
    headers_only: bool,
    args: argparse.Namespace,
) -> tuple[list[str], list[str]]:
    """Rows of the main table and of the phases table: plain sync and backfill, and the
    baseline's backfill when ``--baseline`` is given, each round running them in turn."""
    mode = ["--no-logs"] if headers_only else []
    common = [
        "--upstream", upstream, "--section-size", str(args.section_size),
        "--confirmations", "0", *mode,
    ]  # fmt: skip
    argv = [
        "backfill", *common, "--to-block", str(blocks - 1),
        "--segment-blocks", str(args.segment_blocks), "--workers", str(args.workers),
    ]  # fmt: skip
    sources = {"backfill": REPO} | ({} if args.baseline is None else {"baseline": args.baseline})
    plain: list[Run] = []
    back: dict[str, list[Run]] = {name: [] for name in sources}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            datadir = str(Path(tmp) / "dd")
            plain.append(_run(["sync", *common, "--datadir", datadir, "--no-follow"]))
            for name, source in sources.items():
                shutil.rmtree(datadir)
                back[name].append(_run([*argv, "--datadir", datadir], source))
    p = statistics.median(r.seconds for r in plain)
    label = "headers only" if headers_only else "full"
    rows, phases = [], []
    for name, runs in back.items():
        b = statistics.median(r.seconds for r in runs)
        rss = max((max(r.workers_mib, default=0.0) for r in runs), default=0.0)
        loads = (
            " / ".join(f"{r.load:.1f}" for r in plain)
            + "; "
            + " / ".join(f"{r.load:.1f}" for r in runs)
        )
        tag = label if name == "backfill" else f"{label}, baseline {args.baseline}"
        rows.append(
            f"| {tag} | {blocks:,} | {p:.1f} | {b:.1f} | {p / b:.2f}x | {blocks / p:.0f} | "
            f"{blocks / b / args.workers:.0f} | {rss:.0f} | {loads} |"
        )
        phases.append(_phases(tag, runs, blocks, args.workers, p))
    return rows, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--headers-archive", metavar="FILE",
        help="chain archive for the headers-only case (`logfilter generate --headers-only`)",
    )  # fmt: skip
    parser.add_argument("--full-archive", metavar="FILE", help="chain archive for the full case")
    parser.add_argument("--section-size", type=int, default=512)
    parser.add_argument("--segment-blocks", type=int, default=2048)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--baseline", type=Path, metavar="DIR",
        help="another source tree (e.g. `git archive main | tar -x -C DIR`) whose backfill "
        "runs in the same rounds, for a before/after ratio under the same load",
    )  # fmt: skip
    args = parser.parse_args()
    print(
        f"| mode | blocks | plain sync s | backfill ({args.workers} workers) s | speedup "
        "| plain blocks/s | backfill blocks/s per worker | peak RSS per worker MiB "
        "| load (1 min) per run: plain; backfill |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    phases = []
    for archive, headers_only in ((args.headers_archive, True), (args.full_archive, False)):
        if archive:
            with open(archive, "rb") as f:
                blocks = sum(1 for _ in f)
            rows, phase = _case(archive, blocks, headers_only, args)
            print("\n".join(rows), flush=True)
            phases.extend(phase)
    print()
    print(
        "| mode | backfill start-up s | building s | end s | built blocks/s per worker "
        "| plain sync s / building s |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(phases))


if __name__ == "__main__":
    main()
