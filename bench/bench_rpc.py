"""JSON-RPC server benchmark: requests/s, latency, serialisation, memory, and anvil side by side.

    python -m bench.bench_rpc [--blocks N] [--duration S] [--repeats N] [--anvil-blocks N]
                              [--gzip-only]

The server is ``logfilter serve`` as a user runs it, in its own process, on 127.0.0.1. The
load generator is ``wrk`` (Debian package ``wrk``) with a Lua script posting JSON-RPC bodies,
one thread and 32 connections; single requests (the large result, the comparison with anvil)
are timed by a Python client in this process. Figures are medians of ``--repeats`` runs.

* ``eth_blockNumber`` requests/s, with uvloop and with asyncio's own loop;
* ``eth_getLogs`` returning 20 to 100 logs (64 different queries, a contract address over
  1,000-block ranges of a sparse mainnet-like synthetic chain, cycled by the Lua script):
  requests/s and p50/p99 latency at 32 connections; also with the log-record cache off;
* a result of 100,000 logs (every ERC-20 Transfer of the first blocks): the encoder's rate
  in-process, and the whole request end to end; the server's peak RSS while answering, with
  the answer streamed (no result limit) and gathered (a result limit above it);
* gzip on answers of 1 MB or more, streamed and whole, with and without
  ``Accept-Encoding: gzip``: requests/s, bytes on the wire, server CPU per MB
  (:mod:`bench.rpc_gzip`; ``--gzip-only`` for this table alone);
* ``eth_getLogs`` latency side by side with anvil on the same chain (built on anvil with the
  Emitter test contract, then synced by the server from it);
* the cost of metrics (``/metrics`` and the per-call timing): ``eth_blockNumber`` and small
  ``eth_getLogs`` requests/s with metrics on and with ``--no-metrics``, two servers over copies
  of one data directory, runs interleaved (``--metrics-only``: this table alone).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.common import Table, machine
from bench.rpc_gzip import bench_gzip
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape, write_archive
from rpc.server.dispatch import CallContext, Dispatcher, Params
from rpc.server.limits import Limits
from rpc.server.metrics import RequestMetrics
from tests.rpc.serve import ServeProcess

TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


# --- helpers ------------------------------------------------------------------------------------


def call_body(method: str, *params: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})


def wrk(
    url: str, bodies: list[bytes], duration: float, tmp: Path, timeout: float = 2.0
) -> dict[str, float]:
    """One wrk run (1 thread, 32 connections): requests/s and latency percentiles (ms);
    a request unanswered after ``timeout`` seconds is an error (wrk's default is 2 s)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (the load generator)")
    script = tmp / "bodies.lua"
    quoted = ",".join("[==[" + b.decode() + "]==]" for b in bodies)
    script.write_text(LUA % quoted)
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{duration:g}s", f"--timeout={timeout:g}s", "--latency",
         "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate, out
    return {"rps": float(rate.group(1)), "p50": ms("50"), "p99": ms("99")}


def median_runs(run: Callable[[], dict[str, float]], repeats: int) -> dict[str, float]:
    runs = [run() for _ in range(repeats)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def timed_call(port: int, body: bytes) -> tuple[float, bytes]:
    """Seconds for one request on a fresh connection, and the response body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", "/", body, {"Content-Type": "application/json"})
    data = conn.getresponse().read()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, data


def peak_rss_during(server: ServeProcess, body: bytes) -> tuple[float, float, float, bytes]:
    """(seconds, RSS before in MiB, peak RSS during in MiB, answer) of one request; the peak
    is the process's VmHWM, reset just before."""
    status = Path(f"/proc/{server.pid}/status")

    def field(name: str) -> float:
        for line in status.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1]) / 1024
        raise KeyError(name)

    Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # resets the high-water mark
    before = field("VmRSS")
    elapsed, answer = timed_call(server.port, body)
    return elapsed, before, field("VmHWM"), answer


# --- the synthetic chain ------------------------------------------------------------------------


def make_chain(tmp: Path, blocks: int) -> tuple[Path, list[list[tuple[str, list[str]]]]]:
    """A sparse mainnet-like archive, and per block its logs' (address, topics)."""
    archive = tmp / "chain.jsonl"
    write_archive(ChainGenerator(ChainShape(fill=FILL_PRESETS["sparse"]), seed=5), archive, blocks)
    index = []
    with archive.open("rb") as f:
        for line in f:
            record = orjson.loads(line)
            index.append(
                [(log["address"], log["topics"]) for r in record["receipts"] for log in r["logs"]]
            )
    return archive, index


Index = list[list[tuple[str, list[str]]]]


def spread_queries(index: Index, wanted: int = 64) -> list[bytes]:
    """One address over 1,000 blocks, 20 to 100 logs (spread over as many blocks)."""
    seen: dict[str, list[int]] = {}
    for number, logs in enumerate(index):
        for address, _ in logs:
            seen.setdefault(address, []).append(number)
    bodies = []
    for address in sorted(seen, key=lambda a: -len(seen[a])):
        numbers = seen[address]
        for first in range(0, len(index) - 1000, 997):
            n = sum(1 for b in numbers if first <= b < first + 1000)
            if 20 <= n <= 100:
                query = {"address": address, "fromBlock": hex(first), "toBlock": hex(first + 999)}
                bodies.append(call_body("eth_getLogs", query))
                if len(bodies) == wanted:
                    return bodies
    return bodies


def holder_queries(index: Index, wanted: int = 64) -> list[bytes]:
    """One token's Transfers to one holder over 1,000 blocks (address + topics [Transfer,
    null, holder]): 1 to 10 logs."""
    hits: dict[tuple[str, str], list[int]] = {}
    for number, logs in enumerate(index):
        for address, topics in logs:
            if len(topics) == 3 and topics[0] == TRANSFER:
                hits.setdefault((address, topics[2]), []).append(number)
    bodies = []
    for (address, holder), numbers in sorted(hits.items(), key=lambda kv: -len(kv[1])):
        first = max(0, numbers[len(numbers) // 2] - 500)
        n = sum(1 for b in numbers if first <= b < first + 1000)
        if 1 <= n <= 10:
            query = {
                "address": address, "fromBlock": hex(first), "toBlock": hex(first + 999),
                "topics": [TRANSFER, None, holder],
            }  # fmt: skip
            bodies.append(call_body("eth_getLogs", query))
            if len(bodies) == wanted:
                break
    return bodies


def absent_queries(index: Index, wanted: int = 64) -> list[bytes]:
    """An address that emits nothing, over 1,000-block ranges: the fixed cost of a query."""
    step = max(1, (len(index) - 1000) // wanted)
    return [
        call_body("eth_getLogs", {"address": "0x" + "11" * 20, "fromBlock": hex(first),
                                  "toBlock": hex(first + 999)})
        for first in range(0, step * wanted, step)
    ]  # fmt: skip


def transfers_upto(index: Index, target: int) -> tuple[int, int]:
    """The block by which ``target`` Transfer logs have been emitted, and their count."""
    total = 0
    for number, logs in enumerate(index):
        total += sum(1 for _, topics in logs if topics and topics[0] == TRANSFER)
        if total >= target:
            return number, total
    return len(index) - 1, total


# --- the benchmarks -----------------------------------------------------------------------------


def serve(*args: str) -> ServeProcess:
    return ServeProcess(*args).start(timeout=600)


def large_queries(index: Index, least: int = 2000, wanted: int = 8) -> list[bytes]:
    """ERC-20 Transfers over consecutive block ranges of at least ``least`` logs each (answers
    of more than 1 MB)."""
    bodies = []
    first, count = 0, 0
    for number, logs in enumerate(index):
        count += sum(1 for _, topics in logs if topics and topics[0] == TRANSFER)
        if count >= least:
            query = {"fromBlock": hex(first), "toBlock": hex(number), "topics": [TRANSFER]}
            bodies.append(call_body("eth_getLogs", query))
            first, count = number + 1, 0
            if len(bodies) == wanted:
                break
    return bodies


def synced_chain(args: argparse.Namespace, tmp: Path) -> tuple[Index, Path, list[str]]:
    """The synthetic chain, its data directory, and the flags serving it read-only."""
    archive, index = make_chain(tmp, args.blocks)
    datadir = tmp / "dd"
    sync = ["--upstream", str(archive), "--datadir", str(datadir), "--confirmations", "0"]
    server = serve(*sync, "--max-results", "200000", "--max-block-range", "0")
    server.wait_synced(args.blocks - 1, timeout=1800, sections=args.blocks // 4096)
    server.stop()
    return index, datadir, ["--datadir", str(datadir), "--no-sync", "--max-block-range", "0"]


def bench_server(args: argparse.Namespace, tmp: Path) -> None:
    index, datadir, read_only = synced_chain(args, tmp)
    logs = sum(len(pairs) for pairs in index)
    if args.metrics_only:
        bench_metrics(args, tmp, datadir, index)
        return

    table = Table(
        f"Requests at 32 connections (wrk), {args.blocks:,} blocks, {logs:,} logs",
        ["request", "event loop", "requests/s", "p50 ms", "p99 ms"],
    )

    def measure(url: str, bodies: list[bytes]) -> dict[str, float]:
        return median_runs(lambda: wrk(url, bodies, args.duration, tmp), args.repeats)

    workloads = [
        ("eth_getLogs, absent address, 1,000 blocks (0 logs)", absent_queries(index), 0, 0),
        ("eth_getLogs, a holder's Transfers, 1,000 blocks (1-10 logs)",
         holder_queries(index), 1, 10),
        ("eth_getLogs, an address, 1,000 blocks (20-100 logs)", spread_queries(index), 20, 100),
    ]  # fmt: skip
    for loop in ("uvloop", "asyncio"):
        with serve(*read_only, "--event-loop", loop) as server:
            bn = measure(server.url, [call_body("eth_blockNumber")])
            table.add("eth_blockNumber", loop, round(bn["rps"]), bn["p50"], bn["p99"])
            if loop != "uvloop":
                continue
            for label, bodies, least, most in workloads:
                for body in bodies:  # the answers are what the workload says (and warm)
                    answer = orjson.loads(timed_call(server.port, body)[1])["result"]
                    assert least <= len(answer) <= most, (label, len(answer))
                r = measure(server.url, bodies)
                table.add(
                    f"{label}, {len(bodies)} queries", loop, round(r["rps"]), r["p50"], r["p99"]
                )
    with serve(*read_only, "--log-cache-mb", "0") as server:
        label, bodies, _, _ = workloads[2]
        r = measure(server.url, bodies)
        table.add(
            f"{label}, caches of recent blocks off", "uvloop", round(r["rps"]), r["p50"], r["p99"]
        )
    table.print()
    bench_gzip(read_only, large_queries(index), args.duration, args.repeats, tmp)

    last, count = transfers_upto(index, 100_000)
    big = call_body("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(last), "topics": [TRANSFER]})
    table = Table(
        f"A result of {count:,} logs (ERC-20 Transfers of blocks 0..{last})",
        ["answer", "end to end s", "logs/s end to end", "RSS before MiB", "peak RSS MiB"],
    )
    for label, extra in (
        ("streamed (no result limit)", "0"),
        ("gathered (limit 200,000)", "200000"),
    ):
        with serve(*read_only, "--max-results", extra) as server:
            timed_call(server.port, big)  # warm the store's caches
            times, peaks, befores = [], [], []
            for _ in range(args.repeats):
                elapsed, before, peak, answer = peak_rss_during(server, big)
                assert answer.count(b'"logIndex"') == count
                times.append(elapsed)
                peaks.append(peak)
                befores.append(before)
            t = statistics.median(times)
            table.add(
                label, t, round(count / t), statistics.median(befores), statistics.median(peaks)
            )
    table.print()
    asyncio.run(bench_encoder(datadir, big, count, args.repeats))
    bench_metrics(args, tmp, datadir, index)


def bench_metrics(args: argparse.Namespace, tmp: Path, datadir: Path, index: Index) -> None:
    """Requests/s with metrics on and off: runs alternate between the two servers (and which
    goes first), so that a change of machine load hits both; medians of ``--repeats`` runs
    each. The servers' data directories are copies of one another."""
    copy = tmp / "dd-no-metrics"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(datadir, copy)
    common = ["--no-sync", "--max-block-range", "0"]
    workloads = [
        ("eth_blockNumber", [call_body("eth_blockNumber")]),
        ("eth_getLogs, a holder's Transfers, 1,000 blocks (1-10 logs)", holder_queries(index)),
    ]
    table = Table(
        "Cost of metrics: requests/s at 32 connections (wrk), medians of "
        f"{args.repeats} alternating runs",
        ["request", "metrics on", "--no-metrics", "on / off", "p50 ms on", "p50 ms off"],
    )
    with (
        serve("--datadir", str(datadir), *common) as on,
        serve("--datadir", str(copy), "--no-metrics", *common) as off,
    ):
        assert timed_call(off.port, call_body("eth_blockNumber"))[1]
        for label, bodies in workloads:
            for body in bodies:  # warm both
                timed_call(on.port, body)
                timed_call(off.port, body)
            runs: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
            for repeat in range(args.repeats):  # which goes first alternates too
                for key in ("on", "off") if repeat % 2 == 0 else ("off", "on"):
                    url = on.url if key == "on" else off.url
                    runs[key].append(wrk(url, bodies, args.duration, tmp))
            med = {
                k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50")}
                for k, v in runs.items()
            }
            table.add(
                label, round(med["on"]["rps"]), round(med["off"]["rps"]),
                med["on"]["rps"] / med["off"]["rps"], med["on"]["p50"], med["off"]["p50"],
            )  # fmt: skip
    table.print()
    asyncio.run(bench_dispatch_cost(args.repeats))


async def bench_dispatch_cost(repeats: int, calls: int = 50_000) -> None:
    """The dispatcher alone, in-process: one ``eth_blockNumber``-like call (a handler that
    returns a constant) per iteration, with the metrics observer and without, alternating."""

    async def block_number(params: Params, ctx: CallContext) -> str:
        return "0x1"

    body = call_body("eth_blockNumber")
    ctx = CallContext(owner=None)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(repeats):
        for key in ("on", "off"):
            dispatcher = Dispatcher({"eth_blockNumber": block_number}, Limits())
            dispatcher.observer = RequestMetrics() if key == "on" else None
            start = time.perf_counter()
            for _ in range(calls):
                await dispatcher.handle(body, ctx)
            times[key].append((time.perf_counter() - start) / calls)
    on, off = statistics.median(times["on"]) * 1e6, statistics.median(times["off"]) * 1e6
    table = Table(
        f"Cost of metrics in the dispatcher, in-process ({calls:,} calls, median of {repeats})",
        ["call", "µs per call, metrics on", "µs, --no-metrics", "difference µs"],
    )
    table.add("eth_blockNumber (parse, call, respond)", on, off, on - off)
    table.print()


async def bench_encoder(datadir: Path, body: bytes, count: int, repeats: int) -> None:
    """The encoder alone, in-process, on the 100k-log answer."""
    from rpc.server.codec import decode_filter, encode_block_logs
    from rpc.server.service import ServiceConfig, open_service

    config = ServiceConfig(datadir=str(datadir), upstream=None, read_only=True)
    async with open_service(config) as service:
        query = decode_filter(orjson.loads(body)["params"][0])
        blocks = await service.engine.collect(query)
        times = []
        for _ in range(repeats + 2):
            start = time.perf_counter()
            text = encode_block_logs(blocks)
            times.append(time.perf_counter() - start)
        assert text.count('"logIndex"') == count
        search = []
        for _ in range(repeats):
            start = time.perf_counter()
            await service.engine.collect(query)
            search.append(time.perf_counter() - start)
    table = Table(f"Serialisation of {count:,} logs, in-process", ["step", "median s", "logs/s"])
    table.add(
        "encode_block_logs (JSON text)",
        statistics.median(times),
        round(count / statistics.median(times)),
    )
    table.add(
        "query path (plan, matcher, verify)",
        statistics.median(search),
        round(count / statistics.median(search)),
    )
    table.print()


def bench_anvil(args: argparse.Namespace, tmp: Path) -> None:
    from tests.anvil import Anvil
    from tests.conformance.anvil_chain import TOPIC_POOL, build

    with Anvil() as anvil:
        emitters = build(anvil, args.anvil_blocks, seed=9)
        head = anvil.block_number()
        server = serve(
            "--upstream", anvil.url, "--datadir", str(tmp / "anvil-dd"), "--section-size", "256",
            "--confirmations", "0", "--max-block-range", "0", "--max-results", "0",
        )  # fmt: skip
        server.wait_synced(head, timeout=600, sections=(head + 1) // 256)
        some_hash = anvil.rpc("eth_getBlockByNumber", hex(head // 2), False)["hash"]
        cases: dict[str, dict[str, Any]] = {
            "one address, whole chain": {"fromBlock": "0x0", "address": emitters[2].address},
            "address + topic0, whole chain": {
                "fromBlock": "0x0", "address": emitters[0].address,
                "topics": ["0x" + TOPIC_POOL[3].hex()],
            },
            "topic in position 1, whole chain": {
                "fromBlock": "0x0", "topics": [None, "0x" + TOPIC_POOL[5].hex()],
            },
            "absent address, whole chain": {"fromBlock": "0x0", "address": "0x" + "11" * 20},
            "everything, last 100 blocks": {"fromBlock": hex(head - 99)},
            "one block by hash": {"blockHash": some_hash},
        }  # fmt: skip
        table = Table(
            f"eth_getLogs latency beside anvil, same chain ({head + 1:,} blocks, sequential "
            "requests on one connection)",
            ["query", "logs", "anvil ms", "logfilter ms", "ratio anvil/logfilter"],
        )
        for label, query in cases.items():
            body = call_body("eth_getLogs", query)
            ours = orjson.loads(timed_call(server.port, body)[1])["result"]
            theirs = orjson.loads(timed_call(anvil.port, body)[1])["result"]
            assert len(ours) == len(
                [t for t in theirs if len(t["topics"]) >= len(query.get("topics", []))]
            )
            times: dict[str, list[float]] = {"anvil": [], "logfilter": []}
            for _ in range(max(5, 4 * args.repeats)):
                times["anvil"].append(timed_call(anvil.port, body)[0])
                times["logfilter"].append(timed_call(server.port, body)[0])
            a = statistics.median(times["anvil"]) * 1e3
            o = statistics.median(times["logfilter"]) * 1e3
            table.add(label, len(ours), a, o, a / o)
        server.stop()
    table.print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=24_576, help="synthetic chain length")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--anvil-blocks", type=int, default=2000, help="anvil chain length")
    parser.add_argument("--skip-anvil", action="store_true", help="no anvil comparison")
    parser.add_argument("--skip-server", action="store_true", help="the anvil comparison only")
    parser.add_argument("--gzip-only", action="store_true", help="the gzip cost table only")
    parser.add_argument(
        "--metrics-only", action="store_true", help="only the cost of metrics (on and off)"
    )
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as name:
        tmp = Path(name)
        if args.gzip_only:
            index, _, read_only = synced_chain(args, tmp)
            bench_gzip(read_only, large_queries(index), args.duration, args.repeats, tmp)
            return
        if not args.skip_server:
            bench_server(args, tmp)
        if not args.skip_anvil:
            bench_anvil(args, tmp)


if __name__ == "__main__":
    main()
