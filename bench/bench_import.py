"""What ``import rpc.client`` costs a program that only wants the client library.

Each sample is a fresh interpreter that imports the client and reports the wall time of the
import and how many modules it added to ``sys.modules``. ``--tree DIR`` (repeatable) names
source trees to compare, sampled alternately in one run so that machine load affects them
alike; the default is this checkout.

    python -m bench.bench_import --tree . --tree ../old-checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import Table, machine

PROBE = (
    "import sys, time\n"
    "before = set(sys.modules)\n"
    "start = time.perf_counter()\n"
    "import rpc.client\n"
    "took = time.perf_counter() - start\n"
    "added = set(sys.modules) - before\n"
    "heavy = sorted(m for m in ('numpy', 'plyvel', 'bloombits', 'chainindex') if m in added)\n"
    "print(took, len(added), ','.join(heavy) or '-')\n"
)


def sample(tree: Path) -> tuple[float, int, str]:
    """One fresh interpreter importing ``rpc.client`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    return float(out[0]), int(out[1]), out[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", type=Path, help="a source tree (repeatable)")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [Path(".")])]
    samples: dict[Path, list[tuple[float, int, str]]] = {t: [] for t in trees}
    for _ in range(args.repeats):
        for tree in trees:
            samples[tree].append(sample(tree))
    print(f"Machine: {machine()}\n")
    table = Table(
        f"import rpc.client, fresh interpreter (median of {args.repeats})",
        ["tree", "import (ms)", "modules added", "server-side modules loaded"],
    )
    for tree, runs in samples.items():
        table.add(
            str(tree),
            statistics.median(r[0] for r in runs) * 1000,
            int(statistics.median(r[1] for r in runs)),
            runs[-1][2],
        )
    table.print()


if __name__ == "__main__":
    main()
