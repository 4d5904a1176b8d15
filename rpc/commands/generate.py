"""``logfilter generate``: write a deterministic, mainnet-like synthetic chain archive.

The archive has the shape of ``tests/data/CHAINS.md`` (one ``{"chainId", "block",
"receipts"}`` record per line, ``--chain-id`` in each), readable wherever the indexer accepts
a chain archive; ``--headers-only`` writes ``{"chainId", "block"}`` records only, for very
long chains. Progress goes to stderr on a terminal; a summary line goes to stderr at the end
(``--quiet`` silences both).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from chainindex.errors import ConfigError, SyntheticChainError
from chainindex.synthetic import (
    CLASS_NAMES,
    DEFAULT_CHAIN_ID,
    DEFAULT_MIX,
    ChainGenerator,
    ChainShape,
    GenerationStats,
    parse_fill,
    parse_mix,
    write_archive,
)
from rpc.commands.options import chain_id, non_negative, positive

_DEFAULTS = ChainShape()


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "generate",
        help="write a deterministic mainnet-like synthetic chain archive",
        description="Write a deterministic, mainnet-like synthetic chain archive: one block "
        "and its receipts per line, in the shape of eth_getBlockByNumber and "
        "eth_getBlockReceipts answers. Same options and seed, same bytes.",
    )
    parser.add_argument(
        "--blocks",
        type=positive,
        required=True,
        metavar="N",
        help="number of blocks (a full archive takes about 380 KB per block at saturated "
        "fill, 18 KB at sparse fill; headers only, 1.4 KB)",
    )
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="archive file to write (- for stdout)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, metavar="S", help="random seed (default 0)"
    )
    density = parser.add_mutually_exclusive_group()
    density.add_argument(
        "--fill",
        metavar="F",
        type=_fill,
        help="mean share of the 2048 bloom bits set per block: sparse (5%%), saturated "
        "(50%%, the default) or a fraction such as 0.3",
    )
    density.add_argument(
        "--logs-per-block",
        metavar="N",
        type=_nonnegative_float,
        help="mean logs per block, instead of --fill",
    )
    parser.add_argument(
        "--headers-only", action="store_true", help="write headers only (no receipts)"
    )
    parser.add_argument(
        "--chain-id",
        metavar="N",
        type=chain_id,
        default=DEFAULT_CHAIN_ID,
        help=f"chain id written into every record (default {DEFAULT_CHAIN_ID})",
    )
    parser.add_argument(
        "--first-block",
        metavar="N",
        type=non_negative,
        default=0,
        help="height of the first block (default 0)",
    )
    parser.add_argument(
        "--contracts",
        metavar="N",
        type=non_negative,
        default=_DEFAULTS.contracts,
        help=f"log-emitting contracts (default {_DEFAULTS.contracts})",
    )
    parser.add_argument(
        "--contract-top-share",
        metavar="F",
        type=float,
        default=_DEFAULTS.contract_top_share,
        help="share of logs from the top 1%% of contracts "
        f"(default {_DEFAULTS.contract_top_share})",
    )
    parser.add_argument(
        "--holders",
        metavar="N",
        type=non_negative,
        default=_DEFAULTS.holders,
        help=f"accounts appearing in topics (default {_DEFAULTS.holders})",
    )
    parser.add_argument(
        "--holder-zipf",
        metavar="F",
        type=float,
        default=_DEFAULTS.holder_zipf,
        help=f"Zipf exponent of holder popularity (default {_DEFAULTS.holder_zipf})",
    )
    parser.add_argument(
        "--mix",
        metavar="SPEC",
        type=_mix,
        default=DEFAULT_MIX,
        help="share of logs per contract class, e.g. "
        + ",".join(f"{name}={share:g}" for name, share in DEFAULT_MIX)
        + f" (the default; classes: {', '.join(CLASS_NAMES)})",
    )
    parser.add_argument(
        "--logs-per-transaction",
        metavar="F",
        type=float,
        default=_DEFAULTS.logs_per_transaction,
        help=f"mean logs of a transaction that has any (default {_DEFAULTS.logs_per_transaction})",
    )
    parser.add_argument(
        "--block-time",
        metavar="SECONDS",
        type=non_negative,
        default=_DEFAULTS.block_time,
        help=f"seconds per slot (default {_DEFAULTS.block_time})",
    )
    parser.add_argument(
        "--genesis-time",
        metavar="T",
        type=non_negative,
        default=_DEFAULTS.genesis_time,
        help=f"timestamp of block 0 (default {_DEFAULTS.genesis_time})",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--quiet", action="store_true", help="print nothing to stderr")
    parser.set_defaults(run=run)


def _seed(text: str) -> int:
    value = non_negative(text)
    if value >= 2**64:
        raise argparse.ArgumentTypeError(f"must be below 2**64: {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _fill(text: str) -> float:
    try:
        return parse_fill(text)
    except SyntheticChainError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _mix(text: str) -> tuple[tuple[str, float], ...]:
    try:
        return parse_mix(text)
    except SyntheticChainError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _shape(args: argparse.Namespace) -> ChainShape:
    logs_per_block: float | None = args.logs_per_block
    fill: float | None = None
    if logs_per_block is None:
        fill = args.fill if args.fill is not None else _DEFAULTS.fill
    return ChainShape(
        fill=fill,
        logs_per_block=logs_per_block,
        contracts=args.contracts,
        contract_top_share=args.contract_top_share,
        holders=args.holders,
        holder_zipf=args.holder_zipf,
        mix=args.mix,
        logs_per_transaction=args.logs_per_transaction,
        block_time=args.block_time,
        genesis_time=args.genesis_time,
    )


class _Meter:
    """Progress on one terminal line: blocks, blocks/s, logs/s, fill so far."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __call__(self, stats: GenerationStats, seconds: float) -> None:
        rate = stats.blocks / seconds if seconds > 0 else 0.0
        logs = stats.logs / seconds if seconds > 0 else 0.0
        share = stats.blocks / self.total if self.total else 1.0
        sys.stderr.write(
            f"\r{stats.blocks}/{self.total} blocks ({share:.0%}), {rate:,.0f} blocks/s, "
            f"{logs:,.0f} logs/s, fill {stats.fill:.1%}   "
        )
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Generate the archive; one summary line on stderr."""
    generator = ChainGenerator(
        _shape(args),
        args.seed,
        first_block=args.first_block,
        headers_only=args.headers_only,
        chain_id=args.chain_id,
    )
    meter = _Meter(args.blocks) if not args.quiet and sys.stderr.isatty() else None
    if args.out != "-" and Path(args.out).exists() and not args.force:
        raise ConfigError(f"{args.out} exists (use --force to overwrite it)")
    if args.out == "-":
        stats = write_archive(generator, sys.stdout.buffer, args.blocks, progress=meter)
        sys.stdout.buffer.flush()
    else:
        stats = write_archive(
            generator, args.out, args.blocks, progress=meter, overwrite=args.force
        )
    if meter is not None:
        sys.stderr.write("\n")
    if not args.quiet:
        last = args.first_block + args.blocks - 1
        kind = "headers" if args.headers_only else "blocks"
        print(
            f"wrote {kind} {args.first_block}..{last} ({stats.logs:,} logs, "
            f"{stats.transactions:,} transactions, mean bloom fill {stats.fill:.1%}, "
            f"{generator.mean_logs:.1f} logs per block on average) to {args.out}",
            file=sys.stderr,
        )
    return 0
