"""The reader processes' channel to the writer process of ``serve --processes N``.

The writer (the process that syncs, holds the head store, the installed filters and the
subscriptions) listens, besides the shared port, on a unix socket in a private directory
(mode 0700, so only the user running ``serve`` can reach it). :class:`WriterLink` is a
reader's client of it: :meth:`WriterLink.call` sends one JSON-RPC call and gives back the
writer's result as :class:`~rpc.server.dispatch.RawJson` (already encoded: a log array is
passed through without being decoded) or raises the writer's error as the same
:class:`~rpc.server.protocol.JsonRpcError` (code, message, data), so a forwarded call is
answered exactly as the writer answers it. :meth:`WriterLink.websocket` opens a WebSocket to
the writer, through which a reader relays a whole client connection.

Requests carry ``Host: 127.0.0.1`` (an IP literal: ``--vhosts`` never refuses it) and ask for
no compression (the reader compresses for its own client, if asked). This is the reverse-proxy
pattern (nginx's ``proxy_pass`` to an upstream over a unix socket), inside one command.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from rpc.server.dispatch import RawJson
from rpc.server.protocol import SERVER_ERROR, JsonRpcError

__all__ = ["WRITER_UNAVAILABLE", "WriterLink"]

log = logging.getLogger("rpc.server.writerlink")

WRITER_UNAVAILABLE = "writer process unavailable"
"""The message of the error a client gets when its call cannot reach the writer."""

_URL = "http://127.0.0.1/"
_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
_PREFIX = b'{"jsonrpc":"2.0","id":1,"result":'
"""How the writer's answer to a call with id 1 begins (``rpc.server.dispatch.respond``)."""


class WriterLink:
    """A reader process's client of the writer's unix socket (see the module docstring)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        """The writer's unix socket."""
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WriterLink:
        connector = aiohttp.UnixConnector(path=self.socket_path, limit=0)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open session (inside ``async with``)."""
        assert self._session is not None, "use WriterLink as an async context manager"
        return self._session

    async def call(self, method: str, params: Any) -> RawJson:
        """The writer's result of ``method(params)``; its error raised as itself."""
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        try:
            async with self.session.post(_URL, data=body, headers=_HEADERS) as response:
                answer = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError) as err:
            log.warning("forwarding %s to the writer failed: %s", method, err)
            raise JsonRpcError(SERVER_ERROR, WRITER_UNAVAILABLE) from None
        if status == 200 and answer.startswith(_PREFIX) and answer.endswith(b"}"):
            return RawJson(answer[len(_PREFIX) : -1])
        return _outcome(method, status, answer)

    def websocket(self, max_msg_size: int) -> Any:
        """``async with link.websocket(n) as ws``: a WebSocket to the writer."""
        return self.session.ws_connect(
            _URL, max_msg_size=max_msg_size, headers={"Host": "127.0.0.1"}, autoping=True
        )


def _outcome(method: str, status: int, answer: bytes) -> RawJson:
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
    log.warning("the writer answered %s with HTTP %d: %r", method, status, answer[:200])
    raise JsonRpcError(SERVER_ERROR, WRITER_UNAVAILABLE)
