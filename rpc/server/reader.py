"""A reader process of ``serve --processes N``: sealed history answered here, the rest by the
writer.

A reader opens its own read-only copies of the sealed segments (:mod:`rpc.server.readcopy`)
and serves the shared port (SO_REUSEPORT) with the writer and the other readers. It answers
by itself what needs nothing but immutable history: an ``eth_getLogs`` whose ``fromBlock``
and ``toBlock`` are both block numbers inside the history it opened, or whose ``blockHash``
is a sealed block's. Its engine is the writer's
:class:`~chainindex.filters.segmented.SegmentedQueryEngine` over the same segments, so range
checks, limits, planning, verification and encoding are the same code on the same data: the
same answer, byte for byte. A hash it does not find goes to the writer (a block is in one
store only, so the writer, which looks in its head store first, answers it alike); a
headers-only history (``--no-logs``) is left to the writer, which can fetch logs from the
upstream. Every other call goes to the writer through
:class:`~rpc.server.writerlink.WriterLink` and its answer comes back unchanged: a range that
reaches the head store or names a tag (``latest``, ``safe``...), installed filters
(``eth_newFilter``, ``eth_getFilterChanges``...: the writer holds the one filter table, so a
filter polled through any process is found), ``eth_blockNumber``, ``logfilter_search``,
unknown methods (the writer's ``--proxy`` decides). A WebSocket is relayed whole to the
writer (:class:`ReaderServer`): subscriptions and per-connection limits live there, for the
connection's lifetime.

``logfilter_status`` is the writer's, with ``process`` telling which process answered (a
reader adds the history it serves and how many ``eth_getLogs`` it answered itself and
forwarded).

What differs from one process: a range that spans history and head is answered whole by the
writer (not split between processes), so only queries of sealed history spread over
processes; and a reader's history is the manifest as it was when the reader started.

The model is a read replica (PostgreSQL's hot standby answers reads, the primary writes),
except that a reader shares the primary's immutable files instead of replaying its log, and
forwards what it cannot answer instead of refusing it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from bloombits.valuecache import ValueCache
from chainindex.errors import ConfigError, HexError, UnknownBlockError
from chainindex.filters.retriever import SectionRetriever
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.hexutil import decode_quantity
from chainindex.segments.history import SegmentHistory
from rpc.server.app import RpcServer
from rpc.server.codec import EncodedLogs
from rpc.server.dispatch import CallContext, Dispatcher, Handler, Params, RawJson
from rpc.server.eth_api import EthApi
from rpc.server.http import HttpPolicy
from rpc.server.monitoring import MonitoringConfig
from rpc.server.service import Service, ServiceConfig
from rpc.server.writerlink import WriterLink

__all__ = ["ReaderServer", "open_reader_service", "reader_dispatcher", "sealed_range"]


@asynccontextmanager
async def open_reader_service(config: ServiceConfig, copies: str) -> AsyncIterator[Service]:
    """A read-only service over the sealed segments copied into ``copies``: its engine is a
    :class:`SegmentedQueryEngine` whose "head store" is the last segment (a reader answers
    only ranges inside the history, see :func:`sealed_range`, so the head is never asked).
    :class:`ConfigError` when the data directory has no sealed history."""
    async with AsyncExitStack() as stack:
        pool = ThreadPoolExecutor(config.query_threads, thread_name_prefix="query")
        stack.callback(pool.shutdown)
        history = await asyncio.to_thread(SegmentHistory.open, copies, executor=pool)
        if history is None or not history.segments:
            raise ConfigError(
                f"--processes: {config.datadir} has no sealed history for reader processes to "
                "serve (build it with `logfilter backfill`)"
            )
        stack.callback(history.close)
        last = history.segments[-1].reader
        retriever = SectionRetriever(last.sections)
        stack.callback(retriever.close)
        query = replace(config.query, max_block_range=config.limits.max_block_range)
        engine = SegmentedQueryEngine(history, last, retriever, cache=ValueCache(), config=query)
        stack.callback(engine.close)
        yield Service(
            last,
            engine,
            config.limits,
            state=await last.state(),
            encoded=EncodedLogs(config.cache_bytes),
        )


def sealed_range(params: Params, first: int, last: int) -> bool:
    """Whether ``eth_getLogs`` ``params`` ask for numbered blocks inside ``first..last`` only
    (anything else, invalid parameters included, is the writer's to answer)."""
    if len(params) != 1 or not isinstance(params[0], dict):
        return False
    criteria = params[0]
    if criteria.get("blockHash") is not None:
        return False
    bounds = criteria.get("fromBlock"), criteria.get("toBlock")
    if not all(isinstance(b, str) and b.startswith("0x") for b in bounds):
        return False
    try:
        begin, end = (decode_quantity(b, "block") for b in bounds)
    except HexError:
        return False
    return first <= begin <= end <= last


def _by_hash(params: Params) -> bool:
    """Whether ``eth_getLogs`` ``params`` name a block by its hash."""
    return len(params) == 1 and isinstance(params[0], dict) and "blockHash" in params[0]


def process_info(role: str, **more: Any) -> dict[str, Any]:
    """The ``process`` member of ``logfilter_status`` under ``--processes N``."""
    return {"pid": os.getpid(), "role": role, **more}


def reader_dispatcher(service: Service, link: WriterLink) -> Dispatcher:
    """The reader's method table (see the module docstring)."""
    assert isinstance(service.engine, SegmentedQueryEngine)
    history = service.engine.history
    local_logs = EthApi(service).get_logs
    counts = {"local": 0, "forwarded": 0}
    # A headers-only history (--no-logs) is the writer's: it fetches logs from the upstream.
    with_logs = not any(segment.seal.headers_only for segment in history.segments)
    served = [history.first, history.last] if with_logs else None

    async def get_logs(params: Params, ctx: CallContext) -> Any:
        if with_logs and sealed_range(params, history.first, history.last):
            counts["local"] += 1
            return await local_logs(params, ctx)
        if with_logs and _by_hash(params):
            try:
                answer = await local_logs(params, ctx)
            except UnknownBlockError:
                pass  # not a sealed block: maybe the head store's
            else:
                counts["local"] += 1
                return answer
        counts["forwarded"] += 1
        return await link.call("eth_getLogs", params)

    async def status(params: Params, ctx: CallContext) -> Any:
        answer = await link.call("logfilter_status", params)
        value = orjson.loads(answer.json)
        if isinstance(value, dict):
            value["process"] = process_info("reader", sealedHistory=served, getLogs=dict(counts))
        return value

    async def forward(params: Params, ctx: CallContext) -> RawJson:
        method, args = params
        return await link.call(method, args)

    methods: dict[str, Handler] = {"eth_getLogs": get_logs, "logfilter_status": status}
    return Dispatcher(methods, service.limits, fallback=forward)


class ReaderServer(RpcServer):
    """A reader's server: its own HTTP answers (:func:`reader_dispatcher`), WebSockets
    relayed to the writer message by message, both ways, until either side closes."""

    def __init__(
        self,
        service: Service,
        link: WriterLink,
        http: HttpPolicy | None = None,
        monitoring: MonitoringConfig | None = None,
    ) -> None:
        super().__init__(service, reader_dispatcher(service, link), http, monitoring)
        self.link = link
        """The channel to the writer."""

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        size = 4 * self.service.limits.max_body_bytes
        ws = web.WebSocketResponse(max_msg_size=size, decode_text=False)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="JSON-RPC: POST a request, or open a WebSocket\n")
        try:
            upstream = await self.link.websocket(size)
        except Exception:
            return web.Response(status=503, text="writer process unavailable\n")
        await ws.prepare(request)
        self.websockets += 1
        try:
            async with asyncio.TaskGroup() as tasks:
                up = tasks.create_task(_relay(ws, upstream))
                down = tasks.create_task(_relay(upstream, ws))
                up.add_done_callback(lambda _: down.cancel())
                down.add_done_callback(lambda _: up.cancel())
        except BaseExceptionGroup:
            pass  # a side that failed is a side that closed
        finally:
            self.websockets -= 1
            with suppress(Exception):
                await upstream.close()
            with suppress(Exception):
                await ws.close()
        return ws


async def _relay(source: Any, sink: Any) -> None:
    """Messages of ``source`` sent to ``sink`` until ``source`` closes; then ``sink`` is
    closed with the same code and reason (the writer's "too slow: ..." reaches the client)."""
    code, reason = 1000, ""
    while True:
        message = await source.receive()
        if message.type == WSMsgType.TEXT:
            data = message.data
            await sink.send_str(data.decode() if isinstance(data, bytes) else data)
        elif message.type == WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            if message.type == WSMsgType.CLOSE:
                code, reason = message.data or 1000, message.extra or ""
            break
    await sink.close(code=code, message=reason.encode())
