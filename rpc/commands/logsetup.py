"""Logging of the long-running commands: ``--log-level``, ``--log-format``, ``-v``.

The flags follow geth's ``--verbosity``/``--log.format`` pair, spelled as Python's level
names; ``-v`` is short for ``--log-level debug``. ``--log-format text`` writes
``logfilter: LEVEL: message`` lines to stderr, as before; ``--log-format json`` writes one
JSON object per record (:class:`JsonLogFormatter`: ``ts``, ``level``, ``logger``, ``msg``,
then every ``extra=`` field of the call, e.g. the access log's), for log shippers. What
differs from :func:`logging.basicConfig`: the root handler is replaced, not added to, so a
command that sets up logging twice (the demo) does not log twice.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

import orjson

__all__ = ["LEVELS", "JsonLogFormatter", "add_log_options", "log_level", "setup_logging"]

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
"""``--log-level`` names."""

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
"""Attributes every :class:`logging.LogRecord` has; the others came from ``extra=``."""


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ``ts`` (RFC 3339, UTC), ``level``, ``logger``, ``msg``,
    the call's ``extra=`` fields, and ``exc`` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """``--log-level``, ``--log-format`` and ``-v``/``--verbose``."""
    parser.add_argument(
        "--log-level", choices=list(LEVELS), default="info",
        help="least severe records logged (default info)",
    )  # fmt: skip
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text",
        help="text lines, or one JSON object per line (default text)",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="short for --log-level debug")


def log_level(args: argparse.Namespace) -> int:
    """The level the flags ask for (``-v`` wins)."""
    return logging.DEBUG if args.verbose else LEVELS[args.log_level]


def setup_logging(args: argparse.Namespace, stream: TextIO | None = None) -> None:
    """Log records at the flags' level and format to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if args.log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("logfilter: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log_level(args))
