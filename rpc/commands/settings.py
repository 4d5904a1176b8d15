"""Flag values from the environment and a flat TOML file, layered under the command line.

Follows ConfigArgParse (https://github.com/bw2/ConfigArgParse): environment variables and a
config file supply argparse defaults, so that a flag given on the command line still wins.
What differs: no per-flag declarations. Every long flag ``--max-results`` of every
subcommand is also ``LOGFILTER_MAX_RESULTS`` in the environment and ``max-results`` in a
flat TOML file (:mod:`tomllib`), and a value from either is converted and checked exactly as
the flag's own ``type=`` and ``choices=`` would; ``store_true`` flags take booleans
(``true/false``, ``1/0``, ``yes/no``), repeatable and multi-value flags take TOML arrays or
comma-separated environment values. Precedence: command line, environment, file, default.
A file key that no subcommand knows is an error naming the nearest known key; environment
variables naming no flag are ignored (the environment is shared with everything else).

:class:`CliSettings` holds the two sources; :func:`flag_actions` walks a parser's flags;
:func:`convert` turns a raw setting into the value the flag would give.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from chainindex.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "CliSettings",
    "Origin",
    "RawSetting",
    "convert",
    "env_name",
    "flag_actions",
    "flag_name",
    "is_list_flag",
]

ENV_PREFIX = "LOGFILTER_"
"""Prefix of the environment variables that set flags."""

Origin = Literal["flag", "env", "file", "default"]
"""Where an effective value came from."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_NOT_SETTINGS = frozenset({"help", "version", "config"})


@dataclass(frozen=True, slots=True)
class RawSetting:
    """A flag's value as the environment or the config file gives it, not yet converted."""

    value: object
    """The string (environment) or TOML value (file)."""
    origin: Literal["env", "file"]
    """Which source."""
    where: str
    """The variable's name, or ``FILE: key``, for messages."""


def flag_name(action: argparse.Action) -> str | None:
    """The setting name of a flag (its longest ``--`` spelling without the dashes), or None
    for positionals, ``--help``, ``--version``, ``--config`` and subcommand choosers."""
    longs = [s for s in action.option_strings if s.startswith("--")]
    if not longs or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
        return None
    name = max(longs, key=len)[2:]
    return None if name in _NOT_SETTINGS else name


def flag_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Setting name -> action of every flag of ``parser`` (argument groups included)."""
    out: dict[str, argparse.Action] = {}
    for action in parser._actions:
        name = flag_name(action)
        if name is not None:
            out[name] = action
    return out


def env_name(flag: str) -> str:
    """``max-results`` -> ``LOGFILTER_MAX_RESULTS``."""
    return ENV_PREFIX + flag.upper().replace("-", "_")


def is_list_flag(action: argparse.Action) -> bool:
    """Whether the flag's value is a list (repeatable, or several values per use)."""
    return (
        isinstance(action, argparse._AppendAction)
        or action.nargs in ("+", "*")
        or (isinstance(action.nargs, int) and action.nargs > 1)
    )


def _is_switch(action: argparse.Action) -> bool:
    return isinstance(action, argparse._StoreConstAction)


def _boolean(raw: object, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ConfigError(f"{where}: expected true/false, 1/0 or yes/no, not {raw!r}")


def _one(action: argparse.Action, raw: object, where: str) -> object:
    """One value through the flag's ``type=`` and ``choices=``."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ConfigError(f"{where}: expected a single value, not {raw!r}")
    text = raw if isinstance(raw, str) else str(raw)
    kind = action.type
    if kind is None:
        value: object = text
    elif not callable(kind):  # argparse's registry names ("int") are not used here
        raise ConfigError(f"{where}: cannot convert {text!r}")
    else:
        try:
            value = kind(text)
        except argparse.ArgumentTypeError as err:
            raise ConfigError(f"{where}: {err}") from None
        except (TypeError, ValueError):
            name = getattr(kind, "__name__", "value")
            raise ConfigError(f"{where}: invalid {name} value: {text!r}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(repr, action.choices))
        raise ConfigError(f"{where}: invalid choice: {value!r} (choose from {choices})")
    return value


def convert(action: argparse.Action, raw: RawSetting) -> object:
    """The value the flag would give for ``raw`` (a clear :class:`ConfigError` if none)."""
    where = raw.where
    if _is_switch(action):
        return action.const if _boolean(raw.value, where) else action.default
    if isinstance(action, argparse._CountAction):
        return _one(argparse.Action([], "n", type=int), raw.value, where)
    if is_list_flag(action):
        value = raw.value
        if isinstance(value, str):
            items: list[object] = [item.strip() for item in value.split(",") if item.strip()]
        elif isinstance(value, list):
            items = list(value)
        else:
            items = [value]
        return [_one(action, item, where) for item in items]
    return _one(action, raw.value, where)


def _read_file(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not TOML: {err}") from None
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(
                f"{path}: [{key}] is a table; the config file is flat (key = value lines)"
            )
    return data


class CliSettings:
    """The environment and the config file, as raw settings by flag name."""

    def __init__(
        self, environ: Mapping[str, str], file: Mapping[str, object], path: str | None
    ) -> None:
        self.environ = dict(environ)
        """The environment variables read (all of them; only ``LOGFILTER_*`` are used)."""
        self.file = dict(file)
        """The config file's keys and TOML values."""
        self.path = path
        """The config file, if any."""

    @classmethod
    def load(cls, path: str | None, environ: Mapping[str, str] | None = None) -> CliSettings:
        """Read the config file ``path`` (else ``LOGFILTER_CONFIG``, else none)."""
        env = os.environ if environ is None else environ
        path = path or env.get(env_name("config")) or None
        file = _read_file(path) if path else {}
        return cls(env, file, path)

    def raw(self, flag: str) -> RawSetting | None:
        """The environment's value of ``flag``, else the file's, else None."""
        variable = env_name(flag)
        if variable in self.environ:
            return RawSetting(self.environ[variable], "env", variable)
        if flag in self.file:
            return RawSetting(self.file[flag], "file", f"{self.path}: {flag}")
        return None

    def check_file_keys(self, known: Iterable[str]) -> None:
        """Raise on a file key that names no flag of any subcommand."""
        names = sorted(set(known))
        for key in self.file:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ConfigError(f"{self.path}: unknown key {key!r}{hint}")
