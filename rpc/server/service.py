"""The service: everything the API methods share, and its background work.

:class:`Service` holds the store's reader, the query engine (with the data directory's one
:class:`~chainindex.filters.retriever.SectionRetriever` and one :class:`~bloombits.ValueCache`), the
installed filters, the subscriptions, the indexer when the service syncs, the upstream
when it is a node (for ``safe``/``finalized`` and ``--proxy``), and the text index with its
feed when asked for (``--text-index``: :mod:`rpc.server.textsearch`).

:meth:`Service.run` is the background work, in one task group: the indexer, the chain-event
fan-out (value-cache invalidation and query restarts on reorgs, installed filters,
subscriptions), the expiry of installed filters, the exact index's head (brought up to date
after each commit), and the text index's feed. :func:`open_service`
builds a service from a data directory and an upstream and closes everything in order on exit
(the text index and the retriever before the store).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from bloombits.errors import LogfilterError
from bloombits.valuecache import ValueCache
from chainindex.aio import run_to_completion
from chainindex.check.startup import startup_check
from chainindex.errors import ConfigError, EventsLaggedError, HeaderNotFoundError
from chainindex.filters import BlockTag, FilterTable, LogQueryEngine, QueryConfig
from chainindex.filters.retriever import SectionRetriever
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.hexutil import decode_quantity
from chainindex.logsearch.decode import AbiRegistry
from chainindex.segments.history import SegmentHistory, check_boundary
from chainindex.segments.manifest import read_manifest
from chainindex.segments.sealing import HeadSealer, finish_sealing, segment_size
from chainindex.source import ChainSource, RpcSource, SourceOptions, open_source
from chainindex.source.ondemand import LogCache
from chainindex.source.transport import JsonRpcTransport
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader, ChainState
from chainindex.store.sections import SectionStore
from chainindex.sync.events import ChainEvents
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from chainindex.types import Header
from rpc.server.admission import Admission
from rpc.server.codec import EncodedLogs
from rpc.server.ipc import AdminIpc
from rpc.server.limits import Limits
from rpc.server.proxy import DEFAULT_PROXY_METHODS
from rpc.server.sealing import HistorySealing
from rpc.server.subscriptions import SubscriptionHub
from rpc.server.textsearch import TextSearch, open_text_search

__all__ = ["Service", "ServiceConfig", "UpstreamFinality", "open_service"]

log = logging.getLogger("rpc.server.service")

EXPIRY_INTERVAL = 5.0
"""Most seconds between two sweeps of expired filters (half the timeout if shorter)."""


class UpstreamFinality:
    """``safe``/``finalized`` block numbers asked of the upstream node, cached ``ttl`` s."""

    def __init__(self, transport: JsonRpcTransport, ttl: float = 1.0) -> None:
        self.transport = transport
        """The node."""
        self.ttl = ttl
        """Seconds an answer is reused."""
        self._cache: dict[BlockTag, tuple[float, int]] = {}

    async def numbers(self, tags: set[BlockTag]) -> Mapping[BlockTag, int]:
        out: dict[BlockTag, int] = {}
        now = time.monotonic()
        for tag in sorted(tags):
            cached = self._cache.get(tag)
            if cached is not None and now - cached[0] < self.ttl:
                out[tag] = cached[1]
                continue
            block = await self.transport.call("eth_getBlockByNumber", [tag.value, False])
            if not isinstance(block, dict):
                raise HeaderNotFoundError(f"{tag.value} header not found")
            number = decode_quantity(block.get("number"), f"upstream {tag.value} block number")
            self._cache[tag] = (now, number)
            out[tag] = number
        return out


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What ``logfilter serve`` was asked for."""

    datadir: str
    """The data directory."""
    upstream: str | None
    """Node URL or archive file (optional with ``read_only``)."""
    sync: SyncConfig = field(default_factory=SyncConfig)
    """How to sync (ignored when read-only)."""
    source: SourceOptions = field(default_factory=SourceOptions)
    """How to talk to the upstream."""
    limits: Limits = field(default_factory=Limits)
    """Request limits."""
    query: QueryConfig = field(default_factory=QueryConfig)
    """Query-path batching (its ``max_block_range`` is taken from ``limits``)."""
    read_only: bool = False
    """Serve the data directory as it is (``--no-sync``)."""
    query_threads: int = 1
    """Worker threads of the query path (store reads, verification). One by default: the
    work holds the GIL, and more threads only contend for it with the event loop
    (measured: BENCHMARKS.md)."""
    cache_bytes: int = 64 << 20
    """Budget of each of the two caches of recent blocks' logs: parsed records (query path)
    and encoded log objects (codec); 0 turns both off."""
    proxy: bool = False
    """Forward the methods of ``proxy_methods`` to the upstream node."""
    proxy_methods: frozenset[str] = DEFAULT_PROXY_METHODS
    """The ``--proxy`` allow-list (:mod:`rpc.server.proxy`)."""
    text_index: bool = False
    """Keep (or, read-only, serve) the text index of ``DATADIR/textindex``."""
    abi_files: tuple[str, ...] = ()
    """ABI files of more events the text index decodes (``--abi``)."""


class Service:
    """The state the API methods share (see the module docstring)."""

    def __init__(
        self,
        reader: ChainReader,
        engine: LogQueryEngine,
        limits: Limits,
        *,
        indexer: ChainIndexer | None = None,
        upstream: JsonRpcTransport | None = None,
        proxy: bool = False,
        proxy_methods: frozenset[str] = DEFAULT_PROXY_METHODS,
        state: ChainState | None = None,
        encoded: EncodedLogs | None = None,
        text: TextSearch | None = None,
        admin: AdminIpc | None = None,
        sealing: HistorySealing | None = None,
    ) -> None:
        self.reader = reader
        """The store's read side."""
        self.engine = engine
        """Answers log queries."""
        self.limits = limits
        """Request limits."""
        self.indexer = indexer
        """The background sync (None when read-only)."""
        self.upstream = upstream
        """The upstream node's JSON-RPC transport (None for an archive or none)."""
        self.proxy = proxy
        """Whether unknown methods of ``proxy_methods`` go to the upstream."""
        self.proxy_methods = proxy_methods
        """The ``--proxy`` allow-list."""
        self.filters = FilterTable(
            timeout=limits.filter_timeout, max_pending=limits.max_pending_changes
        )
        """Installed polling filters."""
        self.subscriptions = SubscriptionHub(limits.max_subscriptions)
        """WebSocket subscriptions."""
        self.admission = Admission(
            limits.max_concurrent_requests, limits.queue_wait, limits.max_concurrent_queries
        )
        """The gate of calls running at once (:mod:`rpc.server.admission`)."""
        self.encoded = encoded if encoded is not None else EncodedLogs()
        """Encoded log objects of recent blocks."""
        self.events = indexer.events if indexer is not None else ChainEvents()
        """Chain events (none are published when read-only)."""
        self.text = text
        """The text index and its feed (None: ``logfilter_search`` is not enabled)."""
        self._state = state
        """The state served when read-only (it does not change)."""
        self.admin = admin
        """The data directory's admin socket (:mod:`rpc.server.ipc`), run with the rest."""
        self.sealing = sealing
        """The head store's final blocks sealed into segments as they become final (a
        directory with sealed history that the service syncs: :mod:`rpc.server.sealing`)."""

    @property
    def read_only(self) -> bool:
        """Whether the service serves a data directory without syncing."""
        return self.indexer is None

    def head(self) -> Header | None:
        """The synced head (no store read): the head store's, else the last sealed block
        (a directory just backfilled)."""
        if self.indexer is not None:
            head = self.indexer.head
        else:
            head = None if self._state is None else self._state.head
        return head if head is not None else self.engine.history_head()

    async def state(self) -> ChainState:
        """The synced state of the whole chain, read from the store (and widened to the
        sealed history: :meth:`~chainindex.filters.LogQueryEngine.whole_state`)."""
        return await self.engine.whole_state()

    # --- background work ----------------------------------------------------------------------

    async def run(self) -> None:
        """The background work, until cancelled (or until the indexer fails)."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._fan_out())
            tasks.create_task(self._expire())
            tasks.create_task(self._keep_head_index())
            if self.indexer is not None:
                tasks.create_task(self.indexer.run())
            if self.text is not None:
                tasks.create_task(self.text.run())
            if self.admin is not None:
                tasks.create_task(self.admin.run())
            if self.sealing is not None:
                tasks.create_task(self.sealing.run())

    async def _fan_out(self) -> None:
        while True:
            async with self.events.subscribe() as sub:
                try:
                    async for event in sub:
                        if event.removed:
                            self.engine.notify_reorg(event.removed[0].header.number)
                        self.filters.on_event(event)
                        self.subscriptions.on_event(event)
                except EventsLaggedError:
                    reason = "the server fell behind the chain's events; filters were reset"
                    log.warning("%s", reason)
                    if self.engine.cache is not None:
                        self.engine.cache.clear()
                    self.filters.drop_all(reason)
                    self.subscriptions.drop_all(reason)

    async def _keep_head_index(self) -> None:
        """The query engine's head index follows the store: built at start, brought up to
        date after each commit (a query would otherwise do it first). A failure is logged:
        queries meet it again and answer with an error, the service goes on."""
        await self._refresh_head()
        if self.indexer is None:
            return
        while True:
            async with self.events.subscribe() as sub:
                try:
                    async for _ in sub:
                        await self._refresh_head()
                except EventsLaggedError:
                    continue

    async def _refresh_head(self) -> None:
        try:
            await self.engine.refresh_head()
        except LogfilterError as err:
            log.warning("the head of the exact index could not be brought up to date: %s", err)

    async def _expire(self) -> None:
        interval = min(EXPIRY_INTERVAL, self.limits.filter_timeout / 2)
        while True:
            await asyncio.sleep(interval)
            gone = self.filters.expire()
            if gone:
                log.info("%d installed filters expired", len(gone))


def _registry(files: tuple[str, ...]) -> AbiRegistry:
    """The events a text index rebuilt at start decodes: built in, and ``--abi``'s."""
    registry = AbiRegistry()
    for path in files:
        registry.load_file(path)
    return registry


@asynccontextmanager
async def open_service(
    config: ServiceConfig, *, source: ChainSource | None = None
) -> AsyncIterator[Service]:
    """A service over ``config.datadir`` (see the module docstring); closed on exit.
    :class:`~chainindex.errors.ConfigError` when ``config`` cannot be served (a flag
    combination that cannot work, no data directory or no synced block to serve read-only,
    no upstream to sync from).

    ``source``, when given, is synced from instead of ``config.upstream`` (the caller owns
    and closes it: ``logfilter demo`` passes a :class:`~chainindex.source.ReplaySource`)."""
    async with AsyncExitStack() as stack:
        if config.read_only and not await asyncio.to_thread(Path(config.datadir).is_dir):
            raise ConfigError(f"no data directory at {config.datadir} to serve (--no-sync)")
        store = open_datadir(config.datadir)
        stack.callback(store.close)
        await startup_check(
            store,
            config.datadir,
            read_only=config.read_only,
            registry=_registry(config.abi_files),
        )
        sealed = await asyncio.to_thread(read_manifest, config.datadir)
        if sealed is not None and not config.read_only:  # a seal a kill cut short
            await run_to_completion(
                finish_sealing, store, config.datadir, sealed.segments[0].section_size
            )
        if source is None and config.upstream is not None:
            source = await stack.enter_async_context(open_source(config.upstream, config.source))
        upstream = source.transport if isinstance(source, RpcSource) else None
        if config.proxy and upstream is None:
            raise ConfigError("--proxy needs an upstream node URL (not an archive file)")
        indexer = None
        state = None
        pool = ThreadPoolExecutor(config.query_threads, thread_name_prefix="query")
        stack.callback(pool.shutdown)
        if config.read_only:
            fetcher = LogCache(source) if source is not None else None
            if sealed is not None:  # a head store still empty after a backfill: its settings
                SectionStore(store, sealed.segments[0].section_size)
            reader = ChainReader(store, fetcher=fetcher, executor=pool)
            state = await reader.state()
            if state.head is None and sealed is None:
                raise ConfigError(f"the data directory {config.datadir} holds no synced blocks")
        else:
            if source is None:
                raise ConfigError("an upstream (--upstream) is needed unless --no-sync is given")
            indexer = ChainIndexer(store, source, config.sync)
            reader = ChainReader(store, fetcher=indexer.logs_cache, executor=pool)
        retriever = SectionRetriever(reader.sections)
        stack.callback(retriever.close)  # closed before the store (callbacks run in reverse)
        finality = (
            UpstreamFinality(upstream) if upstream is not None and not config.read_only else None
        )
        query = replace(config.query, max_block_range=config.limits.max_block_range)
        history = await asyncio.to_thread(
            SegmentHistory.open, config.datadir, fetcher=reader.fetcher, executor=pool
        )
        engine: LogQueryEngine
        sealing = None
        if history is None:
            engine = LogQueryEngine(
                reader, retriever, cache=ValueCache(), finality=finality, config=query
            )
        else:  # after `logfilter backfill`: sealed segments below the head store
            stack.callback(history.close)
            if source is not None and not config.read_only:
                await check_boundary(source, config.datadir)
            engine = SegmentedQueryEngine(
                history, reader, retriever, cache=ValueCache(), finality=finality, config=query
            )
            stack.callback(engine.close)
            if indexer is not None and config.upstream is not None:
                sealing = HistorySealing(
                    _sealer(config, history), engine, indexer, store, reader.fetcher, pool
                )
        text = None
        if config.text_index or config.abi_files:
            text = await stack.enter_async_context(
                open_text_search(
                    config.datadir,
                    config.abi_files,
                    reader,
                    None if indexer is None else indexer.events,
                    threads=config.query_threads,
                    history=history,
                )
            )
        yield Service(
            reader,
            engine,
            config.limits,
            indexer=indexer,
            upstream=upstream,
            proxy=config.proxy,
            proxy_methods=config.proxy_methods,
            state=state,
            encoded=EncodedLogs(config.cache_bytes),
            text=text,
            admin=AdminIpc(config.datadir, store),
            sealing=sealing,
        )


def _sealer(config: ServiceConfig, history: SegmentHistory) -> HeadSealer:
    """The sealer ``logfilter sync`` would use on this directory (see
    :mod:`chainindex.segments.sealing`)."""
    assert config.upstream is not None
    sync = config.sync
    return HeadSealer(
        config.datadir,
        config.upstream,
        sync.section_size,
        segment_size(history.manifest),
        confirmations=sync.confirmations,
        headers_only=sync.headers_only,
        chain_id=sync.chain_id,
        options=config.source,
    )
