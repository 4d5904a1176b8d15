"""The cost of reading one block's logs record from LevelDB, as stored with snappy and without.

Takes the first ``--records`` logs records of a synced data directory, writes them into two
fresh LevelDB directories (plyvel, one with LevelDB's snappy compression, one without; each
compacted), and times point reads of every record in each, with checksums verified as the
store reads them. The median of ``--repeats`` passes over all records, per read::

    python -m bench.bench_record_read DATADIR [--records 1000] [--repeats 5]

What it answers: how much of the query path's cost per block is the read itself, and how
much LevelDB's decompression adds (``chainindex/store/leveldb.py`` writes tables
uncompressed since this was measured).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import plyvel

from bench.common import Table, machine, median_seconds
from chainindex.store import schema


def _records(datadir: Path, count: int) -> list[tuple[bytes, bytes]]:
    start, stop = schema.logs_range(0, 2**63)
    db = plyvel.DB(str(datadir))
    try:
        out = []
        for key, value in db.iterator(start=start, stop=stop):
            out.append((key, value))
            if len(out) == count:
                break
        return out
    finally:
        db.close()


def _table_bytes(path: Path) -> int:
    return sum(table.stat().st_size for table in path.glob("*.ldb"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datadir", type=Path, help="a data directory synced with logs")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    records = _records(args.datadir, args.records)
    if not records:
        raise SystemExit(f"{args.datadir} holds no logs records")
    size = sum(len(value) for _, value in records) / len(records)
    table = Table(
        f"Reading a logs record: {len(records)} records of {size / 1000:.1f} KB on average",
        ["tables", "µs a read (median)", "table bytes / record bytes"],
    )
    with tempfile.TemporaryDirectory(prefix="bench-record-read-") as tmp:
        for compression in ("snappy", None):
            path = Path(tmp) / str(compression)
            db = plyvel.DB(str(path), create_if_missing=True, compression=compression)
            with db.write_batch() as batch:
                for key, value in records:
                    batch.put(key, value)
            db.compact_range()

            def read_all(db: plyvel.DB = db) -> None:
                for key, _ in records:
                    db.get(key, verify_checksums=True)

            seconds = median_seconds(read_all, repeats=args.repeats)
            db.close()
            ratio = _table_bytes(path) / (size * len(records))
            table.add(compression or "uncompressed", 1e6 * seconds / len(records), ratio)
    table.print()
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
