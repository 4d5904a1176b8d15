"""JSON-RPC over one WebSocket connection, with subscriptions.

:class:`WsTransport` keeps one connection, opened on first use and again on the first use
after it dropped. A reader task, owned by the transport and cancelled by :meth:`aclose`,
routes answers to their callers by id and notifications to their subscription's
:class:`SubscriptionBuffer`. When the connection drops, calls in flight fail with
:class:`~rpc.client.errors.TransportError` and every buffer ends with ``"dropped"``;
subscriptions then re-subscribe (see :mod:`rpc.client.subscription`).

A :class:`SubscriptionBuffer` is bounded and, unlike the channels of
:mod:`bloombits.channel` (which make the producer wait), never blocks the reader: past its
limit it stops keeping notifications and ends with ``"overflow"``, and the subscription
backfills what it missed.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import Any, Literal

import aiohttp

from rpc.client.errors import (
    RequestTimeoutError,
    ResponseError,
    SubscriptionEndedError,
    TransportError,
)
from rpc.client.transport import SessionHolder, loads, request_body, result_of

__all__ = ["SubscriptionBuffer", "WsTransport"]


class SubscriptionBuffer:
    """The notifications of one or more server-side subscriptions sharing a consumer, in
    arrival order, as ``(subscription id, result)`` pairs, at most ``limit`` waiting. Past the
    limit, later notifications are not kept and the buffer ends with ``"overflow"`` once the
    kept ones are consumed: the subscription then re-subscribes and backfills, as after a
    dropped connection, so nothing is lost and memory stays bounded.
    """

    def __init__(self, limit: int) -> None:
        self.ids: list[str] = []
        """The server's subscription ids routed here."""
        self._limit = limit
        self._items: deque[tuple[str, object]] = deque()
        self._wakeup = asyncio.Event()
        self._ended: Literal["dropped", "overflow"] | None = None

    def push(self, subscription: str, result: object) -> None:
        """Keep a notification (called by the transport's reader)."""
        if self._ended is not None:
            return
        if len(self._items) >= self._limit:
            self._ended = "overflow"
        else:
            self._items.append((subscription, result))
        self._wakeup.set()

    def drop(self) -> None:
        """The connection went away: end after the notifications already kept."""
        if self._ended is None:
            self._ended = "dropped"
        self._wakeup.set()

    @property
    def ended(self) -> bool:
        """True once no further notification will be kept."""
        return self._ended is not None

    async def get(self) -> tuple[str, object]:
        """The next notification; raises :class:`~rpc.client.errors.SubscriptionEndedError`
        when there is none to come."""
        while not self._items:
            if self._ended is not None:
                raise SubscriptionEndedError(self._ended)
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()


class WsTransport:
    """JSON-RPC over one WebSocket connection, (re)opened on demand, with subscriptions."""

    def __init__(
        self,
        url: str,
        *,
        session: SessionHolder,
        max_message_bytes: int = 256 * 2**20,
        heartbeat: float = 20.0,
        queue_limit: int = 10_000,
    ) -> None:
        self.url = url
        """Where the server is."""
        self.connections = 0
        """How many connections were opened so far (reconnects included)."""
        self._session = session
        self._max_message_bytes = max_message_bytes
        self._heartbeat = heartbeat
        self._queue_limit = queue_limit
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[object], SubscriptionBuffer | None]] = {}
        self._buffers: dict[str, SubscriptionBuffer] = {}
        self._closed = False

    async def _connection(self, time_limit: float) -> aiohttp.ClientWebSocketResponse:
        if self._closed:
            raise TransportError(f"{self.url}: the client is closed")
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._ws is not None and not self._ws.closed:
                return self._ws
            await self._stop_reader()
            try:
                ws = await self._session.get().ws_connect(
                    self.url,
                    max_msg_size=self._max_message_bytes,
                    heartbeat=self._heartbeat,
                    timeout=aiohttp.ClientWSTimeout(ws_close=time_limit),
                    autoping=True,
                )
            except TimeoutError:
                raise RequestTimeoutError(
                    f"cannot reach {self.url} within {time_limit:g}s"
                ) from None
            except (aiohttp.ClientError, OSError) as err:
                raise TransportError(
                    f"cannot reach {self.url}: {err or type(err).__name__}"
                ) from None
            self._ws = ws
            self.connections += 1
            self._reader = asyncio.get_running_loop().create_task(
                self._read(ws), name=f"logfilter-client-ws-reader {self.url}"
            )
            return ws

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason = f"{self.url}: connection closed"
        try:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    try:
                        body = await loads(message.data, self.url)
                    except ResponseError as err:
                        reason = str(err)
                        break
                    self._dispatch(body)
                elif message.type == aiohttp.WSMsgType.ERROR:
                    reason = f"{self.url}: connection error {ws.exception()}"
                    break
        finally:
            if self._ws is ws:
                self._ws = None
            await ws.close()
            self._fail_all(TransportError(f"connection lost: {reason}"))

    def _fail_all(self, error: TransportError) -> None:
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for buffer in self._buffers.values():
            buffer.drop()
        self._buffers.clear()

    def _dispatch(self, body: object) -> None:
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, dict):
                continue
            if item.get("method") == "eth_subscription":
                params = item.get("params")
                if isinstance(params, dict):
                    subscription = str(params.get("subscription"))
                    buffer = self._buffers.get(subscription)
                    if buffer is not None:
                        buffer.push(subscription, params.get("result"))
                continue
            request_id = item.get("id")
            entry = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
            if entry is None:
                continue
            future, buffer = entry
            if buffer is not None and isinstance(item.get("result"), str):
                # Registered here, before the next message is read: the server may send the
                # first notification right after the answer.
                buffer.ids.append(item["result"])
                self._buffers[item["result"]] = buffer
            if not future.done():
                future.set_result(item)

    async def _call(
        self,
        method: str,
        params: list[Any],
        time_limit: float,
        buffer: SubscriptionBuffer | None = None,
    ) -> Any:
        try:
            async with asyncio.timeout(time_limit):
                ws = await self._connection(time_limit)
                request_id = next(self._ids)
                future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                self._pending[request_id] = (future, buffer)
                try:
                    await ws.send_bytes(request_body(request_id, method, params))
                    body = await future
                finally:
                    self._pending.pop(request_id, None)
        except TimeoutError:
            raise RequestTimeoutError(
                f"{method}: no answer from {self.url} within {time_limit:g}s"
            ) from None
        except (aiohttp.ClientError, ConnectionError) as err:
            raise TransportError(f"{method}: connection to {self.url} lost ({err})") from None
        return result_of(method, body, self.url)

    async def request(self, method: str, params: list[Any], time_limit: float) -> Any:
        return await self._call(method, params, time_limit)

    async def subscribe(
        self, params: list[Any], time_limit: float, buffer: SubscriptionBuffer | None = None
    ) -> SubscriptionBuffer:
        """``eth_subscribe(*params)``: the buffer its notifications arrive on (``buffer``,
        when given, is shared with the subscriptions already on it)."""
        buffer = buffer or SubscriptionBuffer(self._queue_limit)
        result = await self._call("eth_subscribe", params, time_limit, buffer)
        if not isinstance(result, str) or result not in buffer.ids:
            raise ResponseError(f"eth_subscribe: expected a subscription id, got {result!r}")
        return buffer

    def forget(self, buffer: SubscriptionBuffer) -> None:
        """Stop routing the buffer's notifications, without telling the server."""
        buffer.drop()
        for subscription in buffer.ids:
            if self._buffers.get(subscription) is buffer:
                del self._buffers[subscription]

    async def unsubscribe(self, buffer: SubscriptionBuffer, time_limit: float) -> None:
        """Stop routing the buffer's notifications; tell the server when still connected."""
        buffer.drop()
        ids = [i for i in buffer.ids if self._buffers.get(i) is buffer]
        for subscription in ids:
            del self._buffers[subscription]
        for subscription in ids:
            if self._ws is None or self._ws.closed:
                return
            await self._call("eth_unsubscribe", [subscription], time_limit)

    async def drop_connection(self) -> None:
        """Close the current connection (the next call opens another)."""
        if self._ws is not None:
            await self._ws.close()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is None:
            return
        if not reader.done():
            reader.cancel()
        try:
            await reader
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

    async def aclose(self) -> None:
        self._closed = True
        await self.drop_connection()
        self._fail_all(TransportError(f"{self.url}: the client is closed"))
