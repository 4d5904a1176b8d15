"""Requests/s of small ``eth_getLogs`` answers from one server process, by query path (wrk).

    python -m bench.exact_wrk [--blocks 100000] [--fills sparse,saturated] [--duration 8]

The chains are :mod:`bench.bench_exact`'s (synced by :func:`bench.exact_setup.sync_chain`,
reused from ``--out``). Per chain, queries over 1,000-block windows are drawn at random
(fixed seed) from two forms: a contract's address alone (ranks 0..999) and a contract's
``Transfer`` logs to one holder (``[Transfer, null, holder]``, contract ranks 0..99, holder
ranks 0..199); each is asked once of a server on the exact path and kept by the size of its
answer: ``1-10`` logs and ``11-100`` logs, 64 queries each (fewer when 4,000 draws do not
find them). Each bucket is then replayed by ``wrk`` (1 thread, 32 connections, the bodies
cycled: :func:`bench.bench_rpc.wrk`) against one ``logfilter serve --no-sync`` per query
path; figures are the median of ``--repeats`` runs. Beside requests/s the table gives the
server's CPU per request (its utime + stime over the run, from ``/proc``), which carries
over to a quieter machine better than requests/s when the 2 cores are shared.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
from pathlib import Path

import orjson

from bench.bench_exact import PATH_FLAG, SERVE_LIMITS, body_of, load_average
from bench.bench_rpc import wrk
from bench.common import Table, machine
from bench.e2e_chain import TRANSFER, Query
from bench.exact_setup import REPO, SEED, BenchChain, sync_chain
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape
from tests.rpc.serve import ServeProcess

BUCKETS = ((1, 10), (11, 100))
"""Answer sizes measured (logs, inclusive)."""
WINDOW = 1_000
"""Blocks per query."""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def draw(gen: ChainGenerator, rng: random.Random, blocks: int) -> Query:
    """One random query of the two forms (see the module), without its window."""
    if rng.random() < 0.5:
        return Query("address", (gen.contract(rng.randrange(1000)),), (), 0.0)
    holder = b"\x00" * 12 + gen.holder(rng.randrange(200))
    return Query("transfers", (gen.contract(rng.randrange(100)),), (TRANSFER, None, holder), 0.0)


def pick_bodies(chain: BenchChain, srv: ServeProcess, wanted: int = 64) -> dict[str, list[bytes]]:
    """Per bucket, up to ``wanted`` request bodies whose answers have that many logs."""
    gen = ChainGenerator(ChainShape(fill=FILL_PRESETS[chain.fill]), seed=SEED)
    rng = random.Random(7)
    found: dict[str, list[bytes]] = {f"{lo}-{hi}": [] for lo, hi in BUCKETS}
    for _ in range(4000):
        if all(len(b) >= wanted for b in found.values()):
            break
        first = rng.randrange(0, chain.blocks - WINDOW)
        body = body_of(draw(gen, rng, chain.blocks), first, first + WINDOW - 1)
        status, raw = srv.post(body)
        answer = orjson.loads(raw)
        if status != 200 or "error" in answer:
            raise RuntimeError(f"eth_getLogs failed: {status} {raw[:300]!r}")
        logs = len(answer["result"])
        for lo, hi in BUCKETS:
            bucket = found[f"{lo}-{hi}"]
            if lo <= logs <= hi and len(bucket) < wanted:
                bucket.append(body)
    return found


def measure(srv: ServeProcess, bodies: list[bytes], args: argparse.Namespace,
            tmp: Path) -> dict[str, float]:  # fmt: skip
    """Median over ``--repeats`` wrk runs: requests/s, p50, p99 and server CPU ms/request."""
    runs = []
    for _ in range(args.repeats):
        cpu = cpu_seconds(srv.pid)
        result = wrk(f"http://127.0.0.1:{srv.port}/", bodies, args.duration, tmp, timeout=30)
        used = cpu_seconds(srv.pid) - cpu
        result["cpu_ms"] = used / (result["rps"] * args.duration) * 1e3
        runs.append(result)
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100_000)
    parser.add_argument("--fills", default="sparse,saturated")
    parser.add_argument("--paths", default="exact,bloom")
    parser.add_argument("--section-size", type=int, default=4096)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query-threads", default="1", help="serve's --query-threads")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "exact")
    args = parser.parse_args(argv)
    table = Table(
        f"Small eth_getLogs answers, {WINDOW:,}-block windows, wrk 1 thread 32 connections "
        f"(median of {args.repeats} runs of {args.duration:g} s)",
        ["chain", "logs per answer", "queries", "path", "requests/s", "p50 ms", "p99 ms",
         "server CPU ms/request", "load average"],
    )  # fmt: skip
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        for fill in [f.strip() for f in args.fills.split(",") if f.strip()]:
            chain = sync_chain(args.out, fill, args.blocks, args.section_size)
            flags = ["--datadir", str(chain.datadir), "--no-sync", *SERVE_LIMITS,
                     "--section-size", str(chain.section_size),
                     "--query-threads", args.query_threads]  # fmt: skip
            with ServeProcess(*flags, PATH_FLAG, "exact") as srv:
                buckets = pick_bodies(chain, srv)
            for path in paths:
                with ServeProcess(*flags, PATH_FLAG, path) as srv:
                    for name, bodies in buckets.items():
                        if not bodies:
                            continue
                        before = load_average()
                        got = measure(srv, bodies, args, Path(tmp))
                        load = f"{before} → {load_average()}"
                        table.add(chain.name, name, len(bodies), path, got["rps"], got["p50"],
                                  got["p99"], got["cpu_ms"], load)  # fmt: skip
    print(machine())
    print(table.render(), flush=True)


if __name__ == "__main__":
    main()
