"""``serve --processes N``: small ``eth_getLogs`` requests/s with 1 and with 2 processes.

    python -m bench.bench_processes [--duration S] [--repeats N] [--datadir DIR]

The data directory is the README's backfill example (a 5,000-block sparse synthetic chain,
seed 3: blocks 0..4095 backfilled into 4 sealed segments of 1,024 blocks, sections of 512,
then 4096..4999 synced into the head store), built once with the ``logfilter`` commands
(kept in ``--datadir`` when given). The server is ``logfilter serve --no-sync
--processes N`` in its own processes on 127.0.0.1; the load is ``wrk`` (1 thread, 32
connections, the Lua script of :mod:`bench.bench_rpc` cycling 64 bodies) on the same cores.
Figures are medians of ``--repeats`` runs of ``--duration`` seconds. Beside requests/s, the
CPU time the server's processes spent per request (user + system, from ``/proc``): unlike
requests/s it does not depend on the share of the cores other work leaves the server.

* small queries of the sealed history: a contract address over a 32-block window (a few
  logs), 64 windows in blocks 0..4095 — a reader answers these itself;
* the same over the head store (blocks 4096..4999) — a reader forwards these to the writer,
  so they measure the cost of the extra hop, not a gain.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bench.bench_rpc import call_body, median_runs, timed_call, wrk
from bench.common import Table, machine
from tests.rpc.serve import ServeProcess

SPEC = "synthetic:sparse?blocks=5000&seed=3"
SEALED_TO = 4095
BLOCKS = 5000
WINDOW = 32


def _logfilter(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rpc.cli", *args], check=True, capture_output=True)


def build(datadir: Path) -> None:
    """The README's backfill example, unless ``datadir`` already holds it."""
    if (datadir / "manifest.json").exists() and (datadir / "CURRENT").exists():
        return
    _logfilter(
        "backfill", "--upstream", SPEC, "--datadir", str(datadir), "--to-block", str(SEALED_TO),
        "--section-size", "512", "--segment-blocks", "1024", "--workers", "2",
    )  # fmt: skip
    _logfilter(
        "sync", "--upstream", SPEC, "--datadir", str(datadir), "--section-size", "512",
        "--confirmations", "0", "--no-follow",
    )  # fmt: skip


def _result(port: int, body: bytes) -> Any:
    _, answer = timed_call(port, body)
    return orjson.loads(answer)["result"]


def queries(port: int, first: int, last: int, wanted: int = 64) -> list[bytes]:
    """``wanted`` small queries: an address seen in a 32-block window of ``first..last``."""
    rng = random.Random(7)
    out: list[bytes] = []
    while len(out) < wanted:
        start = rng.randrange(first, last - WINDOW)
        window = {"fromBlock": hex(start), "toBlock": hex(start + WINDOW - 1)}
        logs = _result(port, call_body("eth_getLogs", window))
        if logs:
            address = rng.choice(logs)["address"]
            out.append(call_body("eth_getLogs", {**window, "address": address}))
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (the readers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _measured(server: ServeProcess, requests: list[bytes], duration: float, tmp: Path) -> Any:
    """One wrk run, with the server's CPU ms per request (all its processes)."""
    before = _cpu_seconds(server.pid)
    figures = wrk(server.url, requests, duration, tmp)
    spent = _cpu_seconds(server.pid) - before
    return {**figures, "cpu_ms": 1e3 * spent / (figures["rps"] * duration)}


def _wait_readers(server: ServeProcess, processes: int) -> None:
    while processes > 1:
        process = _result(server.port, call_body("logfilter_status"))["process"]
        if process["role"] == "writer" and process["readers"] == processes - 1:
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datadir", type=Path)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        datadir = args.datadir or tmp / "bf"
        build(datadir)
        table = Table(
            f"Small eth_getLogs at 32 connections (wrk), {args.duration:g} s x {args.repeats}",
            [
                "queries",
                "--processes",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/request",
                "load before",
            ],
        )
        bodies: dict[str, list[bytes]] = {}
        for processes in (1, 2):
            with ServeProcess("--datadir", str(datadir), "--no-sync",
                              "--processes", str(processes)) as server:  # fmt: skip
                _wait_readers(server, processes)
                if not bodies:
                    bodies["sealed history (0..4095)"] = queries(server.port, 0, SEALED_TO)
                    bodies["head store (4096..4999)"] = queries(server.port, SEALED_TO + 1, BLOCKS)
                for label, requests in bodies.items():
                    load = Path("/proc/loadavg").read_text().split()[0]
                    wrk(server.url, requests, 2.0, tmp)  # warm-up
                    figures = median_runs(
                        partial(_measured, server, requests, args.duration, tmp), args.repeats
                    )
                    table.add(
                        label, processes, round(figures["rps"]), figures["p50"], figures["p99"],
                        figures["cpu_ms"], load,
                    )  # fmt: skip
        table.print()


if __name__ == "__main__":
    main()
