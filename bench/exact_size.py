"""Exact log index size on a saturated synthetic chain: keys, values and ``X`` counts of one
section against the stored logs of the same blocks, and the time to build the section.

``python -m bench.exact_size`` syncs ``synthetic:saturated?blocks=N&seed=1`` (the generator
of :mod:`chainindex.synthetic`, through ``logfilter sync`` as :mod:`bench.exact_setup` does;
the directory is reused by later runs) with sections of 4,096 blocks, then reads the stored
records of section 0 from LevelDB (the sum of key and value lengths, as LevelDB is given
them before its own compression) and the ``l`` records of blocks 0..4095; then rebuilds the
section's records from the stored logs into a counting batch (nothing written), ``--repeats``
times, and prints the median time. Prints Markdown tables and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.common import Table, machine
from bench.exact_setup import REPO, sync_chain
from chainindex.store import LevelDBStore, schema
from chainindex.store.exact.chunks import ROARING, VARINTS
from chainindex.store.exact.index import ExactIndexStore, write_entries

__all__ = ["main"]


class CountingBatch:
    """A write batch that only counts what it is given."""

    def __init__(self) -> None:
        self.puts = 0
        self.bytes = 0

    def put(self, key: bytes, value: bytes) -> None:
        self.puts += 1
        self.bytes += len(key) + len(value)

    def delete(self, key: bytes) -> None:
        raise AssertionError("nothing is deleted by a build")


def measure(datadir: Path, size: int, repeats: int) -> None:
    store = LevelDBStore(datadir)
    try:
        keys = values = records = 0
        tags = {VARINTS: 0, ROARING: 0}
        tag_bytes = {VARINTS: 0, ROARING: 0}
        for key, value in store.iterate(schema.EXACT_PREFIX, b"y"):
            if int.from_bytes(key[-4:], "big") != 0:
                continue
            keys += len(key)
            values += len(value)
            records += 1
            tags[value[0]] += 1
            tag_bytes[value[0]] += len(value)
        counts_raw = store.get(schema.EXACT_COUNTS_PREFIX + (0).to_bytes(4, "big")) or b""
        counts = len(counts_raw) + 5
        logs = sum(len(k) + len(v) for k, v in store.iterate(*schema.logs_range(0, size - 1)))
        n_logs = sum(
            int.from_bytes(counts_raw[i : i + 4], "little") for i in range(0, len(counts_raw), 4)
        )
        index = ExactIndexStore(size)
        tail = schema.decode_block_ref(store.get(schema.meta_key(schema.META_TAIL)) or b"")[0]
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            batch = CountingBatch()
            write_entries(batch, index.entries(store, 0, tail))
            times.append(time.perf_counter() - started)
            assert (batch.puts, batch.bytes) == (records + 1, keys + values + counts)
    finally:
        store.close()
    total = keys + values + counts
    table = Table(
        f"Exact index of one saturated section (4,096 blocks, {n_logs:,} logs)",
        ["records", "keys MB", "values MB", "X counts KB", "KB per block", "logs KB per block",
         "% of logs", "build s (median)"],
    )  # fmt: skip
    table.add(
        f"{records:,}",
        f"{keys / 1e6:.2f}",
        f"{values / 1e6:.2f}",
        f"{counts / 1e3:.1f}",
        f"{total / size / 1e3:.2f}",
        f"{logs / size / 1e3:.1f}",
        f"{100 * total / logs:.1f}",
        f"{statistics.median(times):.1f}",
    )
    table.print()
    split = Table("Records by encoding", ["tag", "records", "bytes MB", "bytes per record"])
    for tag, name in ((VARINTS, "0x01 varint gaps"), (ROARING, "0x02 roaring")):
        n = tags[tag]
        split.add(
            name, f"{n:,}", f"{tag_bytes[tag] / 1e6:.2f}", f"{tag_bytes[tag] / max(n, 1):.1f}"
        )
    split.print()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=int, default=4_200, help="blocks of the chain")
    parser.add_argument("--repeats", type=int, default=3, help="timed rebuilds of the section")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "exact")
    args = parser.parse_args(argv)
    size = 4096
    chain = sync_chain(args.out, "saturated", args.blocks, size)
    print(f"{machine()}; load average before measuring {os.getloadavg()[0]:.2f}")
    print(
        f"sync of {chain.name} blocks: {chain.sync_seconds:.0f} s, "
        f"peak RSS {chain.sync_peak_mib:.0f} MiB\n"
    )
    measure(chain.datadir, size, args.repeats)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
