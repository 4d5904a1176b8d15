"""A streamed answer that fails midway is cut off, never passed off as complete, compressed
or not; a short one goes out whole, with its length. The server itself is in-process here so
that a failing result can be planted."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncGenerator
from typing import cast

import aiohttp
import orjson
import pytest

from rpc.server.app import RpcServer
from rpc.server.dispatch import CallContext, Dispatcher, Params, StreamedJson
from rpc.server.limits import Limits
from rpc.server.service import Service


async def failing_parts() -> AsyncGenerator[bytes]:
    yield b',{"n":2}'
    await asyncio.sleep(0)
    raise RuntimeError("the store went away")


async def good_parts() -> AsyncGenerator[bytes]:
    for n in range(2, 2000):
        yield b',{"n":%d}' % n
    yield b"]"


async def long_parts() -> AsyncGenerator[bytes]:
    for n in range(2, 20_000):  # past HOLD_BYTES
        yield b',{"n":%d}' % n
    yield b"]"


async def late_failing_parts() -> AsyncGenerator[bytes]:
    for n in range(2, 20_000):  # well past the gzip threshold and a sync flush
        yield b',{"n":%d}' % n
    raise RuntimeError("the store went away")


async def fails_late(params: Params, ctx: CallContext) -> StreamedJson:
    return StreamedJson(b'[{"n":1}', late_failing_parts(), asyncio.get_running_loop().time() + 5)


async def fails(params: Params, ctx: CallContext) -> StreamedJson:
    return StreamedJson(b'[{"n":1}', failing_parts(), asyncio.get_running_loop().time() + 5)


async def works(params: Params, ctx: CallContext) -> StreamedJson:
    return StreamedJson(b'[{"n":1}', good_parts(), asyncio.get_running_loop().time() + 5)


async def works_long(params: Params, ctx: CallContext) -> StreamedJson:
    return StreamedJson(b'[{"n":1}', long_parts(), asyncio.get_running_loop().time() + 5)


async def test_a_failing_stream_aborts_the_connection() -> None:
    limits = Limits()
    service = cast(Service, type("S", (), {"limits": limits, "subscriptions": None})())
    methods = {"fails": fails, "works": works, "fails_late": fails_late, "works_long": works_long}
    dispatcher = Dispatcher(methods, limits)
    server = RpcServer(service, dispatcher)
    await server.start("127.0.0.1", 0)
    try:
        plain = {"Accept-Encoding": "identity"}
        async with aiohttp.ClientSession(headers=plain) as session:
            body = {"jsonrpc": "2.0", "id": 1, "method": "works"}
            async with session.post(server.url, json=body) as response:
                whole = await response.read()
                assert response.headers["Content-Length"] == str(len(whole))
                assert orjson.loads(whole)["result"] == [{"n": n} for n in range(1, 2000)]
            body = {"jsonrpc": "2.0", "id": 1, "method": "works_long"}
            async with session.post(server.url, json=body) as response:
                assert response.headers["Transfer-Encoding"] == "chunked"
                assert (await response.json())["result"] == [{"n": n} for n in range(1, 20_000)]
            # Cut before anything was sent (the answer was still held back), or after.
            body = {"jsonrpc": "2.0", "id": 1, "method": "fails"}
            with pytest.raises(aiohttp.ServerDisconnectedError):
                async with session.post(server.url, json=body) as response:
                    await response.read()
            body = {"jsonrpc": "2.0", "id": 1, "method": "fails_late"}
            with pytest.raises(aiohttp.ClientPayloadError):
                async with session.post(server.url, json=body) as response:
                    await response.read()
            # The server goes on answering.
            body = {"jsonrpc": "2.0", "id": 2, "method": "works"}
            async with session.post(server.url, json=body) as response:
                assert response.status == 200
        # With gzip: cut before the threshold (nothing sent) or after compressed bytes went out.
        async with aiohttp.ClientSession(headers={"Accept-Encoding": "gzip"}) as session:
            body = {"jsonrpc": "2.0", "id": 1, "method": "fails"}
            with pytest.raises(aiohttp.ServerDisconnectedError):
                async with session.post(server.url, json=body) as response:
                    await response.read()
            body = {"jsonrpc": "2.0", "id": 1, "method": "fails_late"}
            async with session.post(server.url, json=body, auto_decompress=False) as response:
                assert response.headers["Content-Encoding"] == "gzip"
                with pytest.raises(aiohttp.ClientPayloadError):
                    await response.read()
            for method, last in (("works", 2000), ("works_long", 20_000)):
                body = {"jsonrpc": "2.0", "id": 2, "method": method}
                async with session.post(server.url, json=body, auto_decompress=False) as response:
                    assert response.headers["Content-Encoding"] == "gzip"
                    whole = zlib.decompress(await response.read(), wbits=31)
                    assert orjson.loads(whole)["result"] == [{"n": n} for n in range(1, last)]
    finally:
        await server.stop()
