"""Flags and helpers shared by the commands that talk to an upstream (sync, export)."""

from __future__ import annotations

import argparse
import logging

from chainindex.source import SourceOptions

__all__ = ["add_source_options", "non_negative", "positive", "setup_logging", "source_options"]


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--timeout``, ``--retries``, ``--poll-interval``, ``--log-interval``, ``--verbose``."""
    parser.add_argument(
        "--timeout", type=seconds, default=30.0, metavar="S",
        help="seconds to wait for an upstream answer (default 30)",
    )  # fmt: skip
    parser.add_argument(
        "--retries", type=non_negative, default=5, metavar="N",
        help="retries of a failed or invalid upstream answer, with backoff (default 5)",
    )  # fmt: skip
    parser.add_argument(
        "--poll-interval", type=seconds, default=1.0, metavar="S",
        help="seconds between head polls over HTTP (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--log-interval", type=seconds, default=10.0, metavar="S",
        help="seconds between progress lines when stderr is not a terminal (default 10)",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The :class:`SourceOptions` the flags ask for."""
    return SourceOptions(
        timeout=args.timeout, attempts=args.retries + 1, poll_interval=args.poll_interval
    )


def setup_logging(verbose: bool) -> None:
    """Warnings (rejected answers, retries, reorgs) to stderr; info too with --verbose."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="logfilter: %(levelname)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("chainindex.indexer").setLevel(logging.INFO)
