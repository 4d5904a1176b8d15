"""Sync benchmark: ingest rate from anvil and from archive files, and peak memory.

    python -m bench.bench_sync [--repeats N] [--anvil-blocks N] [--quick]

Every measured sync runs in a fresh child process (``python -m bench.bench_sync child ...``)
into a fresh LevelDB, so that its peak RSS (``ru_maxrss``) is its own; the figures are medians
over ``--repeats`` runs. Rates count the whole sync: fetching, validating, encoding, the
synced LevelDB batches and section builds (confirmations 0).

* anvil: a chain whose blocks each hold one transaction emitting 300 logs (the Emitter test
  contract's ``emitMany``), synced over HTTP and WebSocket, and exported to an archive that
  is then synced from the file;
* mainnet-like synthetic archives (:mod:`chainindex.synthetic`, default shape: Zipf-skewed
  contracts and holders; ERC-20/721/1155, Uniswap and ENS events) at 300 logs per block;
* memory against chain length: synthetic archives of growing length at 100 logs per block,
  and headers-only archives (``--no-logs``) up to hundreds of thousands of blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import Table, machine
from chainindex.source import open_source, write_archive
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from rpc.commands.malloc import use_flat_malloc

REPO = Path(__file__).resolve().parent.parent


# --- child: one measured sync ------------------------------------------------------------


async def _child_sync(args: argparse.Namespace) -> dict[str, Any]:
    store = open_datadir(args.datadir)
    logs = 0

    class Count:
        def on_commit(self, status: object, blocks: int, n_logs: int) -> None:
            nonlocal logs
            logs += n_logs

        def on_reorg(self, ancestor: int, removed: int, added: int) -> None:
            pass

        def on_section(self, section: int) -> None:
            pass

    try:
        async with open_source(args.upstream) as source:
            config = SyncConfig(
                section_size=args.section_size,
                confirmations=0,
                follow=False,
                headers_only=args.no_logs,
            )
            indexer = ChainIndexer(store, source, config, observer=Count())
            started = time.perf_counter()
            await indexer.run()
            seconds = time.perf_counter() - started
            head = indexer.status.synced_head
    finally:
        store.close()
    assert head is not None
    return {
        "seconds": seconds,
        "blocks": head + 1,
        "logs": logs,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_sync child")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--datadir", required=True)
    parser.add_argument("--section-size", type=int, default=4096)
    parser.add_argument("--no-logs", action="store_true")
    args = parser.parse_args(argv)
    use_flat_malloc()  # as `logfilter sync` does
    print(orjson.dumps(asyncio.run(_child_sync(args))).decode())


# --- parent: runs, medians, tables ---------------------------------------------------------


def measure(
    upstream: str, repeats: int, *, section_size: int = 4096, no_logs: bool = False
) -> dict[str, float]:
    """Median figures of ``repeats`` child syncs of ``upstream``."""
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            command = [
                sys.executable, "-m", "bench.bench_sync", "child", "--upstream", upstream,
                "--datadir", str(Path(tmp) / "dd"), "--section-size", str(section_size),
            ] + (["--no-logs"] if no_logs else [])  # fmt: skip
            out = subprocess.run(command, cwd=REPO, capture_output=True, check=True).stdout
            runs.append(orjson.loads(out.splitlines()[-1]))
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "blocks": runs[0]["blocks"],
        "logs": runs[0]["logs"],
        "seconds": seconds,
        "blocks_per_s": statistics.median(r["blocks"] / r["seconds"] for r in runs),
        "logs_per_s": statistics.median(r["logs"] / r["seconds"] for r in runs),
        "max_rss_mib": statistics.median(r["max_rss_mib"] for r in runs),
    }


def add_row(table: Table, name: str, m: dict[str, float], extra: str = "") -> None:
    table.add(
        name, f"{m['blocks']:,.0f}", f"{m['logs']:,.0f}", m["seconds"],
        f"{m['blocks_per_s']:,.0f}", f"{m['logs_per_s']:,.0f}", f"{m['max_rss_mib']:.0f}",
        *( [extra] if extra else [] ),
    )  # fmt: skip


COLUMNS = ["source", "blocks", "logs", "s", "blocks/s", "logs/s", "peak RSS MiB"]


def bench_anvil(tmp: Path, blocks: int, logs_per_block: int, repeats: int) -> None:
    sys.path.insert(0, str(REPO))
    from tests.anvil import Anvil
    from tests.emitter import Emitter

    table = Table(f"Ingest from anvil: {blocks} blocks of {logs_per_block} logs", COLUMNS)
    with Anvil() as anvil:
        emitter = Emitter(anvil)
        anvil.set_automine(False)
        for n in range(blocks):
            emitter.emit_many(logs_per_block, n.to_bytes(32, "big"))
            anvil.mine()
        add_row(table, "anvil, HTTP", measure(anvil.url, repeats))
        add_row(table, "anvil, WebSocket", measure(anvil.ws_url, repeats))
        archive = tmp / "anvil.jsonl"

        async def export() -> None:
            async with open_source(anvil.url) as source:
                await write_archive(source, 0, anvil.block_number(), archive)

        asyncio.run(export())
    add_row(
        table,
        f"archive exported from anvil ({archive.stat().st_size / 2**20:.0f} MiB)",
        measure(str(archive), repeats),
    )
    table.print()


def synthetic(path: Path, blocks: int, logs_per_block: int, headers_only: bool = False) -> Path:
    """A mainnet-like synthetic archive of ``blocks`` blocks (seed 1)."""
    # Imported here: the measured child processes need not carry the generator.
    from chainindex.synthetic import ChainGenerator, ChainShape
    from chainindex.synthetic import write_archive as write_synthetic

    shape = ChainShape(logs_per_block=logs_per_block)
    write_synthetic(ChainGenerator(shape, seed=1, headers_only=headers_only), path, blocks)
    return path


def bench_archives(tmp: Path, repeats: int, quick: bool) -> None:
    table = Table("Ingest from synthetic mainnet-like archives, 300 logs per block", COLUMNS)
    for blocks in (1000,) if quick else (1000, 4000):
        path = synthetic(tmp / f"s300-{blocks}.jsonl", blocks, 300)
        size = f"archive ({path.stat().st_size / 2**20:,.0f} MiB)"
        add_row(table, size, measure(str(path), repeats))
        path.unlink()
    table.print()

    table = Table("Peak memory against chain length", [*COLUMNS, "sections"])
    lengths = (1000, 4000) if quick else (1000, 4000, 16000)
    for blocks in lengths:
        path = synthetic(tmp / f"s100-{blocks}.jsonl", blocks, 100)
        m = measure(str(path), 1 if blocks > 4000 else repeats)
        add_row(table, "100 logs/block", m, str(blocks // 4096))
        path.unlink()
    for blocks in (20_000, 100_000) if quick else (20_000, 100_000, 400_000):
        path = synthetic(tmp / f"h-{blocks}.jsonl", blocks, 100, headers_only=True)
        m = measure(str(path), 1, no_logs=True)
        add_row(table, "headers only (--no-logs)", m, str(blocks // 4096))
        path.unlink()
    table.print()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--anvil-blocks", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="smaller chains")
    args = parser.parse_args()
    print(f"Machine: {machine()}; {os.cpu_count()} cores shared with other work\n")
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        bench_anvil(Path(tmp), args.anvil_blocks, 300, args.repeats)
        bench_archives(Path(tmp), args.repeats, args.quick)


if __name__ == "__main__":
    main()
