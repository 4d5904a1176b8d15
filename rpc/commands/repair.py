"""``logfilter repair``: rebuild a data directory's derived data from its stored chain.

Checks the directory (as ``logfilter check``); when LevelDB found damaged blocks, salvages
the database first (LevelDB's ``RepairDB``); rebuilds damaged bloom sections and exact
index from the stored headers and logs, and a damaged text index from the stored logs
(decoding with the built-in events and ``--abi`` files: pass those ``sync`` had); checks
again (:mod:`chainindex.check.repair`). Exit status 0 when the directory is then sound;
1 with the problems left (headers and logs, which only a node can give again) otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from chainindex.check.repair import repair_datadir
from chainindex.logsearch.decode.registry import AbiRegistry
from rpc.commands.check import print_problems
from rpc.commands.logsetup import add_log_options, setup_logging

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "repair",
        help="rebuild a data directory's damaged bloom sections, exact index and text index",
        description="Check a data directory, salvage its LevelDB when blocks of it are "
        "damaged, rebuild the damaged bloom sections, exact index and text index from the "
        "stored chain, and check again. Damaged headers or logs are reported (exit 1).",
    )
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    parser.add_argument(
        "--abi", action="append", default=[], metavar="FILE",
        help="ABI JSON of more events the text index decodes (as given to sync; repeatable)",
    )  # fmt: skip
    add_log_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Repair ``--datadir``; 0 when it is sound afterwards."""
    setup_logging(args)
    registry = AbiRegistry()
    for path in args.abi:
        registry.load_file(path)
    outcome = repair_datadir(args.datadir, registry)
    if outcome.before.sound:
        print(outcome.after.summary())
        return 0
    if outcome.salvaged:
        print("salvaged the LevelDB database (damaged blocks dropped)")
    for what in outcome.rebuilt:
        print(f"rebuilt the {what}")
    if outcome.after.sound:
        print(outcome.after.summary())
        return 0
    print_problems(outcome.after)
    return 1
