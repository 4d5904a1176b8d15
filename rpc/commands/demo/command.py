"""``logfilter demo``: see logfilter work on a fresh machine, no node needed.

Generates a small deterministic mainnet-like chain (:mod:`chainindex.synthetic`), syncs it
with its text index into a demo directory (progress bar on stderr), starts the server on
127.0.0.1, prints ready-to-paste ``curl``, web3.py and client-library examples, runs some
of them against the live server (``eth_getLogs``, a polled filter, a text search) and
keeps serving until Ctrl-C (SIGINT or SIGTERM: a clean stop, exit status 0). While it
serves, the chain grows by one block every :data:`BLOCK_SECONDS` (from blocks generated
ahead), so installed filters and subscriptions see new logs. ``--no-serve`` stops after
the examples. A second run reuses the demo directory (see :mod:`rpc.commands.demo.setup`).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chainindex.errors import ConfigError
from chainindex.source import ArchiveSource, ReplaySource
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from chainindex.sync.indexer import SyncConfig
from chainindex.synthetic import FILL_PRESETS
from rpc.commands.demo.examples import client_snippet, curl_examples, web3_snippet
from rpc.commands.demo.setup import DemoError, DemoSpec, PreparedDemo, prepare
from rpc.commands.demo.tour import run_tour
from rpc.commands.logsetup import add_log_options, setup_logging
from rpc.commands.malloc import use_flat_malloc
from rpc.commands.options import port, positive
from rpc.server.app import DEFAULT_PORT, RpcServer, running_server
from rpc.server.service import ServiceConfig, open_service

__all__ = ["BLOCK_SECONDS", "DEFAULTS", "register", "run"]

BLOCK_SECONDS = 4.0
"""Seconds between two new blocks of the served demo chain."""

DEFAULTS: dict[str, tuple[int, int]] = {"sparse": (12288, 4096), "saturated": (1024, 256)}
"""Blocks and section size per fill: a few sections each, set up in well under a minute
(a saturated block is about 20 times larger than a sparse one)."""


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="generate, sync and serve a demo chain, and run example queries against it",
        description="Generate a small mainnet-like chain, sync it (with its text index) into "
        "a demo directory, serve it on 127.0.0.1, print curl / web3.py / client examples, "
        "run some of them, and keep serving (the chain growing a block every "
        f"{BLOCK_SECONDS:g} s) until Ctrl-C. A second run reuses the demo directory.",
    )
    parser.add_argument(
        "--datadir", default="logfilter-demo", metavar="DIR",
        help="demo directory: archive, data directory, manifest (default ./logfilter-demo)",
    )  # fmt: skip
    parser.add_argument(
        "--fill", choices=sorted(FILL_PRESETS), default="sparse",
        help="bloom fill of the chain: sparse (5%% of bits, early mainnet) or saturated "
        "(50%%, recent mainnet) (default sparse)",
    )  # fmt: skip
    parser.add_argument(
        "--blocks", type=positive, metavar="N",
        help="blocks synced at setup (default: "
        + ", ".join(f"{blocks} {fill}" for fill, (blocks, _) in DEFAULTS.items())
        + ")",
    )  # fmt: skip
    parser.add_argument(
        "--section-size", type=positive, metavar="N",
        help="blocks per bloom section, a multiple of 8 (default: "
        + ", ".join(f"{size} {fill}" for fill, (_, size) in DEFAULTS.items())
        + ")",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, metavar="P",
        help=f"port of the server on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)",
    )  # fmt: skip
    parser.add_argument("--no-serve", action="store_true", help="stop after running the examples")
    add_log_options(parser)
    parser.set_defaults(run=run)


def _spec(args: argparse.Namespace) -> DemoSpec:
    blocks, size = DEFAULTS[args.fill]
    spec = DemoSpec(
        blocks=args.blocks or blocks, fill=args.fill, section_size=args.section_size or size
    )
    if spec.section_size % 8:
        raise ConfigError(f"--section-size {spec.section_size} is not a multiple of 8")
    return spec


def _out(text: str = "") -> None:
    print(text, flush=True)


def _print_examples(url: str, demo: PreparedDemo) -> None:
    picks = demo.picks
    _out(f"\nlogfilter is serving the demo chain at {url} (WebSocket: ws{url[4:]})")
    _out(
        f"blocks 0..{picks.recent_to} synced, bloom sections of {demo.spec.section_size}, "
        f"text index in {demo.datadir}/textindex; a new block every {BLOCK_SECONDS:g} s"
    )
    _out("\n# curl")
    for example in curl_examples(picks):
        _out(f"# {example.title}")
        _out(example.command(url))
    _out("\n# web3.py (pip install web3)")
    _out(web3_snippet(url, picks))
    _out("\n# the client library (this package: from rpc.client import Client)")
    _out(client_snippet(url, picks))


async def _synced_head(datadir: Path) -> int:
    store = open_datadir(datadir)
    try:
        head = (await ChainReader(store).state()).head
    finally:
        store.close()
    if head is None:
        raise DemoError(f"{datadir} holds no synced blocks: delete the demo directory")
    return head.number


async def _grow(replay: ReplaySource) -> None:
    """Release one block every :data:`BLOCK_SECONDS` until the archive is used up."""
    while replay.remaining:
        await asyncio.sleep(BLOCK_SECONDS)
        await replay.release(1)
    print(
        "demo: the chain has reached its last generated block; it stays as it is",
        file=sys.stderr,
        flush=True,
    )


async def _serve(args: argparse.Namespace, demo: PreparedDemo, started: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    archive = ArchiveSource(demo.archive)
    try:
        replay = ReplaySource(archive, await _synced_head(demo.datadir))
        config = ServiceConfig(
            datadir=str(demo.datadir),
            upstream=None,
            sync=SyncConfig(section_size=demo.spec.section_size, confirmations=0),
            text_index=True,  # logfilter_search; new blocks are indexed as they come
        )
        async with open_service(config, source=replay) as service:
            indexer = service.indexer
            assert indexer is not None  # a syncing service has one
            try:
                async with running_server(service, "127.0.0.1", args.port) as server:
                    await _show(args, demo, server, replay, indexer.wait_synced, started, stop)
            except OSError as err:
                if err.errno == errno.EADDRINUSE:
                    raise DemoError(
                        f"port {args.port} on 127.0.0.1 is taken: pass --port P "
                        "(0 picks a free one)"
                    ) from None
                raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await archive.aclose()
    return 0


async def _show(
    args: argparse.Namespace,
    demo: PreparedDemo,
    server: RpcServer,
    replay: ReplaySource,
    synced: Callable[[int], Awaitable[object]],
    started: float,
    stop: asyncio.Event,
) -> None:
    """Examples, the tour, the closing line; then serve until ``stop`` (unless --no-serve)."""
    _print_examples(server.url, demo)
    _out("\n# running some of them against the server:")
    tour = asyncio.ensure_future(run_tour(server, curl_examples(demo.picks), replay, synced, _out))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({tour, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not tour.done():
            tour.cancel()
            _out("\ndemo: stopped")
            return
        tour.result()
        _out(_closing_line(demo, time.monotonic() - started, args.no_serve, server.url))
        if args.no_serve:
            return
        async with asyncio.TaskGroup() as tasks:
            growing = tasks.create_task(_grow(replay))
            await stopping
            growing.cancel()
        _out("demo: stopped")
    finally:
        for task in (tour, stopping):
            task.cancel()
        await asyncio.gather(tour, stopping, return_exceptions=True)


def _closing_line(demo: PreparedDemo, seconds: float, no_serve: bool, url: str) -> str:
    if demo.reused:
        how = f"reused {demo.root}: nothing generated or synced"
    else:
        how = ", ".join(f"{name} {s:.1f} s" for name, s in demo.phases.items())
    then = "done" if no_serve else f"serving {url} until Ctrl-C"
    return f"\ndemo ready in {seconds:.1f} s ({how}); {then}"


def run(args: argparse.Namespace) -> int:
    """Set up (or reuse) the demo, run the examples, serve until Ctrl-C."""
    setup_logging(args)
    use_flat_malloc()
    started = time.monotonic()
    spec = _spec(args)
    root = Path(args.datadir)
    demo = prepare(root, spec)
    if demo.reused:
        print(
            f"demo: reusing {root} (generated and synced before; delete it to start over)",
            file=sys.stderr,
            flush=True,
        )
    if not args.verbose:  # the served chain's sync lines would interleave with the examples
        logging.getLogger("chainindex.sync.indexer").setLevel(logging.WARNING)
    with asyncio.Runner() as runner:
        return runner.run(_serve(args, demo, started))
