"""JSON-RPC 2.0 for the client: the transport protocol, the answer checks both transports
share, and HTTP(S) (the WebSocket transport is in :mod:`rpc.client.websocket`).

A transport sends one call and returns its ``result``, or raises: :class:`NodeError` (or
:class:`LimitError`) for an error answer, :class:`ResponseError` for an answer that is not
JSON-RPC, :class:`TransportError` / :class:`RequestTimeoutError` when no answer came. It never
retries: the client decides what is safe to retry.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Final, Protocol

import aiohttp
import orjson
import yarl

from rpc.client.errors import (
    InvalidArgumentError,
    RequestTimeoutError,
    ResponseError,
    TransportError,
    node_error,
)

__all__ = [
    "HttpTransport",
    "SessionHolder",
    "Transport",
    "check_url",
    "loads",
    "request_body",
    "result_of",
]

_THREAD_DECODE_BYTES: Final = 1 << 20
"""Answers larger than this are parsed in a worker thread, off the event loop."""
_JSON: Final = {"Content-Type": "application/json"}
_RETRYABLE_STATUS: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try (the others say the request itself is wrong)."""


class Transport(Protocol):
    """Sends JSON-RPC calls to one server."""

    url: str
    """Where the server is."""

    async def request(self, method: str, params: list[Any], time_limit: float) -> Any:
        """The call's ``result``."""
        ...

    async def aclose(self) -> None:
        """Close the connections; the transport cannot be used afterwards."""
        ...


def check_url(url: str, schemes: tuple[str, ...]) -> str:
    """``url`` when it has one of ``schemes`` and a host; InvalidArgumentError otherwise."""
    try:
        parsed = yarl.URL(url)
    except (ValueError, TypeError) as err:
        raise InvalidArgumentError(f"bad URL {url!r}: {err}") from None
    if parsed.scheme not in schemes or not parsed.host:
        raise InvalidArgumentError(
            f"bad URL {url!r}: expected {' or '.join(s + '://host[:port]' for s in schemes)}"
        )
    return url


def _snippet(body: bytes | str, size: int = 120) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 3] + "..."


async def loads(body: bytes | str, url: str) -> Any:
    """The JSON of an answer (large ones parsed in a worker thread)."""
    try:
        if len(body) < _THREAD_DECODE_BYTES:
            return orjson.loads(body)
        return await asyncio.to_thread(orjson.loads, body)
    except orjson.JSONDecodeError as err:
        raise ResponseError(f"{url}: the answer is not JSON ({err}): {_snippet(body)}") from None


def result_of(method: str, body: object, url: str) -> Any:
    """The ``result`` of one response object, or the error it carries, raised."""
    if not isinstance(body, dict):
        raise ResponseError(
            f"{method}: the answer is not a JSON-RPC response: {_snippet(str(body))}"
        )
    if "error" in body and body["error"] is not None:
        error = body["error"]
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
            raise ResponseError(
                f"{method}: malformed JSON-RPC error object: {_snippet(str(error))}"
            )
        raise node_error(method, code, message, error.get("data"))
    if "result" not in body:
        raise ResponseError(f"{method}: JSON-RPC response from {url} without result or error")
    return body["result"]


def request_body(request_id: int, method: str, params: list[Any]) -> bytes:
    """One JSON-RPC request, encoded."""
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


class SessionHolder:
    """The one aiohttp session of a client, opened on first use (inside the event loop) and
    shared by its transports."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.headers = dict(headers or {})
        """Headers sent with every request (and the WebSocket handshake)."""
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        """The session (opened now if need be)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self.headers)
        return self._session

    async def aclose(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()


class HttpTransport:
    """JSON-RPC over HTTP(S) POST."""

    def __init__(self, url: str, session: SessionHolder) -> None:
        self.url = url
        """Where the server is."""
        self._session = session
        self._ids = itertools.count(1)

    async def request(self, method: str, params: list[Any], time_limit: float) -> Any:
        payload = request_body(next(self._ids), method, params)
        try:
            async with self._session.get().post(
                self.url,
                data=payload,
                headers=_JSON,
                timeout=aiohttp.ClientTimeout(total=time_limit),
            ) as resp:
                body = await resp.read()
                status = resp.status
        except TimeoutError:
            raise RequestTimeoutError(
                f"{method}: no answer from {self.url} within {time_limit:g}s"
            ) from None
        except aiohttp.ClientError as err:
            raise TransportError(
                f"{method}: cannot reach {self.url}: {err or type(err).__name__}"
            ) from None
        if status != 200:
            # Many servers send a JSON-RPC error with a 4xx/5xx status: prefer it.
            try:
                decoded = orjson.loads(body)
            except orjson.JSONDecodeError:
                decoded = None
            if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
                return result_of(method, decoded, self.url)
            raise TransportError(
                f"{method}: {self.url} answered HTTP {status} {_snippet(body)}",
                retryable=status in _RETRYABLE_STATUS,
            )
        return result_of(method, await loads(body, self.url), self.url)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client closes the shared session."""
