"""``logfilter config [COMMAND [FLAGS...]]``: the effective configuration, as TOML.

For ``COMMAND``: every flag's value as ``COMMAND FLAGS...`` would see it, with its origin
(``flag``, ``env`` and the variable, ``file`` and the path, or ``default``) in a comment; no
flag is required here. Without ``COMMAND``: every key any subcommand knows, active when the
environment or the config file sets it, commented out with its default otherwise. Either
output is a flat TOML file that ``--config`` accepts back (unset keys stay comments). Follows
``geth dumpconfig``, which prints the effective configuration as a TOML file to start from;
what differs: origins are shown, and keys are flag names, not Go struct fields.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from chainindex.errors import ConfigError
from rpc.commands.layered import Effective, LayeredParser
from rpc.commands.settings import CliSettings, convert, flag_actions

__all__ = ["register", "run", "toml_value"]

_PRECEDENCE = "command line > environment (LOGFILTER_*) > config file > default"


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "config",
        help="print the effective configuration (value and origin of every flag) as TOML",
        description="Print the effective configuration as a flat TOML file (feed it back "
        f"with --config): for COMMAND, each flag's value and where it came from ({_PRECEDENCE}); "
        "without COMMAND, every key set by the environment or the config file.",
    )
    parser.add_argument("subcommand", nargs="?", metavar="COMMAND", help="a subcommand")
    parser.add_argument(
        "flags", nargs=argparse.REMAINDER, metavar="FLAGS", help="flags of COMMAND, as given to it"
    )
    parser.set_defaults(run=run, subcommands=commands.choices)


def toml_value(value: object) -> str | None:
    """``value`` as a TOML value, or None when TOML cannot write it (unset, nested)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str | Path):
        return orjson.dumps(str(value)).decode()
    if isinstance(value, bytes):
        return f'"0x{value.hex()}"'
    if isinstance(value, list | tuple):
        items = [toml_value(item) for item in value]
        if any(item is None for item in items):
            return None
        return "[" + ", ".join(item for item in items if item is not None) + "]"
    return None


def _origin(effective: Effective) -> str:
    return effective.origin if not effective.where else f"{effective.origin} {effective.where}"


def render_command(name: str, effective: Mapping[str, Effective]) -> str:
    """The TOML text of one subcommand's effective flags."""
    lines = [f"# logfilter {name}: effective configuration ({_PRECEDENCE})"]
    for key in sorted(effective):
        item = effective[key]
        text = toml_value(item.value)
        if text is None:
            lines.append(f"# {key} is not set  # {_origin(item)}")
        else:
            lines.append(f"{key} = {text}  # {_origin(item)}")
    return "\n".join(lines) + "\n"


def render_all(settings: CliSettings, parsers: Mapping[str, argparse.ArgumentParser]) -> str:
    """The TOML text of every key: set ones active, the others as commented defaults."""
    owners: dict[str, list[tuple[str, argparse.Action]]] = {}
    for command, parser in parsers.items():
        for key, action in flag_actions(parser).items():
            owners.setdefault(key, []).append((command, action))
    lines = [f"# logfilter: configuration of every command ({_PRECEDENCE})"]
    for key in sorted(owners):
        names = ", ".join(command for command, _ in owners[key])
        raw = settings.raw(key)
        if raw is not None:
            value = _convert_for_any(key, owners[key], settings)
            text = toml_value(value)
            shown = text if text is not None else toml_value(str(raw.value))
            lines.append(f"{key} = {shown}  # {raw.origin} {raw.where} ({names})")
            continue
        defaults = {toml_value(action.default) for _, action in owners[key]}
        if len(defaults) == 1 and None not in defaults:
            lines.append(f"# {key} = {defaults.pop()}  # default ({names})")
        elif defaults == {None}:
            lines.append(f"# {key} is not set  # default ({names})")
        else:
            lines.append(f"# {key}: default depends on the command ({names})")
    return "\n".join(lines) + "\n"


def _convert_for_any(
    key: str, owners: list[tuple[str, argparse.Action]], settings: CliSettings
) -> object:
    """The setting converted by the first command whose flag accepts it."""
    raw = settings.raw(key)
    assert raw is not None
    first: ConfigError | None = None
    for _, action in owners:
        try:
            return convert(action, raw)
        except ConfigError as err:
            first = first or err
    assert first is not None
    raise first


def run(args: argparse.Namespace) -> int:
    """Print the effective configuration."""
    parsers: dict[str, argparse.ArgumentParser] = {
        name: parser for name, parser in args.subcommands.items() if name != "config"
    }
    if args.subcommand is None:
        some = next(iter(parsers.values()))
        assert isinstance(some, LayeredParser)
        assert some.settings is not None
        print(render_all(some.settings, parsers), end="")
        return 0
    target = parsers.get(args.subcommand)
    if target is None:
        raise ConfigError(
            f"config: unknown command {args.subcommand!r} (choose from {', '.join(parsers)})"
        )
    assert isinstance(target, LayeredParser)
    target.viewing = True
    try:
        target.parse_args(args.flags)
    finally:
        target.viewing = False
    print(render_command(args.subcommand, target.effective), end="")
    return 0
