"""The subcommands' argument parser: argparse with settings layered under the flags.

An :class:`argparse.ArgumentParser` (same flags, same ``type=`` checks, same help) whose
flags not given on the command line take their value from the environment or the config
file (:class:`~rpc.commands.settings.CliSettings`), then from their own default. What
differs from plain argparse: before parsing, every flag's default becomes a marker, so that
after parsing the parser knows which flags the command line gave; a flag that the
environment or file supplies is no longer required; a repeatable flag given on the command
line replaces the layered list instead of appending to it; in a mutually exclusive group, a
flag given on the command line silences the layered values of the others. The effective
value and origin of every flag is kept in :attr:`LayeredParser.effective` (for ``logfilter
config``). Usage errors are one line (the usage itself is in ``--help``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from chainindex.errors import ConfigError
from rpc.commands.settings import CliSettings, Origin, convert, flag_actions

__all__ = ["Effective", "LayeredParser"]


class _Unset(list[object]):
    """The default of every flag while parsing: still the very object afterwards means the
    command line did not give the flag (a list, so that ``append`` flags can copy it)."""


_UNSET = _Unset()


@dataclass(frozen=True, slots=True)
class Effective:
    """A flag's effective value and where it came from."""

    value: object
    """The value the command sees."""
    origin: Origin
    """``flag``, ``env``, ``file`` or ``default``."""
    where: str
    """The environment variable or ``FILE: key`` (empty for flags and defaults)."""


class LayeredParser(argparse.ArgumentParser):
    """An argparse parser with environment and config-file values under its flags (see the
    module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings: CliSettings | None = None
        """The environment and config file; None: plain argparse."""
        self.viewing = False
        """True for ``logfilter config``: no flag or positional is required."""
        self.effective: dict[str, Effective] = {}
        """Flag name -> value and origin, after the last parse."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        settings = self.settings
        if settings is None:
            return super().parse_known_args(args, namespace)
        flags = flag_actions(self)
        saved = [(a, a.default, a.required) for a in flags.values()]
        groups = [(g, g.required) for g in self._mutually_exclusive_groups]
        positionals = [(a, a.nargs) for a in self._actions if not a.option_strings]
        if self.viewing:
            for action, nargs in positionals:
                if nargs is None:
                    action.nargs = "?"
        for name, action in flags.items():
            action.default = _UNSET
            if self.viewing or settings.raw(name) is not None:
                action.required = False
        for group, _ in groups:
            if self.viewing or any(
                settings.raw(n) is not None for n, a in flags.items() if a in group._group_actions
            ):
                group.required = False
        try:
            parsed, extras = super().parse_known_args(args, namespace)
        finally:
            for action, default, required in saved:
                action.default, action.required = default, required
            for group, required in groups:
                group.required = required
            for action, nargs in positionals:
                action.nargs = nargs
        self.effective = self._resolve(parsed, flags, settings)
        return parsed, extras

    def _resolve(
        self, parsed: Any, flags: dict[str, argparse.Action], settings: CliSettings
    ) -> dict[str, Effective]:
        """Fill in the flags the command line did not give; returns every flag's origin."""
        given = {
            name
            for name, action in flags.items()
            if getattr(parsed, action.dest, _UNSET) is not _UNSET
        }
        silenced: set[str] = set()
        for group in self._mutually_exclusive_groups:
            members = {n for n, a in flags.items() if a in group._group_actions}
            if members & given:
                silenced |= members - given
            else:
                layered = sorted(n for n in members if settings.raw(n) is not None)
                if len(layered) > 1:
                    raise ConfigError(
                        f"{' and '.join(f'--{n}' for n in layered)} cannot be used together "
                        f"(set by {', '.join(_where(settings, n) for n in layered)})"
                    )
        out: dict[str, Effective] = {}
        for name, action in flags.items():
            raw = None if name in silenced else settings.raw(name)
            if name in given:
                value = getattr(parsed, action.dest)
                effective = Effective(
                    list(value) if isinstance(value, _Unset) else value, "flag", ""
                )
            elif raw is not None:
                effective = Effective(convert(action, raw), raw.origin, raw.where)
            else:
                effective = Effective(_default(action), "default", "")
            setattr(parsed, action.dest, effective.value)
            out[name] = effective
        return out


def _where(settings: CliSettings, name: str) -> str:
    raw = settings.raw(name)
    return "" if raw is None else raw.where


def _default(action: argparse.Action) -> object:
    """The flag's own default, converted as argparse converts a string default."""
    default = action.default
    if isinstance(default, str) and callable(action.type):
        return action.type(default)
    return default
