"""Failures are clear ClientErrors: bad URLs, refused connections, timeouts, HTTP error
statuses, and answers that are not what JSON-RPC or the method promise — from real servers
on 127.0.0.1 that answer badly on purpose."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiohttp import web

from rpc.client import (
    AsyncClient,
    Backoff,
    Client,
    InvalidArgumentError,
    NodeError,
    RequestTimeoutError,
    ResponseError,
    TransportError,
)
from tests.anvil import free_port
from tests.rpc.client.support import Handler, ScriptedServer

FAST = Backoff(initial=0.01, maximum=0.02)


def answer(result: Any = None, *, status: int = 200, raw: bytes | None = None) -> Handler:
    async def handler(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if raw is not None:
            return web.Response(status=status, body=raw)
        return web.Response(
            status=status,
            body=orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}),
        )

    return handler


def error(code: Any, message: Any, data: Any = None, *, status: int = 200) -> Handler:
    async def handler(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        err = {"code": code, "message": message, **({"data": data} if data else {})}
        return web.Response(
            status=status, body=orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "error": err})
        )

    return handler


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1:1", "127.0.0.1:8545", "http://", "", "ws:///path", "http//x"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="bad URL"):
        AsyncClient(url)


async def test_connection_refused() -> None:
    port = free_port()
    for url in (f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"):
        async with AsyncClient(url, retries=2, backoff=FAST) as client:
            with pytest.raises(TransportError, match=f"cannot reach {url}"):
                await client.block_number()
    with (
        Client(f"http://127.0.0.1:{port}", retries=0) as sync,
        pytest.raises(TransportError, match="cannot reach"),
    ):
        sync.chain_id()


LATEST_LOG = {
    "address": "0x" + "11" * 20,
    "topics": [],
    "data": "0x",
    "blockNumber": "0x1",
    "transactionHash": "0x" + "22" * 32,
    "transactionIndex": "0x0",
    "blockHash": "0x" + "33" * 32,
    "logIndex": "0x0",
    "removed": False,
}


@pytest.mark.parametrize(
    ("handler", "call", "error_type", "message"),
    [
        (answer(raw=b"<html>502</html>", status=502), "block_number", TransportError, "HTTP 502"),
        (answer(raw=b"not json"), "block_number", ResponseError, "the answer is not JSON"),
        (answer(raw=b"[1, 2]"), "block_number", ResponseError, "not a JSON-RPC response"),
        (
            answer(raw=b'{"jsonrpc": "2.0", "id": 1}'),
            "block_number",
            ResponseError,
            "without result",
        ),
        (answer("0x01"), "block_number", ResponseError, "leading zero"),
        (answer(12), "chain_id", ResponseError, "expected a hex string"),
        (answer({"logs": []}), "get_logs", ResponseError, "expected a list of logs"),
        (answer([{**LATEST_LOG, "data": "0x0"}]), "get_logs", ResponseError, "log 0: data: hex"),
        (answer([{**LATEST_LOG, "address": "0x11"}]), "get_logs", ResponseError, "20 bytes"),
        (answer("yes"), "uninstall_filter", ResponseError, "expected true or false"),
        (error("bad", "x"), "block_number", ResponseError, "malformed JSON-RPC error object"),
        (error(-32601, "the method eth_chainId does not exist"), "chain_id", NodeError, "-32601"),
        (error(-32000, "overloaded", status=503), "block_number", NodeError, "overloaded"),
        (
            error(-32005, "request body too large", status=413),
            "block_number",
            NodeError,
            "too large",
        ),
    ],
)
async def test_bad_answers(handler: Handler, call: str, error_type: type, message: str) -> None:
    with ScriptedServer(handler) as server:
        async with AsyncClient(server.url, retries=1, backoff=FAST) as client:
            method = getattr(client, call)
            args = ("0x1",) if call == "uninstall_filter" else ()
            with pytest.raises(error_type, match=message) as info:
                await method(*args)
    assert type(info.value) is error_type  # e.g. a -32005 without range is no LimitError


async def test_retries_only_what_got_no_answer() -> None:
    # Retryable: an overloaded front answering 503 without JSON-RPC.
    with ScriptedServer(answer(raw=b"busy", status=503)) as server:
        async with AsyncClient(server.url, retries=3, backoff=FAST) as client:
            with pytest.raises(TransportError, match="HTTP 503 busy"):
                await client.block_number()
            assert server.requests == 4
            # A call that changes server state is not repeated.
            with pytest.raises(TransportError):
                await client.new_block_filter()
            assert server.requests == 5
    # Not retryable: a 404 says the request itself is wrong.
    with ScriptedServer(answer(raw=b"no such path", status=404)) as server:
        async with AsyncClient(server.url, retries=3, backoff=FAST) as client:
            with pytest.raises(TransportError, match="HTTP 404"):
                await client.block_number()
            assert server.requests == 1


async def test_timeout() -> None:
    async def slow(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        await asyncio.sleep(1)
        return web.Response(body=b"{}")

    with ScriptedServer(slow) as server:
        async with AsyncClient(server.url, timeout=0.1, retries=0) as client:
            with pytest.raises(RequestTimeoutError, match=r"no answer from .* within 0.1s"):
                await client.block_number()


async def test_websocket_garbage_and_close() -> None:
    """A WebSocket server that answers garbage, then one that hangs up at once."""

    async def garbage(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            await ws.send_str("this is not json")
        return ws

    async def hang_up(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.close()
        return ws

    for handler, message in ((garbage, "connection lost: .*not JSON"), (hang_up, "connection")):
        app = web.Application()
        app.router.add_get("/", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with AsyncClient(f"ws://127.0.0.1:{port}", retries=0) as client:
                with pytest.raises(TransportError, match=message):
                    await client.block_number()
        finally:
            await runner.cleanup()


async def test_headers_are_sent() -> None:
    seen: list[str | None] = []

    async def record(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization"))
        return web.Response(
            body=orjson.dumps({"jsonrpc": "2.0", "id": body["id"], "result": "0x7"})
        )

    with ScriptedServer(record) as server:
        async with AsyncClient(server.url, headers={"Authorization": "Bearer key"}) as client:
            assert await client.block_number() == 7
    assert seen == ["Bearer key"]
