"""The channel between the reader processes of ``serve --processes N`` and the writer.

The writer (the process that syncs, holds the head store, the installed filters and the
subscriptions) listens, besides the shared port, on two unix sockets in a private directory
(mode 0700, so only the user running ``serve`` can reach them):

* :data:`CALLS_SOCKET`, newline-delimited JSON-RPC (one call per line, one answer per line,
  in order; as go-ethereum's IPC endpoint, ``rpc/ipc.go``), answered by the writer's own
  dispatcher (:func:`serving_calls`): no HTTP on either side, so a forwarded call costs the
  writer little more than its own handler;
* :data:`HTTP_SOCKET`, the writer's HTTP server, through which a reader relays a WebSocket.

:class:`WriterLink` is a reader's client of both. :meth:`WriterLink.call` sends one call over
a kept connection (a pool: one call at a time per connection, a new one when all are busy;
a connection whose call was interrupted is closed, never reused out of step) and gives back
the writer's result as :class:`~rpc.server.dispatch.RawJson` (already encoded: a log array is
passed through without being decoded) or raises the writer's error as the same
:class:`~rpc.server.protocol.JsonRpcError` (code, message, data), so a forwarded call is
answered exactly as the writer answers it. A call is never sent twice (``eth_newFilter`` is
not idempotent): a broken connection is ``writer process unavailable``.
:meth:`WriterLink.websocket` opens a WebSocket to the writer (``Host: 127.0.0.1``, an IP
literal that ``--vhosts`` never refuses).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from rpc.server.dispatch import CallContext, Dispatcher, RawJson, StreamedReply, respond
from rpc.server.protocol import SERVER_ERROR, JsonRpcError, as_json_rpc_error

__all__ = [
    "CALLS_SOCKET",
    "HTTP_SOCKET",
    "MAX_LINE",
    "WRITER_UNAVAILABLE",
    "WriterLink",
    "serving_calls",
]

log = logging.getLogger("rpc.server.writerlink")

WRITER_UNAVAILABLE = "writer process unavailable"
"""The message of the error a client gets when its call cannot reach the writer."""

CALLS_SOCKET = "calls.sock"
"""The writer's newline-delimited JSON-RPC socket, in the channel's directory."""
HTTP_SOCKET = "writer.sock"
"""The writer's HTTP (WebSocket) socket, in the channel's directory."""
MAX_LINE = 1 << 30
"""Longest line either side reads (an answer may be a whole array of logs)."""
MAX_IDLE = 32
"""Connections a reader keeps open between calls."""

_URL = "http://127.0.0.1/"
_PREFIX = b'{"jsonrpc":"2.0","id":1,"result":'
"""How the writer's answer to a call with id 1 begins (``rpc.server.dispatch.respond``)."""


class WriterLink:
    """A reader process's client of the writer (see the module docstring)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        """The channel's directory (:data:`CALLS_SOCKET`, :data:`HTTP_SOCKET`)."""
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WriterLink:
        connector = aiohttp.UnixConnector(path=os.path.join(self.directory, HTTP_SOCKET))
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        while self._idle:
            self._idle.pop()[1].close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, params: Any) -> RawJson:
        """The writer's result of ``method(params)``; its error raised as itself."""
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        try:
            answer = await self._exchange(body)
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:
            log.warning("forwarding %s to the writer failed: %r", method, err)
            raise JsonRpcError(SERVER_ERROR, WRITER_UNAVAILABLE) from None
        if answer.startswith(_PREFIX) and answer.endswith(b"}"):
            return RawJson(answer[len(_PREFIX) : -1])
        return _outcome(method, answer)

    async def _exchange(self, body: bytes) -> bytes:
        """One line out, one line back, over an idle connection or a new one."""
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            path = os.path.join(self.directory, CALLS_SOCKET)
            reader, writer = await asyncio.open_unix_connection(path, limit=MAX_LINE)
        done = False
        try:
            writer.write(body + b"\n")
            await writer.drain()
            line = await reader.readuntil(b"\n")
            done = True
            return line[:-1]
        finally:
            if done and len(self._idle) < MAX_IDLE:
                self._idle.append((reader, writer))
            else:  # interrupted (its answer would come to the next call) or too many
                writer.close()

    def websocket(self, max_msg_size: int) -> Any:
        """``await link.websocket(n)``: a WebSocket to the writer."""
        assert self._session is not None, "use WriterLink as an async context manager"
        return self._session.ws_connect(
            _URL, max_msg_size=max_msg_size, headers={"Host": "127.0.0.1"}, autoping=True
        )


@asynccontextmanager
async def serving_calls(dispatcher: Dispatcher, path: str) -> AsyncIterator[None]:
    """The writer's end of :data:`CALLS_SOCKET` at ``path``: each line answered by
    ``dispatcher`` as an HTTP call would be; stopped (every connection closed) on exit."""
    connections: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            while line := await reader.readuntil(b"\n"):
                writer.write(await _answer(dispatcher, line) + b"\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the reader went away, or sent what no call is
        finally:
            connections.discard(task)
            writer.close()

    server = await asyncio.start_unix_server(accept, path, limit=MAX_LINE)
    try:
        yield
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)


async def _answer(dispatcher: Dispatcher, line: bytes) -> bytes:
    ctx = CallContext(owner=("http", "reader process"))
    try:
        reply = await dispatcher.handle(line, ctx)
    except Exception as err:  # as the HTTP handler: never a traceback
        return respond(None, as_json_rpc_error(err))
    assert not isinstance(reply, StreamedReply)  # only asked for with stream=True
    return b"null" if reply is None else reply


def _outcome(method: str, answer: bytes) -> RawJson:
    """The result of an answer that is not the plain ``result`` shape: an error raised as
    the writer's own; anything else (not JSON-RPC) as the writer being unavailable."""
    try:
        message = orjson.loads(answer)
    except orjson.JSONDecodeError:
        message = None
    if isinstance(message, dict):
        error = message.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            raise JsonRpcError(error["code"], str(error.get("message", "")), error.get("data"))
        if "result" in message:
            return RawJson(orjson.dumps(message["result"]))
    log.warning("the writer answered %s with %r", method, answer[:200])
    raise JsonRpcError(SERVER_ERROR, WRITER_UNAVAILABLE)
