"""``logfilter check``: read every record of a data directory and say what is wrong.

Every LevelDB read verifies block checksums, the database is opened with
``paranoid_checks``; headers link and hash, logs decode and match their header's bloom, the
bloom sections and the exact index match what they are derived from, the text index's
commit point and files check out (:mod:`chainindex.check`). One line per problem on stdout
(the component and the blocks, never a file path) and exit status 1; or one line saying
the directory is sound and exit status 0. Nothing is written. Run it while ``sync`` and
``serve`` are stopped (it needs the directory's lock).
"""

from __future__ import annotations

import argparse
from typing import Any

from chainindex.check.datadir import check_datadir
from chainindex.check.problems import CheckReport
from rpc.commands.logsetup import add_log_options, setup_logging

__all__ = ["print_problems", "register", "run"]


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "check",
        help="check every record of a data directory (checksums, links, derived data)",
        description="Read every record of a data directory with LevelDB checksums verified: "
        "headers link and hash, logs match their blooms, the bloom sections, the exact index "
        "and the text index match the chain. Prints one line per problem and exits 1, or "
        "exits 0. `logfilter repair` rebuilds the derived data.",
    )
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    add_log_options(parser)
    parser.set_defaults(run=run)


def print_problems(report: CheckReport) -> None:
    """The problems, one line each, and what to do about them."""
    for problem in report.problems:
        print(problem.line())
    if report.derived:
        print("derived data damaged: `logfilter repair --datadir DIR` rebuilds it")
    for problem in report.primary:
        if problem.first is not None:
            print(
                f"{problem.component} of blocks {problem.first}-{problem.last} cannot be "
                "rebuilt here: resync that range from a node into a new data directory, "
                "or restore a backup"
            )


def run(args: argparse.Namespace) -> int:
    """Check ``--datadir``; 0 when sound."""
    setup_logging(args)
    report = check_datadir(args.datadir)
    if report.sound:
        print(report.summary())
        return 0
    print_problems(report)
    return 1
