"""Peak memory of a whole ``logfilter sync`` from the synthetic source, with its RSS curve.

Runs ``python -m rpc.cli sync --upstream SPEC --datadir (fresh) --no-follow
--confirmations 0 [--no-logs] [--section-size N]`` as a child process, samples its RSS
(``VmRSS``) and its high-water mark (``VmHWM``) from ``/proc/PID/status`` every
``--interval`` seconds together with the load average, and reads the child's final peak
from ``wait4`` (``ru_maxrss``: the kernel's high-water mark, the same figure as ``VmHWM``
once the process has ended). Prints the curve as a table, then the summary::

    python -m bench.bench_sync_memory 'synthetic:saturated?blocks=12300&seed=1' \
        [--no-logs] [--section-size 4096] [--interval 10] [--csv FILE]

The block count of each sample is read from the sync's progress lines (``--log-interval``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import Table, machine

_BLOCK = re.compile(r"\bblock (\d+)|\bat (\d+)\b|(\d+)/(\d+)")


_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def _status(pid: int) -> tuple[float, float, float, float] | None:
    """(VmRSS, VmHWM, RssAnon, RssFile) of ``pid`` in MiB, None once it is gone.

    ``RssFile`` is the part of the RSS that maps files (LevelDB reads its tables through
    ``mmap``); ``RssAnon`` is the heap."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        if line.startswith(tuple(f"{field}:" for field in _FIELDS)):
            name, amount = line.split(":", 1)
            values[name] = int(amount.split()[0]) / 1024
    if len(values) < len(_FIELDS):
        return None
    return values["VmRSS"], values["VmHWM"], values["RssAnon"], values["RssFile"]


def _load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", help="the --upstream synthetic spec")
    parser.add_argument("--no-logs", action="store_true", help="a headers-only sync")
    parser.add_argument("--section-size", type=int, default=4096)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--csv", type=Path, help="also write the samples here")
    parser.add_argument("--datadir", type=Path, help="data directory (default: a fresh temp one)")
    parser.add_argument("--log", type=Path, help="keep the sync's stderr here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sync-mem-") as tmp:
        datadir = args.datadir or Path(tmp) / "data"
        log_path = args.log or Path(tmp) / "sync.log"
        command = [
            sys.executable,
            "-m",
            "rpc.cli",
            "sync",
            "--upstream",
            args.spec,
            "--datadir",
            str(datadir),
            "--no-follow",
            "--confirmations",
            "0",
            "--section-size",
            str(args.section_size),
            "--log-interval",
            str(max(1.0, args.interval / 2)),
        ]
        if args.no_logs:
            command.append("--no-logs")
        samples: list[tuple[float, float, float, float, float, float, str]] = []
        start = time.monotonic()
        with open(log_path, "wb") as log_file:
            child = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            done = threading.Event()

            def sample() -> None:
                while not done.wait(args.interval):
                    status = _status(child.pid)
                    if status is None:
                        return
                    samples.append((time.monotonic() - start, *status, _load(), _last(log_path)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, code, usage = os.wait4(child.pid, 0)
            done.set()
            sampler.join()
            child.returncode = os.waitstatus_to_exitcode(code)
        elapsed = time.monotonic() - start
        peak = usage.ru_maxrss / 1024
        table = Table(
            f"RSS of `logfilter sync --upstream '{args.spec}'"
            f"{' --no-logs' if args.no_logs else ''} --section-size {args.section_size}`",
            ["s", "RSS MiB", "VmHWM MiB", "anon MiB", "file MiB", "load", "last progress"],
        )
        for at, rss, hwm, anon, mapped, load, last in samples:
            table.add(
                f"{at:.0f}",
                f"{rss:.1f}",
                f"{hwm:.1f}",
                f"{anon:.1f}",
                f"{mapped:.1f}",
                f"{load:.2f}",
                last,
            )
        table.print()
        if args.csv:
            args.csv.write_text(
                "s,rss_mib,hwm_mib,anon_mib,file_mib,load\n"
                + "".join(",".join(f"{v:.2f}" for v in row[:-1]) + "\n" for row in samples)
            )
        loads = [s[5] for s in samples] or [_load()]
        print(f"\nmachine: {machine()}")
        print(
            f"exit status {child.returncode}; {elapsed:.0f} s; peak RSS (ru_maxrss = VmHWM) "
            f"{peak:.1f} MiB; load {min(loads):.1f}-{max(loads):.1f}"
        )
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
        print("\n".join(tail))


def _last(log_path: Path) -> str:
    """The last progress line's text, shortened."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - 2048))
            lines = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][-90:].replace("|", "/") if lines else ""


if __name__ == "__main__":
    main()
