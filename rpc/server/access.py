"""The access log (``--access-log``, off by default): one line per HTTP request or
WebSocket connection on the standard ``rpc.server.access`` logger, so that the service's log
format applies to it. In the spirit of a web server's combined log (Apache ``mod_log_config``)
rather than a copy: the JSON-RPC method(s), outcome (``ok``, ``limit``, ``error <code>``,
several comma-separated for a batch; ``aborted`` when a streamed answer was cut), duration,
remote address, status and bytes sent. The fields also travel as the record's ``extra``
(``rpc_methods``, ``outcome``, ``duration_ms``, ``remote``, ``status``, ``bytes``...).
go-ethereum has no access log; its closest is ``rpc/handler.go``'s debug line per call.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from rpc.server.compression import STREAM
from rpc.server.protocol import LIMIT_EXCEEDED

__all__ = ["CALLS", "access_log", "access_middleware", "outcome_of"]

access_log = logging.getLogger("rpc.server.access")
"""The logger of the access lines (INFO)."""

CALLS = web.RequestKey("rpc.calls", list[tuple[str, int | None]])
"""Where the JSON-RPC handler leaves each answered message's (method, error code)."""


def outcome_of(calls: Iterable[tuple[str, int | None]]) -> str:
    """``ok``, ``limit`` or ``error <code>`` for each distinct outcome, e.g. ``ok,limit``."""
    seen: Counter[str] = Counter()
    for _, code in calls:
        seen["ok" if code is None else "limit" if code == LIMIT_EXCEEDED else f"error {code}"] += 1
    return ",".join(seen) or "-"


def access_middleware() -> Middleware:
    """Log each request once it is answered (see the module docstring)."""

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        calls: list[tuple[str, int | None]] = []
        request[CALLS] = calls
        response: web.StreamResponse | None = None
        try:
            response = await handler(request)
            return response
        except web.HTTPException as exc:  # aiohttp's own answers (405, 413...)
            response = exc
            raise
        finally:
            _log_access(request, response, calls, time.perf_counter() - start)

    return access


def _log_access(
    request: web.Request,
    response: web.StreamResponse | None,
    calls: list[tuple[str, int | None]],
    seconds: float,
) -> None:
    methods = ",".join(dict.fromkeys(method for method, _ in calls)) or "-"
    if isinstance(response, web.WebSocketResponse):
        methods = "websocket"
    outcome = outcome_of(calls)
    status = response.status if response is not None else 0
    stream = request.get(STREAM)
    sent = 0
    if stream is not None:
        sent = stream.sent
        if stream.aborted:
            outcome = "aborted"
    elif isinstance(response, web.Response) and isinstance(response.body, bytes):
        sent = len(response.body)
    if response is None:
        outcome = "failed"
    fields = {
        "remote": request.remote, "http_method": request.method, "path": request.path,
        "rpc_methods": methods, "outcome": outcome, "status": status,
        "duration_ms": round(seconds * 1e3, 3), "bytes": sent,
    }  # fmt: skip
    access_log.info(
        "%s %s %s %s %s %.1fms %dB %s",
        request.remote, request.method, request.path, methods, outcome, seconds * 1e3,
        sent, status, extra=fields,
    )  # fmt: skip
