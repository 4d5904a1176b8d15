"""The ``logfilter`` command line.

Subcommands live in :mod:`rpc.commands`, one module each. Every deliberate error (a
:class:`~bloombits.errors.LogfilterError`: flags that cannot work together are a
:class:`~chainindex.errors.ConfigError`, raised by the commands and by
:func:`rpc.server.service.open_service`) or OS error becomes one clear line on stderr and
exit status 1, never a traceback; argparse's usage errors exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from bloombits.errors import LogfilterError
from rpc.commands import COMMANDS

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (the usage is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="logfilter",
        description="Fast eth_getLogs over bloom-bit sections, and text search over logs.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except LogfilterError as err:
        print(f"logfilter: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        print(f"logfilter: {err.strerror or err}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
