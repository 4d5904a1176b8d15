"""Dispatch: a request body in, a response body out, as a pipeline of small steps.

``parse`` (bytes → JSON value) → ``validate`` (JSON value → :class:`Request`) → ``call`` (the
method's handler under the per-request timeout, any failure turned into an
:class:`JsonRpcError`) → ``respond`` (id + outcome → response bytes). A batch runs its calls
concurrently and answers in order, leaving out notifications (calls without an id); a body
of notifications only gets no answer at all.

Handlers and what they see (:data:`Params`, :class:`CallContext`, the results
:class:`RawJson` and :class:`StreamedJson`, the parameter helpers) are in
:mod:`rpc.server.calls`, re-exported here. A streamed answer is only ever the whole body
of a single HTTP request; in a batch or on a WebSocket it is gathered first.

An :class:`~rpc.server.admission.Admission`, when set, bounds the calls running at once (a
call that cannot start soon is refused with ``-32005``). A :class:`CallObserver`, when set,
is told each call's method, outcome and duration (the server's metrics); without one a call
pays nothing for it.

Error messages follow go-ethereum's (``invalid argument 0: ...``, ``missing value for
required argument 0``, ``the method x does not exist/is not available``, ``empty batch``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, cast

import orjson

from rpc.server.admission import BYPASS, Admission, holding
from rpc.server.calls import (
    CallContext,
    CallObserver,
    Handler,
    Params,
    Peer,
    RawJson,
    StreamedJson,
    arg,
    check_arity,
    method_not_found,
)
from rpc.server.limits import Limits
from rpc.server.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    PARSE_ERROR,
    JsonId,
    JsonNumberText,
    JsonRpcError,
    Request,
    as_json_rpc_error,
)
from rpc.server.request_ids import encode_id, parse_exact

__all__ = [
    "CallContext",
    "CallObserver",
    "Dispatcher",
    "Handler",
    "Params",
    "Peer",
    "RawJson",
    "StreamedJson",
    "arg",
    "check_arity",
    "method_not_found",
    "parse",
    "respond",
    "validate",
]

# --- the pipeline -----------------------------------------------------------------------------


def parse(body: bytes) -> Any:
    """The JSON value of ``body``; request ids that are numbers orjson would not keep
    exactly are :class:`JsonNumberText` (see :func:`rpc.server.request_ids.parse_exact`)."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        if str(err).startswith("number"):  # out of a double's range: the stdlib keeps it
            return parse_exact(body, err)
        raise JsonRpcError(PARSE_ERROR, f"parse error: {err}") from None
    messages = message if isinstance(message, list) else [message]
    if any(isinstance(m, dict) and _inexact(m.get("id"), body) for m in messages):
        return parse_exact(body, None)
    return message


def _inexact(request_id: object, body: bytes) -> bool:
    """Whether orjson may have changed the text of ``request_id`` (a double, or a ``-0``)."""
    kind = type(request_id)
    return kind is float or (kind is int and request_id == 0 and b"-0" in body)


def _valid_id(value: object) -> bool:
    return value is None or (
        isinstance(value, str | int | float | JsonNumberText) and not isinstance(value, bool)
    )


def validate(message: Any) -> Request:
    """``message`` checked to be a JSON-RPC 2.0 call or notification."""
    if not isinstance(message, dict):
        raise JsonRpcError(INVALID_REQUEST, "invalid request: expected a JSON object")
    if message.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise JsonRpcError(INVALID_REQUEST, 'invalid request: "method" must be a non-empty string')
    if "id" in message and not _valid_id(message["id"]):
        raise JsonRpcError(
            INVALID_REQUEST, 'invalid request: "id" must be a string, number or null'
        )
    params = message.get("params")
    if params is None:
        message["params"] = []
    elif not isinstance(params, list):
        raise JsonRpcError(INVALID_PARAMS, "non-array args: params must be an array")
    return cast(Request, message)


def _id_of(message: Any) -> JsonId:
    """The id to answer an invalid message with (null when it has no usable one)."""
    if isinstance(message, dict):
        value = message.get("id")
        if _valid_id(value):
            return cast(JsonId, value)
    return None


def respond(request_id: JsonId, outcome: Any) -> bytes:
    """A response: ``outcome`` is a result (plain, :class:`RawJson`) or a :class:`JsonRpcError`."""
    head = b'{"jsonrpc":"2.0","id":' + encode_id(request_id)
    if isinstance(outcome, JsonRpcError):
        return head + b',"error":' + orjson.dumps(outcome.to_object()) + b"}"
    if isinstance(outcome, RawJson):  # one copy of a result that may be tens of MB
        return b"".join((head, b',"result":', outcome.json, b"}"))
    return head + b',"result":' + orjson.dumps(outcome) + b"}"


def _error_body(error: JsonRpcError) -> bytes:
    return respond(None, error)


@dataclass(slots=True)
class StreamedReply:
    """A response body written out in parts (a single call with a streamed result)."""

    parts: AsyncGenerator[bytes]
    """The body, in order; an error while iterating means the response must be aborted."""


Reply = bytes | StreamedReply | None
"""A response body, streamed or not, or None when there is nothing to answer."""


class Dispatcher:
    """Runs the pipeline over a method table (see the module docstring)."""

    def __init__(
        self,
        methods: Mapping[str, Handler],
        limits: Limits,
        *,
        fallback: Handler | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.methods = methods
        """Method name → handler."""
        self.limits = limits
        """Timeout and batch size."""
        self.fallback = fallback
        """Handler of unknown methods (``--proxy``), called with ``[method, params]``."""
        self.admission = admission
        """The gate calls pass before running (None: no gate); see
        :mod:`rpc.server.admission`."""
        self.observer: CallObserver | None = None
        """Told about each call, when set."""

    async def handle(self, body: bytes, ctx: CallContext, *, stream: bool = False) -> Reply:
        """The reply to ``body``. With ``stream`` a single call may answer with a
        :class:`StreamedReply`."""
        try:
            message = parse(body)
        except JsonRpcError as err:
            ctx.note("-", err)
            return _error_body(err)
        if isinstance(message, list):
            return await self._batch(message, ctx)
        outcome = await self._one(message, ctx)
        if outcome is None:
            return None
        request_id, result = outcome
        if isinstance(result, StreamedJson):
            if stream:
                return StreamedReply(_streamed(request_id, result))
            result = await self._gathered(result)
        return respond(request_id, result)

    async def _batch(self, messages: list[Any], ctx: CallContext) -> Reply:
        if not messages:
            error = JsonRpcError(INVALID_REQUEST, "empty batch")
        elif len(messages) > self.limits.max_batch:
            if self.observer is not None:
                self.observer.rejected("batch")
            error = JsonRpcError(
                LIMIT_EXCEEDED,
                f"batch too large: {len(messages)} calls, at most {self.limits.max_batch}",
            )
        else:
            return await self._answers(messages, ctx)
        ctx.note("-", error)
        return _error_body(error)

    async def _answers(self, messages: list[Any], ctx: CallContext) -> Reply:
        outcomes = await asyncio.gather(*(self._one(m, ctx) for m in messages))
        parts = []
        for outcome in outcomes:
            if outcome is not None:
                request_id, result = outcome
                if isinstance(result, StreamedJson):
                    result = await self._gathered(result)
                parts.append(respond(request_id, result))
        return b"[" + b",".join(parts) + b"]" if parts else None

    async def _gathered(self, result: StreamedJson) -> RawJson | JsonRpcError:
        try:
            return RawJson(await result.gather())
        except Exception as err:
            return as_json_rpc_error(err)

    async def _one(self, message: Any, ctx: CallContext) -> tuple[JsonId, Any] | None:
        """``(id, result or JsonRpcError)``, or None for a notification."""
        try:
            request = validate(message)
        except JsonRpcError as err:
            ctx.note("-", err)
            return _id_of(message), err
        result = await self.call(request, ctx)
        ctx.note(request["method"], result)
        if "id" not in request:
            if isinstance(result, StreamedJson):
                await result.rest.aclose()
            return None
        return request.get("id"), result

    async def call(self, request: Request, ctx: CallContext) -> Any:
        """The outcome of one validated call: its result, or the JsonRpcError it failed with."""
        observer = self.observer
        if observer is None:
            return await self._call(request, ctx)
        started = time.perf_counter()
        outcome = await self._call(request, ctx)
        method = request["method"]
        observer.observe(method, method in self.methods, outcome, time.perf_counter() - started)
        return outcome

    async def _call(self, request: Request, ctx: CallContext) -> Any:
        method = request["method"]
        params = request.get("params", [])
        handler = self.methods.get(method)
        if handler is None:
            if self.fallback is None:
                return method_not_found(method)
            handler, params = self.fallback, [method, params]
        gate = self.admission
        if gate is None or method in BYPASS:
            return await self._run(handler, params, ctx)
        if not await gate.acquire():
            return gate.busy_error()
        try:
            async with gate.turn(method):
                outcome = await self._run(handler, params, ctx)
        except BaseException:  # cancelled: the slot goes back all the same
            gate.release()
            raise
        if isinstance(outcome, StreamedJson):  # the slot is held until the last part
            outcome.rest = holding(outcome.rest, gate.release)
        else:
            gate.release()
        return outcome

    async def _run(self, handler: Handler, params: Params, ctx: CallContext) -> Any:
        try:
            async with asyncio.timeout(self.limits.request_timeout):
                return await handler(params, ctx)
        except TimeoutError:
            return as_json_rpc_error(TimeoutError())
        except Exception as err:
            return as_json_rpc_error(err)


async def _streamed(request_id: JsonId, result: StreamedJson) -> AsyncGenerator[bytes]:
    yield b'{"jsonrpc":"2.0","id":' + encode_id(request_id) + b',"result":' + result.head
    async with asyncio.timeout_at(result.deadline), aclosing(result.rest) as rest:
        async for part in rest:
            yield part
    yield b"}"
