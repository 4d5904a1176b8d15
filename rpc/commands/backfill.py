"""``logfilter backfill``: build a data directory's final history as sealed segments, in
parallel, on a Dask cluster or a local process pool.

The range ``--from-block`` (default 0) .. ``--to-block``, cut down to whole sections, is
split into segments of ``--segment-blocks`` (default 16 sections); each is synced into its
own store under ``DATADIR/segments/<first>-<last>/`` by a worker and sealed; the coordinator
checks the hash links and publishes ``DATADIR/manifest.json`` (see
:mod:`chainindex.segments`). ``--to-block`` must be final: at most the upstream's head minus
``--confirmations`` (an archive's or a generated chain's every block is). Afterwards
``logfilter sync``/``serve`` on the same directory continue from the block after the last
sealed one, in the head store, which handles reorgs and seals its oldest part into
further segments as it becomes final (:mod:`chainindex.segments.sealing`). Rerunning after
an interruption (even ``kill -9``) keeps the sealed segments and builds the rest; a larger
``--to-block`` extends the history while the head store is still empty.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from chainindex.errors import ConfigError
from chainindex.segments.coordinator import BackfillPlan, Span, run_backfill
from chainindex.segments.executors import TaskRunner
from chainindex.segments.manifest import SealedSegment, read_manifest
from chainindex.source import SourceOptions, open_source
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from chainindex.sync.checkpoint import Checkpoint
from rpc.commands.logsetup import setup_logging
from rpc.commands.options import (
    add_source_options,
    add_sync_options,
    chain_id,
    non_negative,
    positive,
    source_options,
)

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "backfill",
        help="build final history as sealed segments in parallel (Dask or a process pool)",
        description="Build blocks --from-block..--to-block (final ones) as sealed segments "
        "of a data directory, in parallel: on a Dask cluster (--scheduler), a Dask "
        "LocalCluster, or a process pool when Dask is not installed. sync/serve on the "
        "directory then continue from the block after the last sealed one.",
    )
    parser.add_argument(
        "--upstream", required=True, metavar="URL|FILE|SPEC",
        help="node URL, chain archive, or synthetic:FILL?blocks=N[&seed=S]",
    )  # fmt: skip
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory")
    parser.add_argument(
        "--to-block", required=True, type=non_negative, metavar="N",
        help="last block (cut down to the end of a section; must be final)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=positive, default=2, metavar="K",
        help="worker processes of the local cluster or pool (default 2)",
    )  # fmt: skip
    parser.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="a Dask scheduler (tcp://HOST:8786) whose workers build the segments",
    )  # fmt: skip
    parser.add_argument(
        "--segment-blocks", type=positive, metavar="B",
        help="blocks per segment, a multiple of --section-size (default 16 sections)",
    )  # fmt: skip
    parser.add_argument(
        "--max-requests", type=positive, default=16, metavar="N",
        help="upstream requests in flight across all workers (default 16)",
    )  # fmt: skip
    parser.add_argument(
        "--segment-retries", type=non_negative, default=3, metavar="N",
        help="times a failed segment is built again from scratch (default 3)",
    )  # fmt: skip
    parser.add_argument("--chain-id", type=chain_id, metavar="N", help="the chain's id")
    add_sync_options(parser)
    add_source_options(parser)
    parser.set_defaults(run=run)


class _Progress:
    """Backfill progress for people: one line per event on ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started_at = time.monotonic()
        self.blocks = 0

    def started(self, total: int, sealed: int, where: str) -> None:
        print(
            f"backfill: {total} segments ({sealed} sealed already) on {where}",
            file=self.out,
            flush=True,
        )

    def sealed(self, segment: SealedSegment, done: int, total: int) -> None:
        self.blocks += segment.last - segment.first + 1
        rate = self.blocks / max(time.monotonic() - self.started_at, 1e-9)
        print(
            f"backfill: segment {segment.name} sealed ({done}/{total}; {rate:,.0f} blocks/s)",
            file=self.out,
            flush=True,
        )

    def failed(self, span: Span, attempt: int, error: BaseException) -> None:
        print(
            f"backfill: segment {span[0]}-{span[1]} failed (attempt {attempt}): {error}; "
            "building it again from scratch",
            file=self.out,
            flush=True,
        )


async def _final_block(upstream: str, options: SourceOptions, confirmations: int) -> int:
    """The highest block the upstream treats as final here: its head minus
    ``confirmations``, or its last block when it is finite (an archive)."""
    async with open_source(upstream, options) as source:
        head = await source.latest()
        return head.number if source.finite else head.number - confirmations


def _head_store_tail(datadir: Path) -> int | None:
    """First block of the head store (``DATADIR`` itself), None when it holds none."""
    if not (datadir / "CURRENT").exists():
        return None
    store = open_datadir(datadir)
    try:
        return ChainReader(store).view_sync(lambda view: view.state()).tail
    finally:
        store.close()


def _plan(args: argparse.Namespace) -> BackfillPlan:
    if args.section_size % 8:
        raise ConfigError(f"--section-size {args.section_size} is not a multiple of 8")
    datadir = Path(args.datadir)
    existing = read_manifest(datadir)
    first = args.from_block
    if first is None:
        first = 0 if existing is None else existing.first
    final = asyncio.run(_final_block(args.upstream, source_options(args), args.confirmations))
    if args.to_block > final:
        raise ConfigError(
            f"--to-block {args.to_block} is not final yet: the upstream's final block is "
            f"{final} (its head minus --confirmations {args.confirmations})"
        )
    segment_blocks = args.segment_blocks or 16 * args.section_size
    plan = BackfillPlan(
        datadir=str(datadir),
        upstream=args.upstream,
        first=first,
        last=args.to_block,
        section_size=args.section_size,
        segment_blocks=segment_blocks,
        headers_only=args.no_logs,
        chain_id=args.chain_id,
        options=source_options(args),
        blocks_per_fetch=args.batch_blocks,
        max_requests=args.max_requests,
        retries=args.segment_retries,
        checkpoint=None if args.checkpoint is None else Checkpoint.parse(args.checkpoint),
    )
    spans = plan.spans()
    tail = _head_store_tail(datadir)
    if tail is not None and spans and tail != spans[-1][1] + 1:
        raise ConfigError(
            f"the head store of {datadir} starts at block {tail}: a backfill must end just "
            f"below it (at block {tail - 1}), not at block {spans[-1][1]}"
        )
    return plan


def run(args: argparse.Namespace) -> int:
    """Build the segments and publish the manifest; prints where sync continues."""
    setup_logging(args)
    plan = _plan(args)
    progress = _Progress(sys.stderr)
    with TaskRunner(args.workers, args.scheduler) as runner:
        manifest = run_backfill(plan, runner, progress)
    took = time.monotonic() - progress.started_at
    print(
        f"sealed blocks {manifest.first}..{manifest.last} in {len(manifest.segments)} segments "
        f"into {args.datadir} ({took:.1f} s); sync and serve continue from block "
        f"{manifest.last + 1}"
    )
    return 0
