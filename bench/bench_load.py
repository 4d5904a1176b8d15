"""The server under sustained and excessive load: throughput, latency, refusals, memory.

    python -m bench.bench_load [--blocks N] [--duration S] [--connections 64,256,512]
                               [--soak SECONDS] [--soak-connections N] [-- serve flags...]

``logfilter serve`` runs as a user runs it (default caches, default admission control:
``--max-concurrent-requests 64 --queue-wait 0.25``), read-only over a sparse mainnet-like
synthetic chain (:func:`bench.bench_rpc.synced_chain`). The load is ``wrk`` (one thread,
``--timeout 10s``) with a Lua script cycling through a mixed workload: every other request
is ``eth_blockNumber``, the others ``eth_getLogs`` of one token's Transfers over block
ranges holding 10 to 600 logs (answers of a few KB up to about 400 KB, checked before the
run). The Lua script reads every answer and counts the ``-32005`` refusals.

* Default: one run of ``--duration`` seconds per connection count; the table gives
  requests/s, p50/p99 latency, the share of answers refused (of all, and of the
  ``eth_getLogs`` half), wrk's timeouts and the server's RSS (sampled each second: at the
  end, and the peak).
* ``--soak SECONDS``: one long run at ``--soak-connections`` (default 256) with the RSS
  sampled every 10 s; the table gives the RSS at start, after 1 minute, at the end and the
  peak, and the samples follow.

Extra arguments after ``--`` go to ``serve`` (e.g. ``-- --max-concurrent-requests 1000`` to
see the server without the gate).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import orjson

from bench.bench_rpc import TRANSFER, Index, call_body, serve, synced_chain, timed_call
from bench.common import Table, machine
from tests.rpc.serve import ServeProcess

LUA = """
local bodies = {%s}
local i = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) refused = 0; failed = 0 end
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/", {["Content-Type"] = "application/json"}, bodies[i])
end
response = function(status, headers, body)
  if string.find(body, "-32005", 1, true) then refused = refused + 1
  elseif string.find(body, '"error"', 1, true) then failed = failed + 1 end
end
done = function(summary, latency, requests)
  local r, f = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("refused"); f = f + t:get("failed") end
  io.write(string.format("REFUSED %%d FAILED %%d\\n", r, f))
end
"""

MAX_ANSWER = 400_000
"""Largest ``eth_getLogs`` answer of the workload, in bytes."""


def sized_queries(index: Index, sizes: tuple[int, ...] = (10, 40, 100, 250, 600)) -> list[bytes]:
    """The busiest token's Transfers over consecutive ranges of about each size in logs,
    twelve ranges per size."""
    per_token: dict[str, list[int]] = {}
    for number, logs in enumerate(index):
        for address, topics in logs:
            if topics and topics[0] == TRANSFER:
                per_token.setdefault(address, []).append(number)
    token = max(per_token, key=lambda a: len(per_token[a]))
    numbers = per_token[token]
    bodies = []
    for size in sizes:
        for start in range(0, len(numbers) - size, max(1, (len(numbers) - size) // 12))[:12]:
            first, last = numbers[start], numbers[start + size - 1]
            query = {"address": token, "fromBlock": hex(first), "toBlock": hex(last),
                     "topics": [TRANSFER]}  # fmt: skip
            bodies.append(call_body("eth_getLogs", query))
    return bodies


def checked(server: ServeProcess, bodies: list[bytes]) -> tuple[list[bytes], int]:
    """The queries whose answers are results of at most :data:`MAX_ANSWER` bytes, and the
    largest answer's size."""
    kept, largest = [], 0
    for body in bodies:
        answer = timed_call(server.port, body)[1]
        assert b'"result"' in answer, answer[:200]
        if len(answer) <= MAX_ANSWER:
            kept.append(body)
            largest = max(largest, len(answer))
    return kept, largest


def mixed(queries: list[bytes]) -> list[bytes]:
    """Every other request an ``eth_blockNumber``."""
    block_number = call_body("eth_blockNumber")
    return [b for query in queries for b in (block_number, query)]


class RssSampler:
    """The server's RSS (MiB) read from /proc every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float) -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def rss(self) -> float:
        for line in self.path.read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        raise KeyError("VmRSS")

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic() - self._started, self.rss()))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.monotonic() - self._started, self.rss()))


def wrk(
    url: str, bodies: list[bytes], connections: int, duration: float, tmp: Path
) -> dict[str, float]:
    """One wrk run: requests, requests/s, p50/p99 ms, refused and failed answers, timeouts."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (the load generator)")
    script = tmp / "mixed.lua"
    script.write_text(LUA % ",".join("[==[" + b.decode() + "]==]" for b in bodies))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency",
         "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        assert match, out
        return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]

    counts = re.search(r"REFUSED (\d+) FAILED (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert counts, out
    assert total, out
    assert rate, out
    return {
        "requests": int(total.group(1)), "rps": float(rate.group(1)),
        "p50": ms("50"), "p99": ms("99"),
        "refused": int(counts.group(1)), "failed": int(counts.group(2)),
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }  # fmt: skip


def load_table(args: argparse.Namespace, server: ServeProcess, bodies: list[bytes], tmp: Path,
               title: str) -> None:  # fmt: skip
    table = Table(
        title,
        ["connections", "requests/s", "eth_getLogs answered/s", "p50 ms", "p99 ms",
         "refused (all)",
         "refused (eth_getLogs)", "other errors", "timeouts", "RSS end MiB", "RSS peak MiB"],
    )  # fmt: skip
    for connections in args.connections:
        with RssSampler(server.pid, 1.0) as rss:
            r = wrk(server.url, bodies, connections, args.duration, tmp)
        share = r["refused"] / max(1, r["requests"])
        table.add(
            connections, round(r["rps"]),
            round((r["requests"] / 2 - r["refused"]) / args.duration),
            r["p50"], r["p99"], f"{share:.1%}",
            f"{r['refused'] / max(1, r['requests'] / 2):.1%}", r["failed"] + r["non2xx"],
            r["timeouts"], round(rss.samples[-1][1]), round(max(s for _, s in rss.samples)),
        )  # fmt: skip
    table.print()


def memory_map(pid: int) -> str:
    """Where the RSS is: anonymous memory (heap, arenas, Python objects) and file-backed
    (code, shared libraries, LevelDB's files), MiB, from ``/proc/PID/smaps_rollup``."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0]) / 1024
    rss, anonymous = fields["Rss"], fields["Anonymous"]
    return f"RSS {rss:.0f} MiB: anonymous {anonymous:.0f}, file {rss - anonymous:.0f}"


def soak(args: argparse.Namespace, server: ServeProcess, bodies: list[bytes], tmp: Path) -> None:
    print(f"Before: {memory_map(server.pid)}\n")
    with RssSampler(server.pid, 10.0) as rss:
        r = wrk(server.url, bodies, args.soak_connections, args.soak, tmp)
    samples = rss.samples
    at_minute = min(samples, key=lambda s: abs(s[0] - 60))[1]
    table = Table(
        f"Soak: {args.soak:g} s of the mixed load at {args.soak_connections} connections, "
        "server RSS (MiB, sampled every 10 s)",
        ["start", "1 min", "end", "peak", "requests/s", "p99 ms", "refused", "timeouts"],
    )
    table.add(
        round(samples[0][1]), round(at_minute), round(samples[-1][1]),
        round(max(s for _, s in samples)), round(r["rps"]), r["p99"],
        f"{r['refused'] / max(1, r['requests']):.1%}", r["timeouts"],
    )  # fmt: skip
    table.print()
    print("RSS samples (s: MiB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in samples) + "\n")
    print(f"After: {memory_map(server.pid)}\n")


def idle_status(server: ServeProcess, timeout: float = 60.0) -> object:
    """``logfilter_status``'s admission counts once the server has worked off what the
    load left running (calls of clients that have gone are still answered)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = orjson.loads(timed_call(server.port, call_body("logfilter_status"))[1])
        if "result" in answer or time.monotonic() > deadline:
            return answer.get("result", answer)["admission"]
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=12_288, help="synthetic chain length")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per wrk run")
    parser.add_argument(
        "--connections", default="64,256,512",
        type=lambda text: [int(c) for c in text.split(",")], help="connection counts",
    )  # fmt: skip
    parser.add_argument("--soak", type=float, help="one long run of this many seconds instead")
    parser.add_argument("--soak-connections", type=int, default=256)
    parser.add_argument("serve_flags", nargs="*", help="after --: more serve flags")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        tmp = Path(name)
        index, _, read_only = synced_chain(args, tmp)
        with serve(*read_only, *args.serve_flags) as server:
            queries, largest = checked(server, sized_queries(index))
            bodies = mixed(queries)
            print(f"{len(queries)} eth_getLogs queries, answers up to {largest:,} bytes; "
                  f"serve flags: {' '.join(args.serve_flags) or '(defaults)'}\n")  # fmt: skip
            print(f"Load before: {Path('/proc/loadavg').read_text().strip()}\n")
            if args.soak:
                soak(args, server, bodies, tmp)
            else:
                load_table(
                    args, server, bodies, tmp,
                    f"Mixed load (half eth_blockNumber, half eth_getLogs), {args.duration:g} s "
                    f"per row, {args.blocks:,} blocks",
                )  # fmt: skip
            print(f"Load after: {Path('/proc/loadavg').read_text().strip()}\n")
            print(f"Admission counts: {idle_status(server)}\n")


if __name__ == "__main__":
    main()
