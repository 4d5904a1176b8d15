"""Memory of completing a group of sections: what the move of 64 sections into rows costs.

Writes ``group - 1`` sections of random vectors at a bloom fill (``B`` records), then, in a
fresh child process each time (so that its peak RSS is the move's alone), opens the store
and writes the section that completes the group, which moves the whole group into rows in
one batch. Prints the child's RSS before the move, its peak during it, and the bytes the
batch carries (row values + keys + deleted keys), per fill::

    python -m bench.bench_group_move [--section-size 4096] [--group 64]

The rows of a group are ``2048 × group × section_size / 8`` bytes raw (64 MiB for 64
sections of 4096 blocks): a saturated chain's rows are stored raw, so the batch holds that
much whatever the move does around it; LevelDB then copies it into its log and memtable.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Table, machine
from chainindex.store.leveldb import LevelDBStore
from chainindex.store.sections import SectionStore


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _vectors(rng: np.random.Generator, size: int, fill: float) -> np.ndarray:
    bits = rng.random((2048, size)) < fill
    return np.packbits(bits, axis=1)


def prepare(path: Path, size: int, group: int, fill: float) -> None:
    """``group - 1`` sections of random vectors with ``fill`` of their bits set."""
    rng = np.random.default_rng(1)
    store = LevelDBStore(path)
    try:
        sections = SectionStore(store, size, group_size=group)
        for section in range(group - 1):
            with store.batch() as batch:
                head = rng.bytes(32)
                sections.write_section(batch, section, head, _vectors(rng, size, fill))  # type: ignore[arg-type]
    finally:
        store.close()


def move(path: Path, size: int, group: int, fill: float) -> dict[str, float]:
    """In this process: write the group's last section; RSS before, peak, batch bytes."""
    rng = np.random.default_rng(2)
    store = LevelDBStore(path)
    sections = SectionStore(store, size, group_size=group)
    vectors = _vectors(rng, size, fill)
    before = _rss_mib()
    carried = 0

    class Counting:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def put(self, key: bytes, value: bytes) -> None:
            nonlocal carried
            carried += len(key) + len(value)
            self.inner.put(key, value)  # type: ignore[attr-defined]

        def delete(self, key: bytes) -> None:
            nonlocal carried
            carried += len(key)
            self.inner.delete(key)  # type: ignore[attr-defined]

    start = time.perf_counter()
    with store.batch() as batch:
        sections.write_section(Counting(batch), group - 1, rng.bytes(32), vectors)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"before": before, "peak": peak, "seconds": seconds, "carried": carried}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section-size", type=int, default=4096)
    parser.add_argument("--group", type=int, default=64)
    parser.add_argument("--fills", default="0.05,0.5")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "FILL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                move(Path(args.child[0]), args.section_size, args.group, float(args.child[1]))
            )
        )
        return
    table = Table(
        f"Completing a group of {args.group} sections of {args.section_size} blocks",
        ["fill", "RSS before (MiB)", "peak RSS (MiB)", "peak − before (MiB)", "batch (MiB)",
         "move (s)"],
    )  # fmt: skip
    for fill in (float(f) for f in args.fills.split(",")):
        with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "out") as tmp:
            prepare(Path(tmp) / "db", args.section_size, args.group, fill)
            out = subprocess.run(
                [sys.executable, "-m", "bench.bench_group_move", "--section-size",
                 str(args.section_size), "--group", str(args.group), "--child",
                 str(Path(tmp) / "db"), str(fill)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            got = json.loads(out.stdout)
        table.add(
            fill,
            got["before"],
            got["peak"],
            got["peak"] - got["before"],
            got["carried"] / 2**20,
            got["seconds"],
        )
    print(machine())
    table.print()


if __name__ == "__main__":
    main()
