"""``logfilter serve``: the JSON-RPC service (HTTP and WebSocket on one port).

Syncs the data directory from ``--upstream`` in the background (the ``sync`` flags apply)
while answering ``eth_getLogs``, installed filters, subscriptions and ``logfilter_status``;
``--no-sync`` serves an existing data directory read-only. ``--text-index`` (and ``--abi``)
adds ``logfilter_search``: the text index of ``DATADIR/textindex`` is fed as blocks are
synced (read-only under ``--no-sync``; see :mod:`rpc.server.textsearch`).
Binds 127.0.0.1 unless told
otherwise. Stops cleanly on SIGINT/SIGTERM (exit status 0). ``--processes N`` serves the
port from N processes: this one (the writer) and N - 1 readers of the sealed history
(:mod:`rpc.commands.processes`). On a directory with sealed history (``logfilter
backfill``) it seals the head store's final blocks as ``sync`` does, queries answering
throughout (:mod:`rpc.server.sealing`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from chainindex.errors import ConfigError
from chainindex.filters import QueryConfig
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.store.faults import while_present
from rpc.commands.http_options import add_http_options, http_policy
from rpc.commands.logsetup import setup_logging
from rpc.commands.malloc import use_flat_malloc
from rpc.commands.monitoring_options import add_monitoring_options, monitoring_config
from rpc.commands.options import (
    add_source_options,
    add_sync_options,
    add_text_index_options,
    chain_id,
    non_negative,
    port,
    positive,
    seconds,
    source_options,
    sync_config,
)
from rpc.commands.processes import READER_ENV, serve_with_readers, watch_parent
from rpc.server.app import DEFAULT_PORT, RpcServer, running_server, serve
from rpc.server.http import HttpPolicy
from rpc.server.limits import Limits
from rpc.server.proxy import DEFAULT_PROXY_METHODS, parse_proxy_methods
from rpc.server.readcopy import ReadCopies, clear_stale
from rpc.server.reader import ReaderServer, open_reader_service
from rpc.server.service import Service, ServiceConfig, open_service
from rpc.server.writerlink import WriterLink

__all__ = ["register", "run"]

_DEFAULTS = Limits()


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve eth_getLogs, filters and subscriptions over JSON-RPC (HTTP + WebSocket)",
        description="Serve eth_getLogs, installed filters, subscriptions and logfilter_status "
        "over JSON-RPC (HTTP POST and WebSocket on one port), syncing the data directory from "
        "the upstream in the background.",
    )
    parser.add_argument(
        "--upstream", metavar="URL|FILE",
        help="node URL, chain archive or era1:DIR (with --chain-id) to sync from "
        "(optional with --no-sync)",
    )  # fmt: skip
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, metavar="P",
        help=f"port for HTTP and WebSocket, 0-65535 (default {DEFAULT_PORT}; 0: any free port)",
    )  # fmt: skip
    parser.add_argument(
        "--no-sync", action="store_true", help="serve the data directory as it is, read-only"
    )
    parser.add_argument(
        "--proxy", action="store_true",
        help="forward the methods of --proxy-methods to the upstream node (else: method not "
        "found); by default read-only ones: eth_call, eth_getBalance, eth_getBlockBy*, "
        "eth_getTransaction*, receipts, fees, eth_syncing...",
    )  # fmt: skip
    parser.add_argument(
        "--proxy-methods", metavar="LIST",
        help="with --proxy: the comma-separated methods forwarded, replacing the default "
        "read-only list ('default' in the list stands for it: default,debug_traceCall "
        "extends it); names are exact, so admin_, debug_, personal_, miner_, engine_ and "
        "transaction-sending methods are forwarded only when named",
    )  # fmt: skip
    parser.add_argument(
        "--event-loop", choices=("auto", "uvloop", "asyncio"), default="auto",
        help="asyncio event loop: uvloop when installed (auto, the default: more "
        "requests/s, see BENCHMARKS.md), or the standard one",
    )  # fmt: skip
    parser.add_argument(
        "--log-cache-mb", type=non_negative, default=64, metavar="MB",
        help="MiB for each cache of recent blocks' logs (parsed records, encoded log "
        "objects); 0 turns them off (default 64)",
    )  # fmt: skip
    parser.add_argument(
        "--exact-cache-mb", type=non_negative, default=64, metavar="MB",
        help="MiB for the exact log index's cache of decoded records of values in repeated "
        "use (kept once used by 2 of the last 256 queries); 0 turns it off (default 64)",
    )  # fmt: skip
    parser.add_argument(
        "--query-threads", type=positive, default=1, metavar="N",
        help="worker threads of the query path (default 1: the work holds the GIL)",
    )  # fmt: skip
    parser.add_argument(
        "--chain-id", type=chain_id, metavar="N",
        help="the chain's id, as for sync: checked against the upstream's and the data "
        "directory's, stored when the directory has none",
    )  # fmt: skip
    parser.add_argument(
        "--processes", type=positive, default=1, metavar="N",
        help="processes answering on the port (default 1): this one syncs and holds the head "
        "store, installed filters and subscriptions; N - 1 more answer eth_getLogs over the "
        "sealed history of `logfilter backfill` and pass everything else to it",
    )  # fmt: skip
    parser.add_argument(
        "--query-path", choices=("auto", "exact", "bloom"), default="auto",
        help="how log queries find their blocks: auto (the exact log index where the data "
        "directory has one, the bloom sections elsewhere; the default), exact (the same, "
        "named for benchmarks), bloom (never the exact index)",
    )  # fmt: skip
    add_sync_options(parser)
    add_text_index_options(parser)
    limits = parser.add_argument_group("limits (each exceeded: a JSON-RPC error)")
    limits.add_argument(
        "--max-block-range", type=non_negative, default=_DEFAULTS.max_block_range, metavar="N",
        help=f"blocks per range query, 0 for no limit (default {_DEFAULTS.max_block_range})",
    )  # fmt: skip
    limits.add_argument(
        "--max-results", type=non_negative, default=_DEFAULTS.max_results, metavar="N",
        help="logs per query, 0 for no limit: answers are then streamed "
        f"(default {_DEFAULTS.max_results})",
    )  # fmt: skip
    limits.add_argument(
        "--max-values", type=non_negative, default=_DEFAULTS.max_values, metavar="N",
        help="addresses, and alternatives per topic position, in a filter "
        f"(default {_DEFAULTS.max_values})",
    )  # fmt: skip
    limits.add_argument(
        "--max-body-bytes", type=positive, default=_DEFAULTS.max_body_bytes, metavar="N",
        help=f"largest request body or message (default {_DEFAULTS.max_body_bytes})",
    )  # fmt: skip
    limits.add_argument(
        "--request-timeout", type=seconds, default=_DEFAULTS.request_timeout, metavar="S",
        help=f"seconds per request or batch (default {_DEFAULTS.request_timeout:g})",
    )  # fmt: skip
    limits.add_argument(
        "--max-batch", type=positive, default=_DEFAULTS.max_batch, metavar="N",
        help=f"calls per batch (default {_DEFAULTS.max_batch})",
    )  # fmt: skip
    limits.add_argument(
        "--max-filters", type=positive, default=_DEFAULTS.max_filters, metavar="N",
        help="installed filters in all, whoever installs them (unpolled ones expire after "
        f"--filter-timeout) (default {_DEFAULTS.max_filters})",
    )  # fmt: skip
    limits.add_argument(
        "--max-connection-filters", type=positive, default=_DEFAULTS.max_connection_filters,
        metavar="N",
        help="installed filters per WebSocket connection "
        f"(default {_DEFAULTS.max_connection_filters})",
    )  # fmt: skip
    limits.add_argument(
        "--max-subscriptions", type=positive, default=_DEFAULTS.max_subscriptions, metavar="N",
        help=f"subscriptions per WebSocket connection (default {_DEFAULTS.max_subscriptions})",
    )  # fmt: skip
    limits.add_argument(
        "--filter-timeout", type=seconds, default=_DEFAULTS.filter_timeout, metavar="S",
        help="seconds without a poll before an installed filter expires "
        f"(default {_DEFAULTS.filter_timeout:g})",
    )  # fmt: skip
    limits.add_argument(
        "--max-concurrent-requests", type=positive, metavar="N",
        default=_DEFAULTS.max_concurrent_requests,
        help="calls running at once; cheap ones (eth_blockNumber, eth_chainId...) are not "
        f"counted (default {_DEFAULTS.max_concurrent_requests})",
    )  # fmt: skip
    limits.add_argument(
        "--max-concurrent-queries", type=positive, metavar="N",
        default=_DEFAULTS.max_concurrent_queries,
        help="of those, log queries (eth_getLogs, eth_getFilterLogs, logfilter_search) "
        "building their answer at once; the others take turns, which bounds the memory of "
        f"large answers (default {_DEFAULTS.max_concurrent_queries})",
    )  # fmt: skip
    limits.add_argument(
        "--queue-wait", type=seconds, default=_DEFAULTS.queue_wait, metavar="S",
        help="seconds a call may wait for one of those slots; then it is answered at once "
        f"with -32005 'server busy' (default {_DEFAULTS.queue_wait:g})",
    )  # fmt: skip
    add_http_options(parser)
    add_source_options(parser)
    add_monitoring_options(parser)
    parser.set_defaults(run=run)


def service_config(args: argparse.Namespace) -> ServiceConfig:
    """The :class:`ServiceConfig` the flags ask for."""
    limits = Limits(
        max_block_range=args.max_block_range,
        max_results=args.max_results,
        max_values=args.max_values,
        max_body_bytes=args.max_body_bytes,
        request_timeout=args.request_timeout,
        max_batch=args.max_batch,
        max_filters=args.max_filters,
        max_connection_filters=args.max_connection_filters,
        max_subscriptions=args.max_subscriptions,
        filter_timeout=args.filter_timeout,
        max_concurrent_requests=args.max_concurrent_requests,
        queue_wait=args.queue_wait,
        max_concurrent_queries=args.max_concurrent_queries,
    )
    return ServiceConfig(
        datadir=args.datadir,
        upstream=args.upstream,
        sync=dataclasses.replace(sync_config(args), chain_id=args.chain_id),
        source=source_options(args),
        limits=limits,
        read_only=args.no_sync,
        proxy=args.proxy,
        proxy_methods=_proxy_methods(args),
        cache_bytes=args.log_cache_mb << 20,
        query_threads=args.query_threads,
        query=QueryConfig(query_path=args.query_path, exact_cache_bytes=args.exact_cache_mb << 20),
        text_index=args.text_index or bool(args.abi),
        abi_files=tuple(args.abi),
    )


def _proxy_methods(args: argparse.Namespace) -> frozenset[str]:
    if args.proxy_methods is None:
        return DEFAULT_PROXY_METHODS
    if not args.proxy:
        raise ConfigError("--proxy-methods needs --proxy")
    return parse_proxy_methods(args.proxy_methods)


def _ready(server: RpcServer) -> None:
    print(f"logfilter: serving {server.url} and {server.ws_url}", file=sys.stderr, flush=True)
    if server.monitor.port is not None:
        metrics = f"http://{server.host}:{server.monitor.port}/metrics"
        print(f"logfilter: metrics on {metrics}", file=sys.stderr, flush=True)


async def _serve(args: argparse.Namespace, config: ServiceConfig, http: HttpPolicy) -> int:
    async with open_service(config) as service:
        if args.processes > 1:
            if not isinstance(service.engine, SegmentedQueryEngine):
                raise ConfigError(
                    f"--processes {args.processes}: {config.datadir} has no sealed history for "
                    "more processes to serve (build it with `logfilter backfill`)"
                )
            # Copies a crash left: no reader uses them, as this process holds the directory.
            await asyncio.to_thread(clear_stale, config.datadir)
            running = serve_with_readers(
                service,
                args.host,
                args.port,
                args.processes,
                sys.argv[1:],
                config.datadir,
                on_ready=_ready,
                http=http,
                monitoring=monitoring_config(args),
            )
        else:
            running = serve(
                service,
                args.host,
                args.port,
                on_ready=_ready,
                http=http,
                monitoring=monitoring_config(args),
            )
        await while_present(config.datadir, running)  # a removed data directory: exit 1
    return 0


async def _serve_reader(
    args: argparse.Namespace, config: ServiceConfig, http: HttpPolicy, channel: str
) -> int:
    """A reader process of ``--processes N`` (started by the writer, see
    :mod:`rpc.commands.processes`); no metrics port of its own. SIGTERM and the writer's
    end stop it, at any moment of its life, with its copies removed. SIGINT is left to the
    writer (Ctrl-C reaches the whole process group: the writer then stops its readers, and
    a reader that stopped first would look like a failure)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        watch_parent(stop.set)
        monitoring = dataclasses.replace(monitoring_config(args), metrics_port=None)
        with ReadCopies(config.datadir) as copies:
            async with (
                open_reader_service(config, str(copies.path)) as service,
                WriterLink(channel) as link,
            ):
                server = ReaderServer(service, link, http, monitoring)
                running = _reader_serves(service, server, args, stop)
                await while_present(config.datadir, running)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


async def _reader_serves(
    service: Service, server: ReaderServer, args: argparse.Namespace, stop: asyncio.Event
) -> None:
    if stop.is_set():
        return
    async with running_server(service, args.host, args.port, server=server, reuse_port=True):
        print("ready", flush=True)  # to the writer, through the pipe of stdout
        await stop.wait()


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``--event-loop`` asks for (None: the standard one)."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("--event-loop uvloop: uvloop is not installed") from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    setup_logging(args)
    use_flat_malloc()
    channel = os.environ.get(READER_ENV)
    if channel:  # a reader process of --processes N, started by the writer
        config, http = service_config(args), http_policy(args)
        with asyncio.Runner(loop_factory=_loop_factory(args.event_loop)) as runner:
            return runner.run(_serve_reader(args, config, http, channel))
    if args.upstream is None and not args.no_sync:
        print("logfilter serve: --upstream is needed unless --no-sync is given", file=sys.stderr)
        return 2
    config = service_config(args)
    http = http_policy(args)
    with asyncio.Runner(loop_factory=_loop_factory(args.event_loop)) as runner:
        return runner.run(_serve(args, config, http))
