"""The HTTP and WebSocket server: JSON-RPC 2.0 on one port, and the service's lifetime.

* ``POST /``: one call or a batch per request, with a JSON media type (else 415) and
  optionally gzip- or deflate-encoded (:mod:`rpc.server.request_body`). The body is read up
  to the body limit, before and after decoding (a larger one gets a ``-32005`` error answer,
  one that does not decode a ``-32700``); a single ``eth_getLogs`` whose answer is
  streamed is written with chunked encoding as it is found, and if it fails midway the
  connection is aborted, so a client never takes a cut answer for a complete one.
* ``GET /`` with an upgrade: a WebSocket; calls are answered concurrently, subscriptions
  push notifications; every message to the client goes through one bounded queue per
  connection (:class:`WsPeer`), and a client that lets it overflow is disconnected.
* Around both, the HTTP conventions of :mod:`rpc.server.http` (an :class:`HttpPolicy`):
  virtual hosts, CORS and ``OPTIONS /``, gzip (streamed answers too), the access log.

:func:`serve` runs a :class:`Service` behind the server until SIGINT or SIGTERM (or until
the background work fails, e.g. the upstream cannot be reached at start): the indexer, the
event fan-out and filter expiry run in one task group with the server, and stopping
cancels them all and closes the listening socket and every connection.

``GET /metrics``, ``/health`` and ``/ready`` are the operational paths of
:mod:`rpc.server.monitoring`, on this port and optionally a metrics port of their own.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from aiohttp import WSMsgType, hdrs, web

from chainindex.aio import first_error
from chainindex.errors import CorruptDataError
from rpc.server.access import CALLS
from rpc.server.compression import StreamedBody
from rpc.server.dispatch import CallContext, Dispatcher, StreamedReply, respond
from rpc.server.eth_api import EthApi
from rpc.server.http import HttpPolicy, install
from rpc.server.logfilter_api import LogfilterApi
from rpc.server.monitoring import Monitor, MonitoringConfig
from rpc.server.protocol import LIMIT_EXCEEDED, JsonRpcError, as_json_rpc_error
from rpc.server.proxy import proxy_handler
from rpc.server.request_body import (
    BAD_CONTENT_TYPE,
    UnsupportedCodingError,
    decode_body,
    media_type_accepted,
)
from rpc.server.service import Service

__all__ = ["RpcServer", "WsPeer", "dispatcher_for", "running_server", "serve"]

log = logging.getLogger("rpc.server.app")

DEFAULT_PORT = 8645
"""The default port: clear of a node's 8545 (HTTP) and 8546 (WebSocket)."""


def dispatcher_for(service: Service) -> Dispatcher:
    """The method table of ``service``: eth_ and logfilter_ methods, and the proxy of its
    allow-list."""
    methods = {**EthApi(service).methods(), **LogfilterApi(service).methods()}
    fallback = None
    if service.proxy:
        assert service.upstream is not None
        fallback = proxy_handler(service.upstream, service.proxy_methods)
    return Dispatcher(methods, service.limits, fallback=fallback, admission=service.admission)


class WsPeer:
    """One WebSocket connection's outgoing queue (see the module docstring)."""

    def __init__(self, ws: web.WebSocketResponse, max_queued: int) -> None:
        self.ws = ws
        """The connection."""
        self.max_queued = max_queued
        """Most messages queued before the client is disconnected."""
        self._queue: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._closing: str | None = None

    def push(self, message: bytes) -> None:
        if self._closing is not None:
            return
        if len(self._queue) >= self.max_queued:
            self.close(f"too slow: more than {self.max_queued} messages queued")
            return
        self._queue.append(message)
        self._wakeup.set()

    def close(self, reason: str) -> None:
        if self._closing is None:
            self._closing = reason
            self._queue.clear()
            self._wakeup.set()

    async def write(self) -> None:
        """Send queued messages until closed; then close the socket with the reason."""
        while True:
            while self._queue and self._closing is None:
                await self.ws.send_frame(self._queue.popleft(), WSMsgType.TEXT)
            if self._closing is not None:
                await self.ws.close(message=self._closing[:120].encode())
                return
            self._wakeup.clear()
            await self._wakeup.wait()


class RpcServer:
    """The aiohttp application around a :class:`Dispatcher`."""

    def __init__(
        self,
        service: Service,
        dispatcher: Dispatcher | None = None,
        http: HttpPolicy | None = None,
        monitoring: MonitoringConfig | None = None,
    ) -> None:
        self.service = service
        """What is served."""
        self.dispatcher = dispatcher or dispatcher_for(service)
        """The methods."""
        limits = service.limits
        self.app = web.Application(client_max_size=limits.max_body_bytes)
        """The aiohttp application."""
        self.http = http or HttpPolicy()
        """The HTTP conventions (virtual hosts, CORS, gzip, access log)."""
        install(self.app, self.http)
        self.app.router.add_post("/", self._http)
        self.app.router.add_get("/", self._websocket)
        self.websockets = 0
        """Open WebSocket connections."""
        self.monitor = Monitor(service, self.dispatcher, lambda: self.websockets, monitoring)
        """``/metrics``, ``/health``, ``/ready``."""
        self.monitor.add_routes(self.app)
        self._runner: web.AppRunner | None = None
        self.port = 0
        """The port listened on, once started."""
        self.host = ""
        """The address listened on, once started."""

    @property
    def url(self) -> str:
        """The HTTP endpoint."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The WebSocket endpoint."""
        return f"ws://{self.host}:{self.port}"

    async def start(
        self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, reuse_port: bool = False
    ) -> None:
        """Listen on ``host:port`` (port 0: a free one); ``reuse_port``: SO_REUSEPORT, so
        that the processes of ``serve --processes N`` share the port."""
        # Request bodies are decoded by rpc.server.request_body (bounded, errors answered).
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, auto_decompress=False
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(
            runner, host, port, reuse_address=True, reuse_port=True if reuse_port else None
        )
        await site.start()
        address = runner.addresses[0]
        self.host, self.port = address[0], address[1]
        await self.monitor.start(host)

    async def listen_unix(self, path: str) -> None:
        """Also listen on the unix socket ``path`` (the writer's internal channel of
        ``serve --processes N``: :mod:`rpc.server.writerlink`); once started."""
        assert self._runner is not None, "start() first"
        await web.UnixSite(self._runner, path).start()

    async def stop(self) -> None:
        """Close the listening socket and every connection."""
        await self.monitor.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- HTTP ---------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        ctx = CallContext(owner=("http", request.remote), calls=request.get(CALLS, []))
        if not media_type_accepted(request.headers.get(hdrs.CONTENT_TYPE)):
            return web.Response(status=415, text=BAD_CONTENT_TYPE + "\n")
        limit = self.service.limits.max_body_bytes
        try:
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise JsonRpcError(
                    LIMIT_EXCEEDED, f"request body too large: more than {limit} bytes"
                ) from None
            body = await decode_body(raw, request.headers.get(hdrs.CONTENT_ENCODING), limit)
        except UnsupportedCodingError as err:
            return web.Response(status=415, text=f"{err}\n")
        except JsonRpcError as error:
            if error.code == LIMIT_EXCEEDED and self.dispatcher.observer is not None:
                self.dispatcher.observer.rejected("body")
            ctx.note("-", error)
            return _json(respond(None, error))
        try:
            reply = await self.dispatcher.handle(body, ctx, stream=True)
        except Exception as err:  # never a traceback or an HTML page to a client
            return _json(respond(None, as_json_rpc_error(err)))
        if reply is None:
            return web.Response(status=200)
        if isinstance(reply, bytes):
            return _json(reply)
        return await self._stream(request, reply)

    async def _stream(self, request: web.Request, reply: StreamedReply) -> web.StreamResponse:
        body = StreamedBody(request, self.http.gzip_min_bytes)
        try:
            async for part in reply.parts:
                await body.write(part)
        except Exception as err:
            # The status line is out: the only honest thing left is to cut the connection.
            # A damaged data directory is the operator's to hear about, loudly.
            damaged = isinstance(err, CorruptDataError)
            log.log(
                logging.ERROR if damaged else logging.WARNING, "streamed answer aborted: %s", err
            )
            body.abort()
            return body.response
        return await body.finish()

    # --- WebSocket ----------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        limits = self.service.limits
        ws = web.WebSocketResponse(max_msg_size=4 * limits.max_body_bytes, decode_text=False)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="JSON-RPC: POST a request, or open a WebSocket\n")
        await ws.prepare(request)
        self.websockets += 1
        peer = WsPeer(ws, limits.max_queued_messages)
        calls: set[asyncio.Task[None]] = set()
        writer = asyncio.get_running_loop().create_task(peer.write())
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                data = message.data if isinstance(message.data, bytes) else message.data.encode()
                task = asyncio.get_running_loop().create_task(self._ws_call(peer, data))
                calls.add(task)
                task.add_done_callback(calls.discard)
        finally:
            for task in list(calls):
                task.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            self.service.subscriptions.close_owner(peer)
            peer.close("connection closed")
            self.websockets -= 1
            with suppress(Exception):
                await writer
        return ws

    async def _ws_call(self, peer: WsPeer, data: bytes) -> None:
        limit = self.service.limits.max_body_bytes
        if len(data) > limit:
            error = JsonRpcError(LIMIT_EXCEEDED, f"message too large: more than {limit} bytes")
            if self.dispatcher.observer is not None:
                self.dispatcher.observer.rejected("body")
            peer.push(respond(None, error))
            return
        ctx = CallContext(owner=peer, peer=peer)
        reply = await self.dispatcher.handle(data, ctx)
        if isinstance(reply, bytes):
            peer.push(reply)
        for hook in ctx.after_reply:
            hook()


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


@asynccontextmanager
async def running_server(
    service: Service,
    host: str = "127.0.0.1",
    port: int = 0,
    http: HttpPolicy | None = None,
    monitoring: MonitoringConfig | None = None,
    *,
    server: RpcServer | None = None,
    reuse_port: bool = False,
) -> AsyncIterator[RpcServer]:
    """A started server and the service's background work, both stopped on exit (tests,
    embedding). A failure of the background work is raised on exit. ``server``: one built
    by the caller (a reader process's); ``reuse_port``: see :meth:`RpcServer.start`."""
    if server is None:
        server = RpcServer(service, http=http, monitoring=monitoring)
    await server.start(host, port, reuse_port=reuse_port)
    try:
        async with asyncio.TaskGroup() as tasks:
            background = tasks.create_task(service.run())
            try:
                yield server
            finally:
                background.cancel()
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    finally:
        await server.stop()


async def serve(
    service: Service,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[RpcServer], None] | None = None,
    http: HttpPolicy | None = None,
    monitoring: MonitoringConfig | None = None,
    server: RpcServer | None = None,
    reuse_port: bool = False,
) -> None:
    """Serve until SIGINT/SIGTERM (returns) or until the background work fails (raises);
    ``server``, ``reuse_port``: as :func:`running_server`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_server(
            service, host, port, http, monitoring, server=server, reuse_port=reuse_port
        ) as running:
            if on_ready is not None:
                on_ready(running)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
