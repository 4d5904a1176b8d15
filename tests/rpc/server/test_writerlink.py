"""The reader-writer channel over real unix sockets: results pass through unchanged (large
ones too), errors come back as the same ``JsonRpcError``, concurrent calls each get their
own answer, an interrupted call's connection is never reused out of step, and a writer that
is gone is one clear error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from rpc.server.dispatch import CallContext, Dispatcher, Params, RawJson
from rpc.server.limits import Limits
from rpc.server.protocol import JsonRpcError
from rpc.server.writerlink import CALLS_SOCKET, WRITER_UNAVAILABLE, WriterLink, serving_calls


def _dispatcher() -> Dispatcher:
    async def echo(params: Params, ctx: CallContext) -> Any:
        return {"params": params}

    async def big(params: Params, ctx: CallContext) -> RawJson:
        return RawJson(b'["' + b"ab" * (3 << 20) + b'"]')

    async def fail(params: Params, ctx: CallContext) -> Any:
        raise JsonRpcError(-32005, "query exceeds max results 3", {"from": "0x1", "to": "0x2"})

    async def slow(params: Params, ctx: CallContext) -> Any:
        await asyncio.sleep(params[0])
        return "slow"

    methods = {"echo": echo, "big": big, "fail": fail, "slow": slow}
    return Dispatcher(methods, Limits())


def test_calls_errors_and_interruptions(tmp_path: Path) -> None:
    async def run() -> None:
        async with (
            serving_calls(_dispatcher(), str(tmp_path / CALLS_SOCKET)),
            WriterLink(str(tmp_path)) as link,
        ):
            assert (await link.call("echo", [1, "x"])).json == b'{"params":[1,"x"]}'
            assert (await link.call("big", [])).json == b'["' + b"ab" * (3 << 20) + b'"]'
            with pytest.raises(JsonRpcError) as info:
                await link.call("fail", [])
            assert (info.value.code, info.value.message) == (-32005, "query exceeds max results 3")
            assert info.value.data == {"from": "0x1", "to": "0x2"}
            with pytest.raises(JsonRpcError) as info:
                await link.call("eth_nope", [])
            assert info.value.code == -32601
            answers = await asyncio.gather(*(link.call("echo", [i]) for i in range(50)))
            assert [a.json for a in answers] == [b'{"params":[%d]}' % i for i in range(50)]
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await link.call("slow", [0.3])
            await asyncio.sleep(0.4)  # the late answer to the interrupted call has come
            for i in range(40):  # ... and never reaches a later call
                assert (await link.call("echo", [i])).json == b'{"params":[%d]}' % i

    asyncio.run(run())


def test_a_writer_gone_is_one_clear_error(tmp_path: Path) -> None:
    assert not (tmp_path / CALLS_SOCKET).exists()

    async def run() -> None:
        async with WriterLink(str(tmp_path)) as link:
            with pytest.raises(JsonRpcError) as info:
                await link.call("echo", [])
            assert info.value.message == WRITER_UNAVAILABLE
            async with serving_calls(_dispatcher(), str(tmp_path / CALLS_SOCKET)):
                assert (await link.call("echo", [])).json == b'{"params":[]}'
            with pytest.raises(JsonRpcError) as info:  # its kept connection closed with it
                await link.call("echo", [])
            assert info.value.message == WRITER_UNAVAILABLE

    asyncio.run(run())
