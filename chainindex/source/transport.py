"""The upstream node's JSON-RPC 2.0 transports over aiohttp: HTTP(S)
(:class:`UpstreamHttpTransport`) and WebSocket (:class:`UpstreamWsTransport`), with batches.

These are the indexer's side (one node, batches, head subscriptions); the client library
(:mod:`rpc.client`) has its own transports for talking to this service.

A transport sends calls and returns results; it never retries (the source does, around a
whole fetch and its validation). Every failure is an :class:`~chainindex.errors.UpstreamError`
with one clear line: unreachable host, HTTP status, timeout, malformed JSON, or, per call, an
:class:`~chainindex.errors.RpcCallError` carrying the JSON-RPC error code.

Batches: :meth:`JsonRpcTransport.batch` splits a long list of calls into requests of at most
``max_batch`` calls, sends them with at most ``max_concurrency`` requests in flight, and
returns one result (or :class:`RpcCallError`) per call, in order.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import aiohttp
import orjson

from chainindex.errors import RpcCallError, UpstreamError
from chainindex.source.base import SourceOptions

__all__ = [
    "Call",
    "JsonRpcTransport",
    "UpstreamHttpTransport",
    "UpstreamWsTransport",
    "open_transport",
]

Call = tuple[str, Sequence[Any]]
"""A method name and its positional parameters."""


class JsonRpcTransport(Protocol):
    """Sends JSON-RPC calls to one upstream."""

    url: str
    """Where the upstream is."""

    async def call(self, method: str, params: Sequence[Any]) -> Any:
        """One call's result; raises :class:`RpcCallError` on an error answer."""
        ...

    async def batch(self, calls: Sequence[Call]) -> list[Any]:
        """Each call's result, or the :class:`RpcCallError` it was answered with."""
        ...

    def subscribe(self, kind: str) -> AsyncIterator[Any] | None:
        """``eth_subscribe(kind)`` notifications, or None when the transport cannot push."""
        ...

    async def aclose(self) -> None:
        """Close connections."""
        ...


def _request(request_id: int, method: str, params: Sequence[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}


def _result(method: str, response: object) -> Any:
    """The result of one response object, or the RpcCallError it carries."""
    if not isinstance(response, dict):
        raise UpstreamError(f"{method}: malformed JSON-RPC response {str(response)[:80]!r}")
    if "error" in response:
        error = response["error"]
        if isinstance(error, dict):
            return RpcCallError(method, int(error.get("code", 0)), str(error.get("message", "")))
        return RpcCallError(method, 0, str(error))
    if "result" not in response:
        raise UpstreamError(f"{method}: JSON-RPC response without result or error")
    return response["result"]


class _BaseTransport:
    """Batching and concurrency shared by the HTTP and WebSocket transports."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        self.url = url
        """Where the upstream is."""
        self.options = options
        """Timeouts, batch size, concurrency."""
        self._ids = itertools.count(1)
        self._limit = asyncio.Semaphore(options.max_concurrency)

    async def _send(self, requests: list[dict[str, Any]]) -> list[object]:
        """Send one request (a batch if several) and return the raw response objects in the
        order of ``requests``."""
        raise NotImplementedError

    async def call(self, method: str, params: Sequence[Any]) -> Any:
        result = (await self.batch([(method, params)]))[0]
        if isinstance(result, RpcCallError):
            raise result
        return result

    async def batch(self, calls: Sequence[Call]) -> list[Any]:
        chunks = [
            list(calls[i : i + self.options.max_batch])
            for i in range(0, len(calls), self.options.max_batch)
        ]
        answers = await asyncio.gather(*(self._batch_once(chunk) for chunk in chunks))
        return [result for answer in answers for result in answer]

    async def _batch_once(self, calls: list[Call]) -> list[Any]:
        requests = [_request(next(self._ids), method, params) for method, params in calls]
        async with self._limit:
            try:
                responses = await asyncio.wait_for(self._send(requests), self.options.timeout)
            except TimeoutError:
                raise UpstreamError(
                    f"{self.url}: no answer within {self.options.timeout:g}s"
                ) from None
        return [_result(method, r) for (method, _), r in zip(calls, responses, strict=True)]

    @staticmethod
    def _match(requests: list[dict[str, Any]], body: object) -> list[object]:
        """Order a (batch) response like ``requests``."""
        if len(requests) == 1 and isinstance(body, dict):
            return [body]
        if not isinstance(body, list):
            if isinstance(body, dict) and "error" in body:
                return [body] * len(requests)
            raise UpstreamError("batch request answered with a non-list")
        by_id = {r.get("id"): r for r in body if isinstance(r, dict)}
        try:
            return [by_id[req["id"]] for req in requests]
        except KeyError:
            raise UpstreamError(
                f"batch answer has {len(by_id)} of {len(requests)} responses"
            ) from None


class UpstreamHttpTransport(_BaseTransport):
    """JSON-RPC over HTTP(S) POST, batches as JSON arrays."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        super().__init__(url, options)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=options.max_concurrency),
            headers={"Content-Type": "application/json"},
        )

    async def _send(self, requests: list[dict[str, Any]]) -> list[object]:
        payload = orjson.dumps(requests if len(requests) > 1 else requests[0])
        try:
            async with self._session.post(self.url, data=payload) as resp:
                body = await resp.read()
                if resp.status != 200:
                    snippet = body[:120].decode("utf-8", "replace").strip()
                    raise UpstreamError(f"{self.url}: HTTP {resp.status} {snippet}".rstrip())
        except aiohttp.ClientError as err:
            raise UpstreamError(f"cannot reach {self.url}: {err or type(err).__name__}") from None
        try:
            decoded = await _loads(body)
        except orjson.JSONDecodeError as err:
            raise UpstreamError(f"{self.url}: malformed JSON in the answer ({err})") from None
        return self._match(requests, decoded)

    def subscribe(self, kind: str) -> AsyncIterator[Any] | None:
        return None

    async def aclose(self) -> None:
        await self._session.close()


class UpstreamWsTransport(_BaseTransport):
    """JSON-RPC over one WebSocket connection, (re)connected on demand.

    A reader task, owned by the transport and cancelled by :meth:`aclose`, routes responses
    to their callers by id and subscription notifications to their queues. When the
    connection drops, calls in flight fail with :class:`UpstreamError` and subscriptions end;
    the next call reconnects.
    """

    _SUBSCRIPTION_BUFFER = 64
    """Notifications kept per subscription; older ones are dropped (heads supersede heads)."""

    def __init__(self, url: str, options: SourceOptions) -> None:
        super().__init__(url, options)
        self._session = aiohttp.ClientSession()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._subscriptions: dict[str, asyncio.Queue[object]] = {}

    async def _connection(self) -> aiohttp.ClientWebSocketResponse:
        async with self._connecting:
            if self._ws is not None and not self._ws.closed:
                return self._ws
            if self._reader is not None:
                await self._stop_reader()
            try:
                self._ws = await self._session.ws_connect(
                    self.url, max_msg_size=self.options.max_message_bytes, heartbeat=30
                )
            except (aiohttp.ClientError, OSError) as err:
                raise UpstreamError(
                    f"cannot reach {self.url}: {err or type(err).__name__}"
                ) from None
            self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))
            return self._ws

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        error = UpstreamError(f"{self.url}: connection closed")
        try:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    try:
                        self._dispatch(await _loads(message.data))
                    except orjson.JSONDecodeError as err:
                        error = UpstreamError(f"{self.url}: malformed JSON in the answer ({err})")
                        break
                elif message.type == aiohttp.WSMsgType.ERROR:
                    error = UpstreamError(f"{self.url}: connection error {ws.exception()}")
                    break
        finally:
            await ws.close()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()
            for queue in self._subscriptions.values():
                _offer(queue, None)
            self._subscriptions.clear()

    def _dispatch(self, body: object) -> None:
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, dict):
                continue
            if item.get("method") == "eth_subscription":
                params = item.get("params") or {}
                queue = self._subscriptions.get(str(params.get("subscription")))
                if queue is not None:
                    _offer(queue, params.get("result"))
                continue
            future = self._pending.pop(item.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(item)

    async def _send(self, requests: list[dict[str, Any]]) -> list[object]:
        ws = await self._connection()
        loop = asyncio.get_running_loop()
        futures = []
        for request in requests:
            future: asyncio.Future[object] = loop.create_future()
            self._pending[request["id"]] = future
            futures.append(future)
        try:
            await ws.send_bytes(orjson.dumps(requests if len(requests) > 1 else requests[0]))
            return list(await asyncio.gather(*futures))
        except (aiohttp.ClientError, ConnectionError) as err:
            raise UpstreamError(f"{self.url}: connection lost ({err})") from None
        finally:
            for request in requests:
                self._pending.pop(request["id"], None)

    def subscribe(self, kind: str) -> AsyncIterator[Any] | None:
        return self._notifications(kind)

    async def _notifications(self, kind: str) -> AsyncIterator[Any]:
        subscription = await self.call("eth_subscribe", [kind])
        queue: asyncio.Queue[object] = asyncio.Queue(self._SUBSCRIPTION_BUFFER)
        self._subscriptions[str(subscription)] = queue
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._subscriptions.pop(str(subscription), None)

    async def _stop_reader(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise
            self._reader = None

    async def aclose(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        await self._stop_reader()
        await self._session.close()


_THREAD_DECODE_BYTES = 1 << 20
"""Answers larger than this are decoded in a worker thread, off the event loop."""


async def _loads(body: bytes | str) -> Any:
    if len(body) < _THREAD_DECODE_BYTES:
        return orjson.loads(body)
    return await asyncio.to_thread(orjson.loads, body)


def _offer(queue: asyncio.Queue[object], item: object) -> None:
    """Put without blocking, dropping the oldest entry when full."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def open_transport(url: str, options: SourceOptions) -> UpstreamHttpTransport | UpstreamWsTransport:
    """The transport for ``url`` (http, https, ws or wss). Must run inside an event loop."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        return UpstreamHttpTransport(url, options)
    if scheme in ("ws", "wss"):
        return UpstreamWsTransport(url, options)
    raise UpstreamError(f"unsupported upstream URL {url!r}: use http(s):// or ws(s)://")
