"""``logfilter sync``: follow a node (or read an archive) into a data directory.

Stores headers, canonical hashes and logs, builds bloom sections once confirmed, handles
reorgs, and resumes where it stopped after any interruption (see
:mod:`chainindex.sync.indexer`). A first sync that fails before any block is committed
removes the data directory it created; an archive with a bad line syncs every block before
it, then fails naming the line. Progress goes to stderr: a bar on a terminal, a line every few
seconds otherwise; the final summary to stdout. While it runs, the data directory's admin
socket (:mod:`rpc.server.ipc`) answers ``logfilter backup``. A data directory removed while
sync runs stops it with one line (:func:`chainindex.store.faults.while_present`).

On a directory with sealed history (``logfilter backfill``), sync also seals the head
store's oldest final blocks into further segments as they become final
(:mod:`chainindex.segments.sealing`), and first finishes a seal that a kill cut short;
``--text-index`` indexes the sealed blocks too, read from their segments.

``--chain-id N`` names the chain: checked against the upstream's ``eth_chainId`` (or an
archive's ``chainId``) and the directory's, and stored when the directory has none. Without
``--upstream`` it only does that, for a directory synced from an archive that had none.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainindex.check.startup import startup_check
from chainindex.errors import ConfigError
from chainindex.logsearch.feed import sync_with_text_index
from chainindex.logsearch.index import TextIndex
from chainindex.segments.history import SegmentHistory, check_boundary
from chainindex.segments.manifest import read_manifest
from chainindex.segments.sealing import HeadSealer, finish_sealing, keep_sealed, segment_size
from chainindex.source import ArchiveSource, SourceOptions, open_source
from chainindex.store import open_datadir
from chainindex.store.faults import while_present
from chainindex.store.kv import KeyValueStore
from chainindex.store.writer import set_chain_id
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from rpc.commands.logsetup import setup_logging
from rpc.commands.malloc import use_flat_malloc
from rpc.commands.options import (
    abi_registry,
    add_source_options,
    add_sync_options,
    add_text_index_options,
    chain_id,
    non_negative,
    open_text_index,
    source_options,
    sync_config,
)
from rpc.commands.progress import ProgressReporter
from rpc.server.ipc import AdminIpc, with_admin_socket


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "sync",
        help="sync headers, logs and bloom sections from a node or a chain archive",
        description="Sync headers, logs and bloom sections from a node (http(s)/ws(s) URL) "
        "or a chain archive file into a data directory, then follow the head. "
        "A generated chain streams straight in with --upstream "
        "'synthetic:FILL?blocks=N&seed=S' (FILL: saturated, sparse or a fraction; more keys: "
        "first, logs-per-block, contracts, holders; the chain of `logfilter generate`).",
    )
    parser.add_argument(
        "--upstream", metavar="URL|FILE|SPEC",
        help="node URL, chain archive, era1:DIR (go-ethereum's era1 files of pre-merge "
        "history; needs --chain-id), or synthetic:FILL?blocks=N[&seed=S] (a generated "
        "chain); leave out to only set --chain-id on a synced directory",
    )  # fmt: skip
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    parser.add_argument(
        "--until", type=non_negative, metavar="N", help="stop once block N is synced"
    )
    parser.add_argument(
        "--no-follow", action="store_true", help="stop once the upstream's head is reached"
    )
    parser.add_argument(
        "--chain-id",
        type=chain_id,
        metavar="N",
        help="the chain's id: checked against the upstream's and the data directory's, and "
        "stored when the directory has none (synced from an archive without one)",
    )
    add_sync_options(parser)
    add_text_index_options(parser)
    add_source_options(parser)
    parser.set_defaults(run=run)


@dataclass
class _SyncOutcome:
    """What a failed sync leaves: whether any block was committed."""

    committed: bool = False


async def _sync(
    args: argparse.Namespace, config: SyncConfig, options: SourceOptions, outcome: _SyncOutcome
) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    store = open_datadir(args.datadir)
    indexer: ChainIndexer | None = None
    text = None
    history = None
    try:
        await startup_check(store, args.datadir, registry=abi_registry(args.abi))
        text = open_text_index(args) if args.text_index or args.abi else None
        manifest = read_manifest(args.datadir)
        sealer = None
        if manifest is not None:  # sealed history: seal the head's oldest part as it is final
            finish_sealing(store, args.datadir, config.section_size)  # a seal cut short
            sealer = HeadSealer(
                args.datadir, args.upstream, config.section_size, segment_size(manifest),
                confirmations=config.confirmations, headers_only=config.headers_only,
                chain_id=config.chain_id, options=options,
            )  # fmt: skip
            if text is not None:  # sealed history is indexed too, read from its segments
                history = SegmentHistory.open(args.datadir)
        async with open_source(args.upstream, options) as source:
            await check_boundary(source, args.datadir)  # after a backfill: the same chain
            reporter = ProgressReporter(sys.stderr, interval=args.log_interval)
            indexer = ChainIndexer(store, source, config, observer=reporter)
            work = indexer.run() if text is None else sync_with_text_index(indexer, text, history)
            if sealer is not None:
                running = indexer
                work = keep_sealed(
                    work, sealer, store, running.writer.lock,
                    lambda: running.status.phase != "starting",
                )  # fmt: skip
            await while_present(
                args.datadir, with_admin_socket(AdminIpc(args.datadir, store), work)
            )
            if isinstance(source, ArchiveSource) and source.defect is not None:
                raise source.defect  # all before the cut-off line is synced (a rerun too)
            status = indexer.status
            reporter.finish(status)
            print(
                f"synced blocks {indexer.writer.state().tail}..{status.synced_head} "
                f"({status.sections} sections of {config.section_size}) into {args.datadir}"
            )
    except BaseException:
        outcome.committed = indexer is not None and indexer.writer.state().head is not None
        _close(store, text, history)
        raise
    _close(store, text, history)
    return 0


def _set_chain_id(args: argparse.Namespace) -> int:
    """``sync --chain-id N`` without an upstream: record it (or check it) and stop."""
    if args.chain_id is None:
        raise ConfigError("give --upstream (a node URL or an archive), or --chain-id alone")
    store = open_datadir(args.datadir)
    try:
        changed = set_chain_id(store, args.chain_id)
    finally:
        store.close()
    verb = "set" if changed else "checked"
    print(f"{verb} chain id {args.chain_id} of {args.datadir}")
    return 0


def _close(store: KeyValueStore, text: TextIndex | None, history: SegmentHistory | None) -> None:
    if text is not None:
        text.close()
    if history is not None:
        history.close()
    store.close()


def run(args: argparse.Namespace) -> int:
    """Sync until ``--until``, the end of an archive, or forever (follow mode)."""
    setup_logging(args)
    use_flat_malloc()  # flat memory on long syncs (see rpc.commands.malloc)
    config = dataclasses.replace(sync_config(args), chain_id=args.chain_id)
    if args.upstream is None:
        return _set_chain_id(args)
    datadir = Path(args.datadir)
    created = not datadir.exists()
    outcome = _SyncOutcome()
    try:
        return asyncio.run(_sync(args, config, source_options(args), outcome))
    except BaseException as err:
        if created and not outcome.committed and datadir.exists():
            shutil.rmtree(datadir)  # a first sync that synced nothing leaves nothing behind
        if isinstance(err, asyncio.CancelledError):  # SIGTERM: stopped cleanly
            return 143
        raise
