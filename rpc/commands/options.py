"""Flags and helpers shared by the commands that talk to an upstream (sync, export, serve),
and the argparse types of numbers and ports."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from chainindex.errors import ConfigError
from chainindex.logsearch.decode import AbiRegistry
from chainindex.logsearch.index import TextIndex
from chainindex.segments.history import head_start
from chainindex.source import SourceOptions
from chainindex.sync.checkpoint import Checkpoint
from chainindex.sync.indexer import SyncConfig
from rpc.commands.logsetup import add_log_options

__all__ = [
    "add_source_options",
    "add_sync_options",
    "add_text_index_options",
    "non_negative",
    "open_text_index",
    "port",
    "positive",
    "source_options",
    "sync_config",
]


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def chain_id(text: str) -> int:
    """argparse type: a chain id, an integer in [1, 2**64) (decimal or 0x hex)."""
    value = positive(text)
    if value >= 2**64:
        raise argparse.ArgumentTypeError(f"a chain id is below 2**64: {text}")
    return value


def port(text: str) -> int:
    """argparse type: a TCP port, 0-65535 (0: any free port)."""
    value = non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port (0-65535): {text}")
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
    """``--timeout``, ``--retries``, ``--poll-interval``, ``--log-interval``, and the logging
    flags (:func:`~rpc.commands.logsetup.add_log_options`)."""
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
        "--no-verify", action="store_true",
        help="do not check that each block's hash is keccak256 of its header and its "
        "receiptsRoot the trie root of its receipts (checked by default: an upstream that "
        "forges or alters blocks is refused); for sources that omit header fields, such as "
        "some ethereum-etl exports without mixHash",
    )  # fmt: skip
    parser.add_argument(
        "--verify-transactions", action="store_true",
        help="also fetch every block's full transactions and check transactionsRoot (and "
        "each transaction's hash); costs a larger answer per block (off by default)",
    )  # fmt: skip
    parser.add_argument(
        "--log-interval", type=seconds, default=10.0, metavar="S",
        help="seconds between progress lines when stderr is not a terminal (default 10)",
    )  # fmt: skip
    add_log_options(parser)


def add_sync_options(parser: argparse.ArgumentParser) -> None:
    """The flags of how a data directory is synced (``sync`` and ``serve``)."""
    parser.add_argument(
        "--from-block", type=non_negative, metavar="N", help="first block (default 0)"
    )
    parser.add_argument(
        "--section-size", type=positive, default=4096, metavar="N",
        help="blocks per bloom section, a multiple of 8 (default 4096)",
    )  # fmt: skip
    parser.add_argument(
        "--confirmations", type=non_negative, default=256, metavar="N",
        help="blocks on top of a section before it is built (default 256)",
    )  # fmt: skip
    parser.add_argument(
        "--no-logs", action="store_true",
        help="store headers and sections only; logs are fetched from the upstream when needed",
    )  # fmt: skip
    parser.add_argument(
        "--max-reorg-depth", type=non_negative, default=1024, metavar="N",
        help="deepest reorg followed; a deeper one stops sync (default 1024)",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint", metavar="NUMBER:HASH",
        help="refuse a chain that does not contain this block (checked against the data "
        "directory at start and the upstream's block at that height when fetched), as light "
        "clients start from a trusted block",
    )  # fmt: skip
    parser.add_argument(
        "--batch-blocks", type=positive, default=32, metavar="N",
        help="most blocks per upstream request (default 32)",
    )  # fmt: skip


def add_text_index_options(parser: argparse.ArgumentParser) -> None:
    """``--text-index`` and ``--abi`` (``sync`` and ``serve``)."""
    parser.add_argument(
        "--text-index", action="store_true",
        help="also keep the text index of DATADIR/textindex in step (decoded logs, for "
        "`logfilter search` and logfilter_search; serve --no-sync: serve it read-only)",
    )  # fmt: skip
    parser.add_argument(
        "--abi", action="append", default=[], metavar="FILE",
        help="ABI JSON of more events to decode for the text index (repeatable; an ABI array, "
        "or objects with 'abi' and optionally 'addresses'); implies --text-index",
    )  # fmt: skip


def abi_registry(files: Sequence[str]) -> AbiRegistry:
    """The built-in events and those of the ``--abi`` files."""
    registry = AbiRegistry()
    for path in files:
        registry.load_file(path)
    return registry


def open_text_index(args: argparse.Namespace) -> TextIndex:
    """The data directory's text index, decoding with the built-in and ``--abi`` events."""
    return TextIndex.in_datadir(args.datadir, registry=abi_registry(args.abi))


def sync_config(args: argparse.Namespace) -> SyncConfig:
    """The :class:`SyncConfig` the flags ask for (bad values: one clear error); after a
    backfill, the head store starts after the last sealed block."""
    if args.section_size % 8:
        raise ConfigError(f"--section-size {args.section_size} is not a multiple of 8")
    return SyncConfig(
        section_size=args.section_size,
        confirmations=args.confirmations,
        from_block=head_start(args.datadir, args.from_block),
        until=getattr(args, "until", None),
        follow=not getattr(args, "no_follow", False),
        headers_only=args.no_logs,
        max_reorg_depth=args.max_reorg_depth,
        blocks_per_fetch=args.batch_blocks,
        checkpoint=None if args.checkpoint is None else Checkpoint.parse(args.checkpoint),
    )


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The :class:`SourceOptions` the flags ask for."""
    return SourceOptions(
        timeout=args.timeout,
        attempts=args.retries + 1,
        poll_interval=args.poll_interval,
        verify=not args.no_verify,
        verify_transactions=args.verify_transactions,
        chain_id=getattr(args, "chain_id", None),  # era1 files name no chain: --chain-id
    )
