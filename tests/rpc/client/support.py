"""Real servers the client tests talk to, each on 127.0.0.1, each in its own thread:

- :class:`LimitFront`: an HTTP JSON-RPC front that forwards to anvil but refuses
  ``eth_getLogs`` answers over ``max_results`` logs or ranges over ``max_range`` blocks,
  either with RPC-CONTRACT.md's error shape (``-32005`` with ``data.from``/``data.to``) or
  with a bare message as some providers send;
- :class:`WsProxy`: a WebSocket relay to a node that the test can cut (every open connection
  dropped) or close to new connections for a while;
- :class:`ScriptedServer`: answers every request with a canned HTTP response (malformed
  JSON, wrong shapes, error statuses, silence).

Each runs an aiohttp server on a private event loop in a background thread, so sync and async
tests use them alike. Chains are built with :func:`fill_chain` through the Emitter contract.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Self

import aiohttp
import orjson
from aiohttp import web

from tests.anvil import Anvil, free_port
from tests.emitter import Emitter

__all__ = ["LimitFront", "ScriptedServer", "WsProxy", "fill_chain"]


class _ThreadedServer:
    """An aiohttp application on its own loop and thread; a context manager."""

    def __init__(self) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def run(self, coro: Awaitable[Any]) -> Any:
        """Run ``coro`` on the server's loop and wait for it."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(30)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        await self.on_stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def on_stop(self) -> None:
        """Release what the server holds (before the runner stops)."""

    def __enter__(self) -> Self:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@dataclass
class GetLogsCall:
    """One ``eth_getLogs`` the front received."""

    first: int
    last: int
    answered: int | None
    """Logs returned, or None when refused."""
    consumed: int
    """The test's ``consumed`` counter when the call came in."""


class LimitFront(_ThreadedServer):
    """Forwards JSON-RPC to anvil; refuses ``eth_getLogs`` over the limits."""

    def __init__(
        self,
        anvil: Anvil,
        *,
        max_results: int | None = None,
        max_range: int | None = None,
        style: str = "contract",
        block_by_number: bool = True,
    ) -> None:
        super().__init__()
        assert style in ("contract", "message")
        self.block_by_number = block_by_number
        """False: ``eth_getBlockByNumber`` is answered -32601, as ``logfilter serve`` does
        without ``--proxy``."""
        self.anvil = anvil
        self.max_results = max_results
        self.max_range = max_range
        self.style = style
        self.calls: list[GetLogsCall] = []
        """Every eth_getLogs, in arrival order."""
        self.consumed = 0
        """Set by the test as it consumes logs (recorded with each call)."""
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self._handle)
        return app

    async def on_stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _forward(self, body: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        async with self._session.post(
            self.anvil.url, data=orjson.dumps(body), headers=headers
        ) as resp:
            return orjson.loads(await resp.read())

    async def _number(self, block: Any) -> int:
        if isinstance(block, str) and block.startswith("0x"):
            return int(block, 16)
        tag = block or "latest"
        answer = await self._forward(
            {"jsonrpc": "2.0", "id": 0, "method": "eth_getBlockByNumber", "params": [tag, False]}
        )
        return int(answer["result"]["number"], 16)

    def _refusal(self, request_id: Any, kind: str, first: int, to: int, maximum: int) -> Any:
        if self.style == "message":
            message = (
                f"query returned more than {maximum} results"
                if kind == "results"
                else f"query exceeds max block range {maximum}"
            )
            error: dict[str, Any] = {"code": -32000, "message": message}
        else:
            noun = (
                f"returned more than {maximum} results"
                if kind == "results"
                else (f"exceeds max block range {maximum}")
            )
            error = {
                "code": -32005,
                "message": f"query {noun}; try with this block range [{first:#x}, {to:#x}]",
                "data": {"limit": kind, "max": maximum, "from": hex(first), "to": hex(to)},
            }
        return {"jsonrpc": "2.0", "id": request_id, "error": error}

    async def _handle(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        if not self.block_by_number and body.get("method") == "eth_getBlockByNumber":
            missing = {"code": -32601, "message": "the method eth_getBlockByNumber does not exist"}
            return web.Response(
                body=orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "error": missing})
            )
        if not isinstance(body, dict) or body.get("method") != "eth_getLogs":
            return web.Response(body=orjson.dumps(await self._forward(body)))
        criteria = body["params"][0]
        consumed = self.consumed
        if "blockHash" in criteria:
            block = await self._forward(
                {"jsonrpc": "2.0", "id": 0, "method": "eth_getBlockByHash",
                 "params": [criteria["blockHash"], False]}
            )  # fmt: skip
            first = last = int(block["result"]["number"], 16)
        else:
            first = await self._number(criteria.get("fromBlock"))
            last = await self._number(criteria.get("toBlock"))
        if self.max_range is not None and last - first + 1 > self.max_range:
            self.calls.append(GetLogsCall(first, last, None, consumed))
            refusal = self._refusal(
                body["id"], "blockRange", first, first + self.max_range - 1, self.max_range
            )
            return web.Response(body=orjson.dumps(refusal))
        answer = await self._forward(body)
        logs = answer.get("result")
        if self.max_results is not None and isinstance(logs, list) and len(logs) > self.max_results:
            counts: dict[int, int] = {}
            for log in logs:
                number = int(log["blockNumber"], 16)
                counts[number] = counts.get(number, 0) + 1
            total, to = 0, first - 1
            for number in range(first, last + 1):
                total += counts.get(number, 0)
                if total > self.max_results:
                    break
                to = number
            self.calls.append(GetLogsCall(first, last, None, consumed))
            refusal = self._refusal(body["id"], "results", first, max(to, first), self.max_results)
            return web.Response(body=orjson.dumps(refusal))
        self.calls.append(GetLogsCall(first, last, len(logs or []), consumed))
        return web.Response(body=orjson.dumps(answer))


class WsProxy(_ThreadedServer):
    """Relays WebSocket connections to a node (anvil, or ``logfilter serve``); :meth:`drop`
    cuts them all."""

    def __init__(self, upstream: Anvil | str) -> None:
        super().__init__()
        self.upstream = upstream if isinstance(upstream, str) else upstream.ws_url
        """The WebSocket URL relayed to."""
        self.connections = 0
        """Connections accepted so far."""
        self.refusing = False
        """While True, new connections are answered HTTP 503."""
        self._open: set[web.WebSocketResponse] = set()
        self._live: set[web.WebSocketResponse] = set()
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._handle)
        return app

    async def on_stop(self) -> None:
        for ws in list(self._open):
            await ws.close()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="proxy refusing connections")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        client = web.WebSocketResponse(max_msg_size=0)
        await client.prepare(request)
        self.connections += 1
        self._open.add(client)
        self._live.add(client)
        async with self._session.ws_connect(self.upstream, max_msg_size=0) as upstream:

            async def pump_up() -> None:
                async for message in client:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await upstream.send_str(message.data)
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        await upstream.send_bytes(message.data)

            async def pump_down() -> None:
                async for message in upstream:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await client.send_str(message.data)

            tasks = [asyncio.ensure_future(pump_up()), asyncio.ensure_future(pump_down())]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._open.discard(client)
                self._live.discard(client)
                await client.close()
        return client

    @property
    def open_connections(self) -> int:
        """Connections open right now and not being dropped."""
        return len(self._live)

    async def _drop(self) -> int:
        dropped = list(self._live)
        self._live.clear()
        for ws in dropped:
            await ws.close(code=1011, message=b"dropped by the test")
        return len(dropped)

    def drop(self) -> int:
        """Close every open connection now; returns how many."""
        dropped: int = self.run(self._drop())
        return dropped


Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


class ScriptedServer(_ThreadedServer):
    """Answers each JSON-RPC request with ``handler(request, body)``."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.requests = 0
        """Requests received."""

    def app(self) -> web.Application:
        app = web.Application()

        async def handle(request: web.Request) -> web.StreamResponse:
            self.requests += 1
            return await self.handler(request, orjson.loads(await request.read()))

        app.router.add_post("/", handle)
        return app


def fill_chain(anvil: Anvil, emitter: Emitter, counts: list[int], seed: int = 1) -> None:
    """Mine one block per entry of ``counts`` holding that many of the emitter's logs (one
    ``emitMany`` transaction; none for 0). Leaves automine on."""
    anvil.set_automine(False)
    for i, count in enumerate(counts):
        if count:
            anvil.rpc(
                "eth_sendTransaction",
                emitter.tx(
                    Emitter.emit_many_data(count, (seed * 1_000_003 + i).to_bytes(32, "big"))
                ),
            )
        anvil.mine()
    anvil.set_automine(True)
