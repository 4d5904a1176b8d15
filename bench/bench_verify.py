"""Cost of verifying blocks before storing them: the block hash and the receipts root.

    python -m bench.bench_verify [--blocks N] [--repeats N]

Per block of synthetic chains at sparse and saturated fill (``FILL_PRESETS``), and of the
recorded mainnet and execution-apis fixtures when unpacked: CPU time of
:func:`chainindex.source.parse.parse_block` with and without ``verify`` (the difference is what
verification adds to a sync), and of its two parts alone: rebuilding the header hash
(:func:`chainindex.source.verify.check_header_hash`) and the receipts trie root over already
encoded receipts (:func:`chainindex.trie.ordered_trie_root`). CPU time (``process_time``) is
used because the machine is shared; each figure is the median of ``--repeats`` passes over the
same blocks.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import Table, machine
from chainindex.header_extra import HeaderExtra
from chainindex.source.parse import parse_block, parse_header
from chainindex.source.verify import check_header_hash, encode_receipt
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape
from chainindex.trie import ordered_trie_root


def per_block(run: Callable[[], object], blocks: int, repeats: int) -> float:
    """Median CPU milliseconds per block of ``run()`` (which handles ``blocks`` blocks)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times) / blocks


def measure(name: str, records: list[dict[str, Any]], repeats: int, table: Table) -> None:
    records = [r for r in records if "receipts" in r and "mixHash" in r["block"]]
    blocks = len(records)
    receipts = sum(len(r["receipts"]) for r in records) / blocks
    logs = sum(len(rc["logs"]) for r in records for rc in r["receipts"]) / blocks

    def parse(verify: bool) -> None:
        for r in records:
            parse_block(r["block"], r["receipts"], verify=verify)

    headers = [parse_header(r["block"], verify=False) for r in records]
    extras = [HeaderExtra.decode(h.extra) for h in headers]
    encoded = []
    for r in records:
        block = parse_block(r["block"], r["receipts"], verify=False)
        assert block.logs is not None
        by_tx: list[list[Any]] = [[] for _ in r["receipts"]]
        for log in block.logs:
            by_tx[log.transaction_index].append(log)
        encoded.append(
            [
                encode_receipt(rc, by_tx[i], bytes.fromhex(rc["logsBloom"][2:]), 0, "")
                for i, rc in enumerate(r["receipts"])
            ]
        )

    def hashes() -> None:
        for header, extra in zip(headers, extras, strict=True):
            check_header_hash(header, extra)

    def roots() -> None:
        for values in encoded:
            ordered_trie_root(values)

    off = per_block(lambda: parse(False), blocks, repeats)
    on = per_block(lambda: parse(True), blocks, repeats)
    table.add(
        name,
        blocks,
        f"{receipts:.0f}",
        f"{logs:.0f}",
        f"{off:.3f}",
        f"{on:.3f}",
        f"{on - off:.3f}",
        f"{per_block(hashes, blocks, repeats) * 1000:.0f}",
        f"{per_block(roots, blocks, repeats):.3f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=200, help="synthetic blocks per fill")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine(), "\n")
    table = Table(
        "Verification cost per block (CPU ms; header hash in µs)",
        [
            "chain", "blocks", "receipts/block", "logs/block", "parse, no verify",
            "parse + verify", "verification", "header hash µs", "receipts root (trie only)",
        ],
    )  # fmt: skip
    for fill_name, fill in FILL_PRESETS.items():
        gen = ChainGenerator(ChainShape(fill=fill), seed=1)
        records: list[dict[str, Any]] = [dict(r) for r in gen.records(args.blocks + 1)][1:]
        measure(f"synthetic {fill_name} ({fill:.0%})", records, args.repeats, table)
    try:
        from tests.fixtures import all_block_records

        measure("recorded fixtures", list(all_block_records()), args.repeats, table)
    except (ImportError, FileNotFoundError):
        pass
    table.print()


if __name__ == "__main__":
    main()
