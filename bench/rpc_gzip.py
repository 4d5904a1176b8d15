"""The cost of gzip on large ``eth_getLogs`` answers (part of ``bench.bench_rpc``).

Each answer is at least 1 MB of JSON. ``logfilter serve`` answers them streamed (no result
limit) or whole (a result limit above them), to ``wrk`` posting with and without
``Accept-Encoding: gzip`` (1 thread, 8 connections, the bodies cycled). Per case: requests/s,
bytes on the wire per second and per answer, and the server's CPU time per request (from
``/proc/PID/stat`` around the run) and per uncompressed MB; the difference between gzip
and identity is the CPU cost of compressing. zlib's level-1 rate in this process on the same
answers (CPU time) is given beside it. Medians of repeated runs. On a loaded machine the
server gets a share of a core, so requests/s falls with the CPU per request; the CPU figures
are the ones that carry over.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import statistics
import subprocess
import time
import zlib
from pathlib import Path

from bench.common import Table
from tests.rpc.serve import ServeProcess

__all__ = ["bench_gzip"]

LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/", {["Content-Type"] = "application/json"%s}, bodies[i])
end
"""
CONNECTIONS = 8
_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def _wrk(url: str, bodies: list[bytes], gzip: bool, duration: float, tmp: Path) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (the load generator)")
    script = tmp / "gzip.lua"
    quoted = ",".join("[==[" + b.decode() + "]==]" for b in bodies)
    script.write_text(LUA % (quoted, ', ["Accept-Encoding"] = "gzip"' if gzip else ""))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if re.search(r"Non-2xx or 3xx responses", out) or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    wire = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    count = re.search(r"(\d+) requests in", out)
    assert rate, out
    assert wire, out
    assert count, out
    return {
        "rps": float(rate.group(1)),
        "wire": float(wire.group(1)) * _UNITS[wire.group(2)],
        "requests": float(count.group(1)),
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _fetch(port: int, body: bytes, gzip: bool) -> tuple[bytes, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    encoding = "gzip" if gzip else "identity"
    headers = {"Content-Type": "application/json", "Accept-Encoding": encoding}
    conn.request("POST", "/", body, headers)
    response = conn.getresponse()
    data = response.read()
    coding = response.getheader("Content-Encoding")
    conn.close()
    return data, coding


def bench_gzip(
    serve_args: list[str], bodies: list[bytes], duration: float, repeats: int, tmp: Path
) -> None:
    """Print the table of gzip's cost (``serve_args``: a read-only ``serve`` of the chain)."""
    answers: list[bytes] = []
    table = Table(
        f"gzip on eth_getLogs answers of 1 MB or more ({len(bodies)} queries cycled, wrk "
        f"{CONNECTIONS} connections)",
        ["answer", "Accept-Encoding", "requests/s", "wire MB/s", "KB per answer on the wire",
         "server CPU ms/request", "server CPU ms per answer MB"],
    )  # fmt: skip
    extra: dict[str, float] = {}
    for mode, limit in (("streamed", "0"), ("whole", "1000000")):
        with ServeProcess(*serve_args, "--max-results", limit).start(timeout=600) as server:
            sizes: dict[bool, list[int]] = {False: [], True: []}
            answers.clear()
            for body in bodies:  # check, warm, and measure the sizes
                plain, none = _fetch(server.port, body, gzip=False)
                packed, gz = _fetch(server.port, body, gzip=True)
                assert none is None
                assert gz == "gzip"
                assert len(plain) >= 1 << 20
                assert zlib.decompress(packed, wbits=31) == plain
                answers.append(plain)
                sizes[False].append(len(plain))
                sizes[True].append(len(packed))
            answer_mb = statistics.mean(sizes[False]) / 2**20
            cpu_ms: dict[bool, float] = {}
            for gzip in (False, True):
                runs = []
                for _ in range(repeats):
                    before = _cpu_seconds(server.pid)
                    run = _wrk(server.url, bodies, gzip, duration, tmp)
                    run["cpu"] = (_cpu_seconds(server.pid) - before) / run["requests"] * 1e3
                    runs.append(run)
                r = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                cpu_ms[gzip] = r["cpu"]
                table.add(
                    mode, "gzip" if gzip else "identity", round(r["rps"], 1),
                    r["wire"] / 2**20, statistics.mean(sizes[gzip]) / 1024, r["cpu"],
                    r["cpu"] / answer_mb,
                )  # fmt: skip
            extra[mode] = (cpu_ms[True] - cpu_ms[False]) / answer_mb
            extra[f"{mode} ratio"] = sum(sizes[False]) / sum(sizes[True])
    table.print()
    times = []  # CPU time, not wall time: the figure must not depend on the machine's load
    for _ in range(max(3, repeats)):
        start = time.process_time()
        for answer in answers:
            compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
            compressor.compress(answer)
            compressor.flush()
        times.append(time.process_time() - start)
    megabytes = sum(len(a) for a in answers) / 2**20
    summary = Table(
        "gzip level 1: CPU per uncompressed MB",
        ["measure", "ms per MB", "MB/s", "size ratio"],
    )
    in_process = statistics.median(times) * 1e3 / megabytes
    summary.add("zlib level 1 in-process, same answers", in_process, 1e3 / in_process, "")
    for mode in ("streamed", "whole"):
        summary.add(
            f"server CPU gzip - identity, {mode} answers", extra[mode],
            1e3 / extra[mode] if extra[mode] > 0 else float("nan"), extra[f"{mode} ratio"],
        )  # fmt: skip
    summary.print()
