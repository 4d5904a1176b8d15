"""``logfilter serve``: the JSON-RPC service (HTTP and WebSocket on one port).

Syncs the data directory from ``--upstream`` in the background (the ``sync`` flags apply)
while answering ``eth_getLogs``, installed filters, subscriptions and ``logfilter_status``;
``--no-sync`` serves an existing data directory read-only. ``--text-index`` (and ``--abi``)
adds ``logfilter_search``: the text index of ``DATADIR/textindex`` is fed as blocks are
synced (read-only under ``--no-sync``; see :mod:`rpc.server.textsearch`).
Binds 127.0.0.1 unless told
otherwise. Stops cleanly on SIGINT/SIGTERM (exit status 0).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from chainindex.errors import ConfigError
from chainindex.filters import QueryConfig
from rpc.commands.malloc import use_flat_malloc
from rpc.commands.options import (
    add_source_options,
    add_sync_options,
    add_text_index_options,
    non_negative,
    positive,
    seconds,
    setup_logging,
    source_options,
    sync_config,
)
from rpc.server.app import DEFAULT_PORT, RpcServer, serve
from rpc.server.limits import Limits
from rpc.server.service import ServiceConfig, open_service

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
        help="node URL or chain archive to sync from (optional with --no-sync)",
    )  # fmt: skip
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory (LevelDB)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=non_negative, default=DEFAULT_PORT, metavar="P",
        help=f"port for HTTP and WebSocket (default {DEFAULT_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--no-sync", action="store_true", help="serve the data directory as it is, read-only"
    )
    parser.add_argument(
        "--proxy", action="store_true",
        help="forward every other method to the upstream node (else: method not found)",
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
        "--query-threads", type=positive, default=1, metavar="N",
        help="worker threads of the query path (default 1: the work holds the GIL)",
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
        help="installed filters per client: a WebSocket connection or an HTTP client address "
        f"(default {_DEFAULTS.max_filters})",
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
    add_source_options(parser)
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
        max_subscriptions=args.max_subscriptions,
        filter_timeout=args.filter_timeout,
    )
    return ServiceConfig(
        datadir=args.datadir,
        upstream=args.upstream,
        sync=sync_config(args),
        source=source_options(args),
        limits=limits,
        read_only=args.no_sync,
        proxy=args.proxy,
        cache_bytes=args.log_cache_mb << 20,
        query_threads=args.query_threads,
        query=QueryConfig(query_path=args.query_path),
        text_index=args.text_index or bool(args.abi),
        abi_files=tuple(args.abi),
    )


def _ready(server: RpcServer) -> None:
    print(f"logfilter: serving {server.url} and {server.ws_url}", file=sys.stderr, flush=True)


async def _serve(args: argparse.Namespace, config: ServiceConfig) -> int:
    async with open_service(config) as service:
        await serve(service, args.host, args.port, on_ready=_ready)
    return 0


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
    setup_logging(args.verbose)
    use_flat_malloc()
    if args.upstream is None and not args.no_sync:
        print("logfilter serve: --upstream is needed unless --no-sync is given", file=sys.stderr)
        return 2
    config = service_config(args)
    with asyncio.Runner(loop_factory=_loop_factory(args.event_loop)) as runner:
        return runner.run(_serve(args, config))
