"""``logfilter sync``: follow a node (or read an archive) into a data directory.

Stores headers, canonical hashes and logs, builds bloom sections once confirmed, handles
reorgs, and resumes where it stopped after any interruption (see
:mod:`chainindex.sync.indexer`). Progress goes to stderr: a bar on a terminal, a line every few
seconds otherwise; the final summary to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from chainindex.logsearch.feed import sync_with_text_index
from chainindex.source import SourceOptions, open_source
from chainindex.store import open_datadir
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from rpc.commands.malloc import use_flat_malloc
from rpc.commands.options import (
    add_source_options,
    add_sync_options,
    add_text_index_options,
    non_negative,
    open_text_index,
    setup_logging,
    source_options,
    sync_config,
)
from rpc.commands.progress import ProgressReporter


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "sync",
        help="sync headers, logs and bloom sections from a node or a chain archive",
        description="Sync headers, logs and bloom sections from a node (http(s)/ws(s) URL) "
        "or a chain archive file into a data directory, then follow the head.",
    )
    parser.add_argument("--upstream", required=True, metavar="URL|FILE", help="node URL or archive")
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    parser.add_argument(
        "--until", type=non_negative, metavar="N", help="stop once block N is synced"
    )
    parser.add_argument(
        "--no-follow", action="store_true", help="stop once the upstream's head is reached"
    )
    add_sync_options(parser)
    add_text_index_options(parser)
    add_source_options(parser)
    parser.set_defaults(run=run)


async def _sync(args: argparse.Namespace, config: SyncConfig, options: SourceOptions) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    store = open_datadir(args.datadir)
    text = open_text_index(args) if args.text_index or args.abi else None
    try:
        async with open_source(args.upstream, options) as source:
            reporter = ProgressReporter(sys.stderr, interval=args.log_interval)
            indexer = ChainIndexer(store, source, config, observer=reporter)
            if text is None:
                await indexer.run()
            else:
                await sync_with_text_index(indexer, text)
            status = indexer.status
            reporter.finish(status)
            print(
                f"synced blocks {status.tail}..{status.synced_head} "
                f"({status.sections} sections of {config.section_size}) into {args.datadir}"
            )
    finally:
        if text is not None:
            text.close()
        store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    """Sync until ``--until``, the end of an archive, or forever (follow mode)."""
    setup_logging(args.verbose)
    use_flat_malloc()  # flat memory on long syncs (see rpc.commands.malloc)
    config = sync_config(args)
    try:
        return asyncio.run(_sync(args, config, source_options(args)))
    except asyncio.CancelledError:  # SIGTERM: stopped cleanly
        return 143
