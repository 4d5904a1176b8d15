"""A client's connection to its node: the transports, and which calls are tried again.

One aiohttp session per connection (and one WebSocket connection when the URL is
``ws(s)://``, or beside an HTTP URL when ``ws_url`` is given, for subscriptions), opened on
first use and closed by :meth:`Connection.aclose`. Calls that only read are retried
``retries`` times with backoff when no answer came (connection refused or lost, timeout,
HTTP 429/5xx); calls that change server state (installing a filter, polling its changes) are
not, since a lost answer may hide a done change. The methods that give the calls a meaning
are :class:`~rpc.client.client.AsyncClient`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import yarl

from rpc.client.errors import ClientError, InvalidArgumentError, TransportError
from rpc.client.retry import Backoff
from rpc.client.transport import HttpTransport, SessionHolder, Transport, check_url
from rpc.client.websocket import WsTransport

__all__ = ["IDEMPOTENT_METHODS", "Connection"]

IDEMPOTENT_METHODS: Final = frozenset(
    {
        "eth_getLogs",
        "eth_blockNumber",
        "eth_chainId",
        "eth_getBlockByNumber",
        "eth_getFilterLogs",
        "eth_uninstallFilter",
        "logfilter_status",
        "logfilter_search",
    }
)
"""Methods safe to send again when their answer was lost."""


class Connection:
    """The transports one client's calls and subscriptions go through, with the retry rule
    of calls whose answer was lost. ``url`` is ``http(s)://`` or ``ws(s)://``; ``ws_url``
    adds a WebSocket beside an HTTP URL."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        retries: int,
        backoff: Backoff,
        ws_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        queue_limit: int = 10_000,
        max_message_bytes: int = 256 * 2**20,
    ) -> None:
        check_url(url, ("http", "https", "ws", "wss"))
        if ws_url is not None:
            check_url(ws_url, ("ws", "wss"))
        if timeout <= 0 or retries < 0 or queue_limit < 1:
            raise InvalidArgumentError("timeout and queue_limit must be positive, retries >= 0")
        self.url = url
        """Where calls go."""
        self.timeout = timeout
        """Seconds to wait for one answer."""
        self.retries = retries
        """Extra tries of a read-only call that got no answer."""
        self.backoff = backoff
        """Waits between tries."""
        self.ws: WsTransport | None = None
        """The WebSocket subscriptions use (None: HTTP only)."""
        self._session = SessionHolder(dict(headers or {}))
        is_ws = yarl.URL(url).scheme in ("ws", "wss")
        if is_ws or ws_url is not None:
            self.ws = WsTransport(
                url if is_ws else ws_url or url,
                session=self._session,
                max_message_bytes=max_message_bytes,
                queue_limit=queue_limit,
            )
        self._transport: Transport = (
            self.ws if is_ws and self.ws is not None else HttpTransport(url, self._session)
        )
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._closed

    async def request(self, method: str, *params: Any) -> Any:
        """Call any method with JSON-ready ``params``; its raw ``result``. Read-only methods
        are retried when no answer came."""
        if self._closed:
            raise ClientError("the client is closed")
        attempts = 1 + (self.retries if method in IDEMPOTENT_METHODS else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self._transport.request(method, list(params), self.timeout)
            except TransportError as err:
                if attempt == attempts or not err.retryable or self._closed:
                    raise
            await asyncio.sleep(self.backoff.delay(attempt))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the session and connections; calls afterwards fail."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._transport.aclose()
            if self.ws is not None and self.ws is not self._transport:
                await self.ws.aclose()
        finally:
            await self._session.aclose()
