"""``logfilter export``: write a chain archive from any upstream (or archive).

One JSON record per line, ``{"block": ..., "receipts": [...]}`` as the node returned them
(``{"block": ...}`` only with ``--no-logs``), every block validated first. The file appears
whole or not at all.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from chainindex.errors import ConfigError
from chainindex.source import SourceOptions, open_source, write_archive
from rpc.commands.logsetup import setup_logging
from rpc.commands.options import add_source_options, non_negative, source_options


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "export", help="write blocks and receipts of an upstream to a chain archive file"
    )
    parser.add_argument("--upstream", required=True, metavar="URL|FILE", help="node URL or archive")
    parser.add_argument(
        "--from-block", type=non_negative, default=0, metavar="A", help="first block (default 0)"
    )
    parser.add_argument(
        "--to-block",
        type=non_negative,
        metavar="B",
        help="last block (default: the upstream's head)",
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="archive file to write")
    parser.add_argument("--no-logs", action="store_true", help="headers only (no receipts)")
    add_source_options(parser)
    parser.set_defaults(run=run)


async def _export(args: argparse.Namespace, options: SourceOptions) -> int:
    async with open_source(args.upstream, options) as source:
        last = args.to_block if args.to_block is not None else (await source.latest()).number
        if last < args.from_block:
            raise ConfigError(f"--to-block {last} is below --from-block {args.from_block}")
        count = await write_archive(
            source, args.from_block, last, args.out, with_logs=not args.no_logs
        )
    print(f"wrote blocks {args.from_block}..{last} ({count} records) to {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Export the blocks asked for."""
    setup_logging(args)
    return asyncio.run(_export(args, source_options(args)))
