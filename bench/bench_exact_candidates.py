"""The candidate side of the exact path over a million saturated blocks, from the index alone.

Syncing a million saturated blocks with their logs takes days here (about 60 blocks/s), so
the index of one is made from a smaller chain's: the ``x`` and ``X`` records of the
``--source`` directory's sections (for example the 24 sections of the 100,000-block chain of
:mod:`bench.bench_exact`) are written again for sections ``0 .. --sections - 1`` of a new
LevelDB directory, section ``s`` holding the records of source section ``s mod n``. The
records are real, their repetition is not: a value that logs in some of the source's
sections logs in the same ones of every repetition. Keys are written in ascending order
(all sections of one fingerprint, fingerprint after fingerprint), so LevelDB writes each
table once. The directory is reused by later runs (a marker file says it is complete).

Then each query of :mod:`bench.exact_setup` is asked of
:func:`~chainindex.store.exact.stored_positions` over the last 10k, 100k and all the blocks:
warm (median of ``--repeats`` on an open store) and cold (the page cache emptied and the
store reopened, once). Printed: the matching logs, the blocks holding them (the candidate
blocks the exact path reads, every one a match), and the times::

    python -m bench.bench_exact_candidates --source DIR [--sections 244] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from functools import partial
from pathlib import Path

import numpy as np
import plyvel
from eth_typing import Address, Hash32

from bench.bench_exact import drop_page_cache
from bench.common import Table, machine, median_seconds
from bench.exact_setup import REPO, queries
from chainindex.filters.criteria import LogCriteria
from chainindex.filters.exact import index_groups
from chainindex.store import LevelDBStore, schema
from chainindex.store.exact import PositionLayout, stored_positions
from chainindex.store.exact.keys import chunk_key, counts_key, parse_chunk_key

SECTION_SIZE = 4096
RANGES = (10_000, 100_000)


def _source_sections(source: Path) -> int:
    db = plyvel.DB(str(source))
    try:
        raw = db.get(schema.meta_key(schema.META_SECTION_COUNT))
        first = db.get(schema.meta_key(schema.META_EXACT_FIRST))
    finally:
        db.close()
    if raw is None or first is None or schema.decode_u64(first) != 0:
        raise SystemExit(f"{source}: not a directory whose exact index covers every section")
    return schema.decode_u64(raw)


def build(source: Path, target: Path, sections: int) -> None:
    """Write the repeated index into ``target`` (see the module docstring)."""
    marker = target / "bench.json"
    spec = {"source": str(source), "sections": sections}
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return
    subprocess.run(["rm", "-rf", str(target)], check=True)
    target.mkdir(parents=True)
    n = _source_sections(source)
    src = plyvel.DB(str(source))
    db = plyvel.DB(str(target), create_if_missing=True, compression=None)
    try:
        batch = db.write_batch()
        written = 0

        def emit(fp: int, records: dict[int, bytes]) -> None:
            nonlocal batch, written
            for section in range(sections):
                record = records.get(section % n)
                if record is not None:
                    batch.put(chunk_key(fp, section), record)
                    written += len(record)
            if written > 64 << 20:
                batch.write()
                batch, written = db.write_batch(), 0

        current, records = -1, dict[int, bytes]()
        for key, value in src.iterator(prefix=schema.EXACT_PREFIX):
            fp, section = parse_chunk_key(key)
            if fp != current:
                if records:
                    emit(current, records)
                current, records = fp, {}
            records[section] = value
        if records:
            emit(current, records)
        counts = [src.get(counts_key(s)) for s in range(n)]
        for section in range(sections):
            raw = counts[section % n]
            assert raw is not None, f"source section {section % n} has no counts"
            batch.put(counts_key(section), raw)
        batch.write()
    finally:
        src.close()
        db.close()
    marker.write_text(json.dumps(spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a synced saturated chain")
    parser.add_argument("--sections", type=int, default=244, help="sections of 4,096 blocks")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "exact-1m")
    args = parser.parse_args()

    target = args.out / f"index-{args.sections}"
    started = time.perf_counter()
    build(args.source, target, args.sections)
    print(f"index of {args.sections} sections ready in {time.perf_counter() - started:.0f} s")
    blocks = args.sections * SECTION_SIZE
    layout = PositionLayout(SECTION_SIZE)
    table = Table(
        f"Exact index alone, {blocks:,} saturated blocks ({args.sections} sections, "
        "repeated from the source's)",
        ["query", "blocks", "logs", "candidate blocks", "warm (ms)", "cold (ms)"],
    )
    lengths = [n for n in RANGES if n < blocks] + [blocks]
    for query in queries("saturated"):
        criteria = LogCriteria(
            tuple(Address(a) for a in query.addresses),
            tuple(() if t is None else (Hash32(t),) for t in query.topics),
        )
        groups = index_groups(criteria)
        for length in lengths:
            first, last = blocks - length, blocks - 1
            store = LevelDBStore(target, create=False)
            try:
                ask = partial(stored_positions, store, layout, groups, first, last)
                found = ask()
                warm = median_seconds(ask, repeats=args.repeats)
            finally:
                store.close()
            if not drop_page_cache():
                raise SystemExit("cold runs need to empty the page cache: not permitted here")
            store = LevelDBStore(target, create=False)
            try:
                cold_started = time.perf_counter()
                stored_positions(store, layout, groups, first, last)
                cold = time.perf_counter() - cold_started
            finally:
                store.close()
            candidates = len(np.unique(layout.split(found)[0]))
            table.add(query.kind, f"{length:,}", f"{len(found):,}", f"{candidates:,}",
                      1e3 * warm, 1e3 * cold)  # fmt: skip
    table.print()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
