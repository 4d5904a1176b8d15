"""The ``serve`` flags of the HTTP conventions (see :mod:`rpc.server.http`): virtual hosts,
CORS origins, gzip and the access log, as go-ethereum's ``--http.vhosts`` and
``--http.corsdomain`` (``cmd/utils/flags.go``); gzip and the access log have no geth flag."""

from __future__ import annotations

import argparse
import logging

from rpc.commands.options import non_negative
from rpc.server.access import access_log
from rpc.server.http import HttpPolicy

__all__ = ["add_http_options", "http_policy"]


def add_http_options(parser: argparse.ArgumentParser) -> None:
    """``--vhosts``, ``--cors-origins``, ``--gzip-min-bytes``, ``--no-gzip``, ``--access-log``."""
    group = parser.add_argument_group("HTTP conventions")
    group.add_argument(
        "--vhosts", default="localhost", metavar="LIST",
        help="comma-separated host names accepted in the Host header of JSON-RPC requests "
        "(HTTP and WebSocket), '*' for any; IP addresses are always accepted, other names "
        "get 403 (DNS rebinding); /metrics, /health, /ready are exempt (default localhost)",
    )  # fmt: skip
    group.add_argument(
        "--cors-origins", default="", metavar="LIST",
        help="comma-separated browser origins allowed to call (e.g. https://app.example.com, "
        "'*' for any, one '*' wildcard inside a pattern); default none",
    )  # fmt: skip
    group.add_argument(
        "--gzip-min-bytes", type=non_negative, default=1024, metavar="N",
        help="smallest answer gzip-compressed (level 1) for clients sending Accept-Encoding: "
        "gzip, streamed answers too (default 1024)",
    )  # fmt: skip
    group.add_argument("--no-gzip", action="store_true", help="never compress answers")
    group.add_argument(
        "--access-log", action="store_true",
        help="log one line per request (methods, outcome, duration, remote, bytes) on the "
        "rpc.server.access logger",
    )  # fmt: skip


def http_policy(args: argparse.Namespace) -> HttpPolicy:
    """The :class:`HttpPolicy` the flags ask for (bad lists: a ConfigError); ``--access-log``
    also lets the access logger's lines through whatever the log level."""
    if args.access_log:
        access_log.setLevel(logging.INFO)
    return HttpPolicy.from_flags(
        args.vhosts,
        args.cors_origins,
        None if args.no_gzip else args.gzip_min_bytes,
        args.access_log,
    )
