"""The dispatch pipeline with stand-in handlers: shapes of answers, batches, notifications,
errors and timeouts (pure logic: no server, no store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import orjson
import pytest

from chainindex.errors import InvalidBlockRangeError, ResultLimitError
from rpc.server.dispatch import (
    CallContext,
    Dispatcher,
    Params,
    RawJson,
    StreamedJson,
    StreamedReply,
    arg,
    check_arity,
)
from rpc.server.limits import Limits
from rpc.server.protocol import JsonRpcError


async def echo(params: Params, ctx: CallContext) -> Any:
    return params


async def needs_one_int(params: Params, ctx: CallContext) -> Any:
    check_arity(params, 1)

    def decode(value: Any) -> int:
        if not isinstance(value, int):
            raise JsonRpcError(-32602, "not an int")
        return value

    return arg(params, 0, decode) * 2


async def slow(params: Params, ctx: CallContext) -> Any:
    await asyncio.sleep(10)


async def broken(params: Params, ctx: CallContext) -> Any:
    raise ZeroDivisionError("a bug")


async def reversed_range(params: Params, ctx: CallContext) -> Any:
    raise InvalidBlockRangeError()


async def too_many(params: Params, ctx: CallContext) -> Any:
    raise ResultLimitError(10000, 16, 47)


async def raw(params: Params, ctx: CallContext) -> Any:
    return RawJson(b'[{"a":1}]')


async def parts() -> AsyncGenerator[bytes]:
    yield b",2"
    yield b",3]"


async def streamed(params: Params, ctx: CallContext) -> Any:
    return StreamedJson(b"[1", parts(), asyncio.get_running_loop().time() + 5)


METHODS = {
    "echo": echo,
    "double": needs_one_int,
    "slow": slow,
    "broken": broken,
    "reversed": reversed_range,
    "many": too_many,
    "raw": raw,
    "streamed": streamed,
}


def dispatcher(**limits: Any) -> Dispatcher:
    return Dispatcher(METHODS, Limits(**{"request_timeout": 0.2, **limits}))


async def answer(body: bytes | str, **limits: Any) -> Any:
    if isinstance(body, str):
        body = body.encode()
    reply = await dispatcher(**limits).handle(body, CallContext(owner="t"))
    return None if reply is None else orjson.loads(reply)  # type: ignore[arg-type]


def call(method: str, params: Any = None, id_: Any = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        out["params"] = params
    return out


async def test_results_and_ids() -> None:
    assert await answer(orjson.dumps(call("echo", [1, "a"], "x"))) == {
        "jsonrpc": "2.0", "id": "x", "result": [1, "a"]
    }  # fmt: skip
    assert (await answer(orjson.dumps(call("echo", None, None))))["result"] == []
    assert (await answer(orjson.dumps(call("raw"))))["result"] == [{"a": 1}]
    assert (await answer(orjson.dumps(call("streamed"))))["result"] == [1, 2, 3]


async def test_a_streamed_result_streams_only_when_asked() -> None:
    reply = await dispatcher().handle(
        orjson.dumps(call("streamed", id_=7)), CallContext("t"), stream=True
    )
    assert isinstance(reply, StreamedReply)
    body = b"".join([part async for part in reply.parts])
    assert orjson.loads(body) == {"jsonrpc": "2.0", "id": 7, "result": [1, 2, 3]}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("{", -32700, "parse error"),
        ("", -32700, "parse error"),
        ("[]", -32600, "empty batch"),
        ("5", -32600, "invalid request"),
        ('{"jsonrpc":"1.0","id":1,"method":"echo"}', -32600, 'invalid request: "jsonrpc"'),
        ('{"jsonrpc":"2.0","id":1,"method":5}', -32600, 'invalid request: "method"'),
        ('{"jsonrpc":"2.0","id":{},"method":"echo"}', -32600, 'invalid request: "id"'),
        ('{"jsonrpc":"2.0","id":1,"method":"echo","params":{}}', -32602, "non-array args"),
        ('{"jsonrpc":"2.0","id":1,"method":"nope"}', -32601, "the method nope does not exist"),
        (
            '{"jsonrpc":"2.0","id":1,"method":"double"}',
            -32602,
            "missing value for required argument 0",
        ),
        (
            '{"jsonrpc":"2.0","id":1,"method":"double","params":[1,2]}',
            -32602,
            "too many arguments, want at most 1",
        ),
        (
            '{"jsonrpc":"2.0","id":1,"method":"double","params":["a"]}',
            -32602,
            "invalid argument 0: not an int",
        ),
        ('{"jsonrpc":"2.0","id":1,"method":"slow"}', -32002, "request timed out"),
        ('{"jsonrpc":"2.0","id":1,"method":"broken"}', -32603, "internal error"),
        ('{"jsonrpc":"2.0","id":1,"method":"reversed"}', -32602, "invalid block range params"),
    ],
)
async def test_errors(body: str, code: int, message: str) -> None:
    got = await answer(body)
    assert got["jsonrpc"] == "2.0"
    assert got["error"]["code"] == code
    assert got["error"]["message"].startswith(message)
    assert "result" not in got


async def test_limit_errors_carry_the_suggested_range() -> None:
    got = await answer(orjson.dumps(call("many")))
    assert got["error"] == {
        "code": -32005,
        "message": "query returned more than 10000 results; try with this block range [0x10, 0x2f]",
        "data": {"limit": "results", "max": 10000, "from": "0x10", "to": "0x2f"},
    }


async def test_batches_keep_order_and_skip_notifications() -> None:
    batch = [
        call("double", [2], 1),
        {"jsonrpc": "2.0", "method": "echo", "params": [1]},  # a notification
        call("nope", [], 2),
        5,
        call("double", [5], "three"),
    ]
    got = await answer(orjson.dumps(batch))
    assert [r.get("id") for r in got] == [1, 2, None, "three"]
    assert got[0]["result"] == 4
    assert got[1]["error"]["code"] == -32601
    assert got[2]["error"]["code"] == -32600
    assert got[3]["result"] == 10


async def test_notifications_only_get_no_answer() -> None:
    assert await answer(b'{"jsonrpc":"2.0","method":"echo"}') is None
    assert (
        await answer(b'[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"x"}]') is None
    )


async def test_batch_limit() -> None:
    got = await answer(orjson.dumps([call("echo")] * 5), max_batch=4)
    assert got["error"]["code"] == -32005
    assert "batch too large" in got["error"]["message"]
    assert len(await answer(orjson.dumps([call("echo")] * 4), max_batch=4)) == 4


async def test_a_batch_times_out_as_a_whole_per_call() -> None:
    got = await answer(orjson.dumps([call("slow", [], 1), call("echo", [1], 2)]))
    assert got[0]["error"] == {"code": -32002, "message": "request timed out"}
    assert got[1]["result"] == [1]
