"""``logfilter build-index``: build the exact log index of a data directory's stored logs.

A directory written by a logfilter without the exact index (schema version 2), or with its
format 3 (schema version 3, whose records are first deleted in batches), is migrated when
opened (by any command): it is restamped, and the sections it stored are then indexed from
their logs, downward, one section per write batch — beside sync, or all at once here,
exiting when done. Resumable after any interruption (``kill -9`` included); progress goes to
stderr, the summary to stdout. A headers-only (``--no-logs``) directory has no exact index:
the bloom sections answer its queries.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from chainindex.errors import ConfigError
from chainindex.filters.exact import exact_coverage
from chainindex.store import open_datadir, schema
from chainindex.store.exact.build import BuildProgress
from chainindex.store.reader import ChainReader
from chainindex.store.writer import ChainWriter
from chainindex.sync.indexbuild import build_exact_index
from rpc.commands.logsetup import add_log_options, setup_logging
from rpc.commands.options import seconds

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "build-index",
        help="build the exact log index of a data directory's stored logs",
        description="Build the exact log index (address and topic with its position → logs) "
        "of the sections a data directory stored before it had one, then exit. Resumable.",
    )
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    add_log_options(parser)
    parser.add_argument(
        "--log-interval", type=seconds, default=2.0, metavar="S",
        help="seconds between progress lines (default 2)",
    )  # fmt: skip
    parser.set_defaults(run=run)


class _Progress:
    """A progress line every ``interval`` seconds: sections, blocks/s, what is left."""

    def __init__(self, interval: float, section_size: int) -> None:
        self.interval = interval
        self.section_size = section_size
        self.started = self.shown = time.monotonic()
        self.built = 0
        self.purged = 0

    def __call__(self, progress: BuildProgress) -> None:
        now = time.monotonic()
        if progress.section < 0:
            self.purged += progress.purged
            if now - self.shown >= self.interval:
                self.shown = now
                print(
                    f"build-index: {self.purged:,} format-3 records deleted (migration to "
                    "format 4), then the sections are rebuilt",
                    file=sys.stderr,
                    flush=True,
                )
            return
        self.built += 1
        if now - self.shown < self.interval and progress.left:
            return
        self.shown = now
        rate = self.built * self.section_size / max(now - self.started, 1e-9)
        print(
            f"build-index: section {progress.section} built ({progress.records:,} records), "
            f"{progress.left} to go, {rate:,.0f} blocks/s",
            file=sys.stderr,
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    """Build what is missing and print what the index covers."""
    setup_logging(args)
    path = Path(args.datadir)
    if not path.is_dir():
        raise ConfigError(f"no data directory at {path}")
    store = open_datadir(path)
    try:
        raw = store.get(schema.meta_key(schema.META_SECTION_SIZE))
        if raw is None or store.get(schema.meta_key(schema.META_TAIL)) is None:
            raise ConfigError(f"{path} has not been synced yet: nothing to index")
        if store.get(schema.meta_key(schema.META_HEADERS_ONLY)) == b"\x01":
            raise ConfigError(
                f"{path} stores headers only (--no-logs): it has no exact log index (the "
                "bloom sections answer its queries)"
            )
        size = schema.decode_u64(raw)
        writer = ChainWriter(store, size)
        started = time.perf_counter()
        built = asyncio.run(build_exact_index(writer, _Progress(args.log_interval, size)))
        coverage = ChainReader(store).view_sync(exact_coverage)
        took = time.perf_counter() - started
        if coverage is None or coverage.first_block is None:
            print(f"{path}: no complete section to index yet ({built} built)")
        else:
            print(
                f"{path}: exact index covers blocks {coverage.first_block}.."
                f"{coverage.last_block} ({built} sections built in {took:.1f}s; blocks above "
                "are indexed in memory by the server)"
            )
    finally:
        store.close()
    return 0
