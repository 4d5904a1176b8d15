"""``logfilter backfill`` (2 workers) against a plain ``logfilter sync`` of the same blocks.

Both are the real commands in subprocesses, reading a chain archive written beforehand by
``logfilter generate`` (a synthetic chain streamed with ``synthetic:`` would not do: its
block hashes chain from block 0, so every worker would generate all blocks below its
segment). This measures the CPU side: parsing, validation (hashes, receipts roots),
storing, sections, exact index; no network. For each case: the wall time of each command (median of
``--repeats`` runs), the speedup, the rate per worker, and the peak RSS of each backfill
worker process (``VmHWM`` of every descendant of the command, sampled every 0.2 s). Prints a
table, with the load average before each run.

    logfilter generate --blocks 16384 --headers-only --seed 1 --out sat-h.jsonl
    logfilter generate --blocks 20480 --fill sparse --seed 1 --out sparse.jsonl
    python -m bench.bench_backfill --headers-archive sat-h.jsonl --full-archive sparse.jsonl
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One command's wall time, and the peak RSS (MiB) of each of its worker processes."""

    seconds: float
    workers_mib: list[float]
    load: float


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


def _run(argv: list[str]) -> Run:
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "rpc.cli", *argv], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    peaks: dict[int, float] = {}
    while process.poll() is None:
        for child in _descendants(process.pid):
            hwm = _hwm_mib(child)
            if hwm is not None:
                peaks[child] = max(peaks.get(child, 0.0), hwm)
        time.sleep(0.2)
    seconds = time.monotonic() - started
    assert process.stderr is not None
    err = process.stderr.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {err}")
    # Workers are the processes that grew past the interpreter's start-up size (the Dask
    # nanny/resource tracker stay small).
    workers = sorted((v for v in peaks.values() if v > 120), reverse=True)
    return Run(seconds, workers, load)


def _case(
    upstream: str, blocks: int, headers_only: bool, repeats: int, section: int, segment: int
) -> str:
    spec = upstream
    mode = ["--no-logs"] if headers_only else []
    common = ["--upstream", spec, "--section-size", str(section), "--confirmations", "0", *mode]
    plain: list[Run] = []
    back: list[Run] = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            datadir = str(Path(tmp) / "dd")
            plain.append(_run(["sync", *common, "--datadir", datadir, "--no-follow"]))
            shutil.rmtree(datadir)
            argv = [
                "backfill", *common, "--datadir", datadir, "--to-block", str(blocks - 1),
                "--segment-blocks", str(segment), "--workers", "2",
            ]  # fmt: skip
            back.append(_run(argv))
    p = statistics.median(r.seconds for r in plain)
    b = statistics.median(r.seconds for r in back)
    rss = max((max(r.workers_mib, default=0.0) for r in back), default=0.0)
    loads = " / ".join(f"{r.load:.1f}" for r in plain + back)
    per_worker = blocks / b / 2
    return (
        f"| {'headers only' if headers_only else 'full'} | {blocks:,} | {p:.1f} | {b:.1f} | "
        f"{p / b:.2f}x | {blocks / p:.0f} | {per_worker:.0f} | {rss:.0f} | {loads} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--headers-archive", metavar="FILE",
        help="chain archive for the headers-only case (`logfilter generate --headers-only`)",
    )  # fmt: skip
    parser.add_argument("--full-archive", metavar="FILE", help="chain archive for the full case")
    parser.add_argument("--section-size", type=int, default=512)
    parser.add_argument("--segment-blocks", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(
        "| mode | blocks | plain sync s | backfill (2 workers) s | speedup | plain blocks/s "
        "| backfill blocks/s per worker | peak RSS per worker MiB | load (1 min) per run |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for archive, headers_only in ((args.headers_archive, True), (args.full_archive, False)):
        if archive:
            with open(archive, "rb") as f:
                blocks = sum(1 for _ in f)
            case = _case(
                archive, blocks, headers_only, args.repeats, args.section_size,
                args.segment_blocks,
            )  # fmt: skip
            print(case, flush=True)


if __name__ == "__main__":
    main()
