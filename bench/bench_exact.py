"""Query paths side by side over HTTP, on a saturated and a sparse chain synced with logs.

    python -m bench.bench_exact [--blocks 100000] [--paths auto] [--repeats 5] [--smoke]

Both chains come from the synthetic source (:mod:`bench.exact_setup`: ``logfilter sync
--upstream synthetic:FILL?blocks=N&seed=1``, no archive), cached under ``--out``. Each query
path is served by its own ``logfilter serve --no-sync`` (``--query-path PATH`` once the
service has that flag; until then the only path is the bloom one, served without it), and
asked four queries (:func:`bench.exact_setup.queries`) over the chain's last 1k, 10k and 100k
blocks (those the chain holds), by ``eth_getLogs`` on one keep-alive HTTP connection:

* **warm**: the same server, one untimed request first, then the median of ``--repeats``;
* **cold**: for each run a fresh server process, the page cache emptied first
  (``echo 1 > /proc/sys/vm/drop_caches``; when that is not permitted the table says so and
  cold means a fresh process only), one timed request after the server answered its first
  ``logfilter_status``; median of ``--cold-repeats``.

The naive scan (:func:`bench.e2e_naive.naive_scan`: every header bloom of the range, each
candidate's stored logs checked in Python) runs in this process once per query and range;
every path's answer must have its number of logs, or the run stops. ``--smoke`` is the
same at 2,000 blocks with sections of 256 blocks (what ``tests/bench`` runs).

Bounds that keep a run of 100k saturated blocks within minutes on a shared machine (each is
said in the table, never replaced by an estimate): a query whose answer is expected to exceed
``--max-logs`` logs (its answer at the range below, scaled by the lengths) is not asked at
that range, by any path; a query whose
untimed first request took more than ``--slow`` seconds gets one timed warm and one cold
run; the naive scan of a query is not run at a range once it took more than
``--naive-budget`` seconds at the range below.

The table also gives the cost per returned log beyond the fixed cost of a request, for
answers of 10,000 logs or more (issue 12's measure): (this query's warm time minus the
**fixed cost**) / (its logs minus the fixed cost's logs), where the fixed cost is the warm
time of the smallest answer of the chain and path (the rare address over the shortest
range: one or two logs). It is given twice: from wall times, and from the server's CPU time
per request (user + system, ``/proc/PID/stat``), which a loaded machine inflates less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.common import Table, machine
from bench.e2e_chain import Query
from bench.e2e_naive import naive_scan, open_store
from bench.exact_setup import REPO, BenchChain, queries, sync_chain
from tests.rpc.serve import ServeProcess

PATH_FLAG = "--query-path"
"""The serve flag that forces a query path."""
SERVE_LIMITS = ("--max-block-range", "0", "--max-results", "0", "--request-timeout", "600")
RANGES = (1_000, 10_000, 100_000)
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


@dataclass
class Row:
    """One query over one range of one chain."""

    chain: str
    query: str
    range: int
    logs: int = -1
    warm: dict[str, list[float]] = field(default_factory=dict)
    """Per path: the timed warm runs."""
    warm_cpu: dict[str, list[float]] = field(default_factory=dict)
    """Per path: the server's CPU seconds of each timed warm run."""
    cold: dict[str, list[float]] = field(default_factory=dict)
    """Per path: the timed cold runs."""
    naive: float | None = None
    slow: bool = False
    """Timed once warm and once cold (its first request took more than ``--slow``)."""
    skipped: str = ""
    """Why the query was not asked at this range (empty: it was)."""
    naive_note: str = ""
    """Why the naive scan was not run (empty: it was, or ``--no-naive``)."""


@dataclass
class Results:
    """Everything one run measured."""

    paths: list[str]
    chains: list[BenchChain] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    cold_note: str = ""
    loads: dict[str, str] = field(default_factory=dict)
    """Per chain: the load average before and after its measurements."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100_000, help="blocks per chain")
    parser.add_argument("--fills", default="saturated,sparse", help="chains, by bloom fill")
    parser.add_argument("--section-size", type=int, default=4096)
    parser.add_argument(
        "--paths", default="auto",
        help="query paths, comma-separated (auto: exact,bloom when serve has --query-path, "
        "else bloom)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=5, help="warm runs per query")
    parser.add_argument("--cold-repeats", type=int, default=3, help="cold runs per query")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive scan")
    parser.add_argument(
        "--max-logs",
        type=int,
        default=400_000,
        help="skip a query at a range expected to answer more logs",
    )
    parser.add_argument(
        "--slow",
        type=float,
        default=2.0,
        help="seconds of a first request above which one run is timed",
    )
    parser.add_argument(
        "--naive-budget",
        type=float,
        default=20.0,
        help="seconds of a naive scan above which longer ranges skip it",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "exact")
    parser.add_argument("--smoke", action="store_true", help="2,000 blocks, sections of 256")
    args = parser.parse_args(argv)
    if args.smoke:
        args.blocks, args.section_size = 2_000, 256
        args.repeats, args.cold_repeats = 1, 1
    return args


def query_paths(requested: str) -> tuple[list[str], bool]:
    """The paths to measure, and whether serve takes :data:`PATH_FLAG`."""
    usage = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "serve", "--help"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    supported = PATH_FLAG in usage
    if requested == "auto":
        return (["exact", "bloom"] if supported else ["bloom"]), supported
    paths = [p.strip() for p in requested.split(",") if p.strip()]
    if not supported and paths != ["bloom"]:
        raise SystemExit(f"logfilter serve has no {PATH_FLAG} yet: only --paths bloom works")
    return paths, supported


def drop_page_cache() -> bool:
    """Empty the page cache (after ``sync``); False when not permitted."""
    subprocess.run(["sync"], check=False)
    try:
        DROP_CACHES.write_text("1")
    except OSError:
        return False
    return True


def server(chain: BenchChain, path: str, flag: bool) -> ServeProcess:
    args = ["--datadir", str(chain.datadir), "--no-sync", *SERVE_LIMITS]
    args += ["--section-size", str(chain.section_size)]
    srv = ServeProcess(*args, *([PATH_FLAG, path] if flag else []))
    return srv.start(timeout=600)  # a loaded machine can take minutes to start it


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cpu(srv: ServeProcess, body: bytes) -> tuple[float, float]:
    """Wall seconds of one eth_getLogs, and the server's CPU seconds during it."""
    before = cpu_seconds(srv.pid)
    seconds = timed(srv, body)[0]
    return seconds, cpu_seconds(srv.pid) - before


def timed(srv: ServeProcess, body: bytes) -> tuple[float, int]:
    """Seconds of one eth_getLogs on the server's keep-alive connection, and its logs."""
    started = time.perf_counter()
    status, raw = srv.post(body)
    seconds = time.perf_counter() - started
    answer = orjson.loads(raw)
    if status != 200 or "error" in answer:
        raise RuntimeError(f"eth_getLogs failed: {status} {raw[:300]!r}")
    return seconds, len(answer["result"])


def say(text: str) -> None:
    """Progress on stderr."""
    print(f"bench_exact: {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def body_of(query: Query, first: int, last: int) -> bytes:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs"}
    return orjson.dumps({**payload, "params": [query.filter(first, last)]})


def check(row: Row, logs: int, who: str) -> None:
    if row.logs < 0:
        row.logs = logs
    elif row.logs != logs:
        raise RuntimeError(f"{row.chain} {row.query} {row.range}: {who} found {logs} logs, "
                           f"not {row.logs}")  # fmt: skip


def measure_chain(chain: BenchChain, args: argparse.Namespace, results: Results, flag: bool,
                  can_drop: bool) -> None:  # fmt: skip
    lengths = [n for n in RANGES if n < chain.blocks] + [min(chain.blocks, RANGES[-1])]
    lengths = sorted(set(lengths))
    asked = [(q, n) for q in queries(chain.fill) for n in lengths]
    rows = {(q.kind, n): Row(chain.name, q.kind, n) for q, n in asked}
    results.rows.extend(rows.values())
    slow: set[tuple[str, int]] = set()
    for path in results.paths:
        say(f"{chain.name}: {path} path, warm")
        with server(chain, path, flag) as srv:
            for query, length in list(asked):
                row, body = rows[(query.kind, length)], body_of(query, *chain.window(length))
                if too_large(row, rows, lengths, args.max_logs):
                    asked.remove((query, length))
                    continue
                first_seconds, logs = timed(srv, body)  # the untimed warm-up
                check(row, logs, path)
                if first_seconds > args.slow:
                    slow.add((query.kind, length))
                    row.slow = True
                repeats = 1 if (query.kind, length) in slow else args.repeats
                runs = [timed_cpu(srv, body) for _ in range(repeats)]
                row.warm[path] = [wall for wall, _ in runs]
                row.warm_cpu[path] = [cpu for _, cpu in runs]
                say(f"{row.query}, {length:,}: {row.logs:,} logs, warm {ms(row.warm[path])} ms")
        say(f"{chain.name}: {path} path, cold")
        for query, length in asked:
            row, body = rows[(query.kind, length)], body_of(query, *chain.window(length))
            row.cold[path] = []
            cold_repeats = 1 if (query.kind, length) in slow else args.cold_repeats
            for _ in range(cold_repeats):
                if can_drop:
                    drop_page_cache()
                with server(chain, path, flag) as srv:
                    seconds, logs = timed(srv, body)
                check(row, logs, f"{path} (cold)")
                row.cold[path].append(seconds)
            say(f"{row.query}, {length:,}: cold {ms(row.cold[path])} ms")
    if not args.no_naive:
        say(f"{chain.name}: naive scan")
        store = open_store(chain.datadir)
        over: dict[str, float] = {}
        try:
            for query, length in asked:
                row = rows[(query.kind, length)]
                if query.kind in over:
                    row.naive_note = f"not run: {over[query.kind]:.3g} s at a shorter range"
                    continue
                answer = naive_scan(
                    store, query, *chain.window(length), section_size=chain.section_size
                )
                check(row, len(answer.logs), "the naive scan")
                row.naive = answer.seconds
                say(f"{row.query}, {length:,}: naive {answer.seconds * 1e3:.3g} ms")
                if answer.seconds > args.naive_budget:
                    over[query.kind] = answer.seconds
        finally:
            store.close()


def run(args: argparse.Namespace) -> Results:
    paths, flag = query_paths(args.paths)
    results = Results(paths)
    can_drop = drop_page_cache()
    results.cold_note = (
        "cold: fresh server process, page cache emptied before each run"
        if can_drop
        else "cold: fresh server process only (emptying the page cache is not permitted here)"
    )
    for fill in [f.strip() for f in args.fills.split(",") if f.strip()]:
        say(f"{fill} {args.blocks:,}: sync (unless done before)")
        chain = sync_chain(args.out, fill, args.blocks, args.section_size)
        results.chains.append(chain)
        before = load_average()
        measure_chain(chain, args, results, flag, can_drop)
        results.loads[chain.name] = f"{before} → {load_average()}"
    return results


def too_large(row: Row, rows: dict[tuple[str, int], Row], lengths: list[int],
              max_logs: int) -> bool:  # fmt: skip
    """Whether ``row``'s answer would exceed ``max_logs``, scaled from the range below (then
    marked as not asked); never for the shortest range or one already answered."""
    at = lengths.index(row.range)
    if row.logs >= 0 or at == 0:
        return False
    below = rows[(row.query, lengths[at - 1])]
    if below.skipped:
        row.skipped = below.skipped
        return True
    expected = below.logs * row.range / below.range
    if expected <= max_logs:
        return False
    row.skipped = f"not asked: about {expected:,.0f} logs expected"
    return True


def load_average() -> str:
    """The 1-minute load average now."""
    return Path("/proc/loadavg").read_text().split()[0]


def ms(times: list[float] | None, single: bool = False) -> str:
    """Median in ms; ``single`` marks a figure of one run where more were asked for."""
    if not times:
        return "-"
    text = f"{statistics.median(times) * 1e3:.3g}"
    return f"{text} (1 run)" if single and len(times) == 1 else text


def per_log(row: Row, fixed: Row | None, path: str, cpu: bool = False) -> str:
    """µs per returned log beyond the fixed cost (see the module), for answers of 10,000+;
    from the server's CPU times when ``cpu``."""
    if row.logs < 10_000 or fixed is None or row.logs <= fixed.logs:
        return "-"
    times, base = (row.warm_cpu, fixed.warm_cpu) if cpu else (row.warm, fixed.warm)
    if not times.get(path) or not base.get(path):
        return "-"
    extra = statistics.median(times[path]) - statistics.median(base[path])
    return f"{extra / (row.logs - fixed.logs) * 1e6:.3g}"


def fixed_costs(rows: list[Row]) -> dict[str, Row]:
    """Per chain: the row of its smallest answer (the rare address, shortest range)."""
    out: dict[str, Row] = {}
    for r in rows:
        shorter = r.chain not in out or r.range < out[r.chain].range
        if r.query == "rare address" and r.logs >= 0 and shorter:
            out[r.chain] = r
    return out


def report(results: Results) -> str:
    syncs = Table("Syncs from the synthetic source (with logs, --confirmations 0)",
                  ["chain", "sync (s)", "blocks/s", "peak RSS (MiB)",
                   "load average during the queries"])  # fmt: skip
    for c in results.chains:
        syncs.add(c.name, c.sync_seconds, c.blocks / c.sync_seconds, c.sync_peak_mib,
                  results.loads.get(c.name, "-"))  # fmt: skip
    columns = ["chain", "query", "blocks", "logs"]
    for path in results.paths:
        columns += [
            f"{path} warm (ms)", f"{path} cold (ms)", f"{path} µs/log beyond fixed",
            f"{path} server CPU µs/log beyond fixed",
        ]  # fmt: skip
    queries_table = Table("eth_getLogs over HTTP (median)", [*columns, "naive scan (ms)"])
    fixed = fixed_costs(results.rows)
    for r in results.rows:
        cells = [r.chain, r.query, f"{r.range:,}", r.skipped or f"{r.logs:,}"]
        for path in results.paths:
            base = fixed.get(r.chain)
            cells += [
                ms(r.warm.get(path), r.slow),
                ms(r.cold.get(path), r.slow),
                per_log(r, base, path),
                per_log(r, base, path, cpu=True),
            ]
        naive = ms([r.naive] if r.naive is not None else None)
        queries_table.add(*cells, r.naive_note or naive)
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    return "\n".join([machine(), f"load: {load.strip()}", results.cold_note, "",
                      syncs.render(), queries_table.render()])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    print(report(run(parse_args(argv))), flush=True)


if __name__ == "__main__":
    main()
