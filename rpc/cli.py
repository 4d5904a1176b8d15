"""The ``logfilter`` command line.

Subcommands live in :mod:`rpc.commands`, one module each. Every flag of every subcommand can
also come from the environment (``LOGFILTER_MAX_RESULTS``) or a flat TOML file given with the
global ``--config FILE`` (before or after the subcommand; or ``LOGFILTER_CONFIG``): see
:mod:`rpc.commands.settings` and :mod:`rpc.commands.layered`. Every deliberate error (a
:class:`~bloombits.errors.LogfilterError`: flags that cannot work together are a
:class:`~chainindex.errors.ConfigError`, raised by the commands and by
:func:`rpc.server.service.open_service`) or OS error becomes one clear line on stderr and
exit status 1, never a traceback; usage errors (argparse's, and bad values or unknown keys
from the environment or the config file) exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

from bloombits.errors import LogfilterError
from chainindex.aio import first_error
from chainindex.errors import ConfigError
from chainindex.store.faults import storage_fault
from rpc.commands import commands as command_modules
from rpc.commands.layered import LayeredParser
from rpc.commands.settings import CliSettings, flag_actions

__all__ = ["build_parser", "main", "package_version"]

_CONFIG_HELP = (
    "flat TOML file of flag values, keys named as the flags (max-results = 10000); "
    "also LOGFILTER_CONFIG. Precedence: flags, environment (LOGFILTER_<FLAG>), file, defaults"
)


def package_version() -> str:
    """The installed package's version, else the source tree's ``pyproject.toml`` one."""
    try:
        return metadata.version("logfilter")
    except metadata.PackageNotFoundError:
        pass
    try:
        with (Path(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def build_parser(settings: CliSettings | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, with ``settings`` layered under their flags."""
    parser = LayeredParser(
        prog="logfilter",
        description="Fast eth_getLogs over bloom-bit sections, and text search over logs.",
    )
    parser.add_argument("--version", action="version", version=f"logfilter {package_version()}")
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=_CONFIG_HELP)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=LayeredParser
    )
    for command in command_modules():
        command.register(commands)
    for sub in commands.choices.values():
        assert isinstance(sub, LayeredParser)
        sub.settings = settings
        sub.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=_CONFIG_HELP)
    return parser


def _config_path(argv: Sequence[str]) -> str | None:
    """The ``--config`` value wherever it stands in ``argv`` (the full parse checks the rest)."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    pre.add_argument("--config")
    try:
        known, _ = pre.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    path: str | None = known.config
    return path


def _known_keys(parser: argparse.ArgumentParser) -> set[str]:
    keys: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                keys |= set(flag_actions(sub))
    return keys


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line (``environ``: the environment, default ``os.environ``); returns
    the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = CliSettings.load(_config_path(argv), environ)
        parser = build_parser(settings)
        settings.check_file_keys(_known_keys(parser))
        args = parser.parse_args(argv)
    except ConfigError as err:
        print(f"logfilter: {err}", file=sys.stderr)
        return 2
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        try:
            return run(args)
        except BaseExceptionGroup as group:  # a TaskGroup's: report its root cause
            raise first_error(group) from None
    except LogfilterError as err:
        print(f"logfilter: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"logfilter: {_os_error(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _os_error(err: OSError) -> str:
    """One line for an OS error that no command turned into a :class:`LogfilterError`."""
    if err.strerror is None:  # plyvel's IOError: a LevelDB status, as bytes
        fault = storage_fault(err, "use the data directory")
        if fault is not None:
            return str(fault)
    where = f": {err.filename}" if err.filename else ""
    return f"{err.strerror or err}{where}"


if __name__ == "__main__":
    sys.exit(main())
