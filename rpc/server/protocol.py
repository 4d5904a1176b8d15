"""JSON-RPC 2.0 as the server speaks it: wire shapes, error codes, and the one error type.

Every failure a client can see is a :class:`JsonRpcError` (code, message, optional data),
whatever raised it: :func:`as_json_rpc_error` maps the project's deliberate errors to codes
and messages (go-ethereum's where geth has them) and anything else to a bare ``internal
error`` (the traceback goes to the server's log, never to the client). The codes and the
error object are JSON-RPC 2.0's (https://www.jsonrpc.org/specification#error_object) and
go-ethereum's ``rpc/errors.go`` for the server-defined ones.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypedDict

from bloombits.errors import LogfilterError
from chainindex.errors import (
    BlockRangeBeyondHeadError,
    CorruptDataError,
    DataDamagedError,
    HexError,
    InvalidBlockRangeError,
    PendingLogsError,
    PrunedHistoryError,
    QueryLimitError,
    RpcCallError,
    TooManyFilterValuesError,
)
from chainindex.hexutil import encode_quantity
from chainindex.textindex.errors import IndexCorruptError

__all__ = [
    "DATA_DAMAGED",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "LIMIT_EXCEEDED",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR",
    "TIMEOUT",
    "ErrorObject",
    "JsonId",
    "JsonNumberText",
    "JsonRpcError",
    "Notification",
    "Request",
    "as_json_rpc_error",
    "damaged_error",
]

log = logging.getLogger("rpc")

PARSE_ERROR: Final = -32700
"""The body is not JSON."""
INVALID_REQUEST: Final = -32600
"""JSON, but not a JSON-RPC request (or an empty batch)."""
METHOD_NOT_FOUND: Final = -32601
"""No such method (and no ``--proxy``)."""
INVALID_PARAMS: Final = -32602
"""Bad parameters, and geth's filter errors (reversed or future range, pending...)."""
INTERNAL_ERROR: Final = -32603
"""A bug: the details are in the server's log."""
SERVER_ERROR: Final = -32000
"""geth's default code: unknown block, filter not found, upstream failures..."""
TIMEOUT: Final = -32002
"""The request took longer than the per-request timeout (geth's code)."""
LIMIT_EXCEEDED: Final = -32005
"""A configured limit (block range, results, body, batch, filters, subscriptions)."""
DATA_DAMAGED: Final = -32010
"""The data directory is damaged where the answer lies (``data``: component and blocks); the
operator runs ``logfilter check``."""
PRUNED_HISTORY: Final = 4444
"""geth's code for history below the first available block."""


@dataclass(frozen=True, slots=True)
class JsonNumberText:
    """A request id that is a JSON number orjson cannot keep exactly (a fraction or an
    exponent, or an integer beyond 64 bits), kept as the request wrote it."""

    text: str
    """The number's JSON text."""


JsonId = str | int | float | JsonNumberText | None
"""A request id as JSON allows it."""


class Request(TypedDict):
    """A validated call (``id`` absent: a notification, which gets no answer)."""

    jsonrpc: str
    method: str
    params: NotRequired[list[Any]]
    id: NotRequired[JsonId]


class ErrorObject(TypedDict):
    """The ``error`` member of a response."""

    code: int
    message: str
    data: NotRequired[Any]


class Notification(TypedDict):
    """A subscription notification (``eth_subscription``)."""

    jsonrpc: str
    method: str
    params: dict[str, Any]


class JsonRpcError(LogfilterError):
    """A JSON-RPC error answer: ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        """The JSON-RPC error code."""
        self.message = message
        """What the client reads."""
        self.data = data
        """Extra structured detail (limit errors carry the suggested range)."""

    def to_object(self) -> ErrorObject:
        """The ``error`` member."""
        error: ErrorObject = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"JsonRpcError({self.code}, {self.message!r})"


_INVALID_PARAMS_ERRORS = (
    InvalidBlockRangeError,
    BlockRangeBeyondHeadError,
    PendingLogsError,
    TooManyFilterValuesError,
    HexError,
)


def as_json_rpc_error(error: BaseException) -> JsonRpcError:
    """The answer a client gets for ``error`` (unexpected errors are logged here)."""
    if isinstance(error, JsonRpcError):
        return error
    if isinstance(error, QueryLimitError):
        data = {
            "limit": error.limit,
            "max": error.maximum,
            "from": encode_quantity(error.first),
            "to": encode_quantity(error.last),
        }
        return JsonRpcError(LIMIT_EXCEEDED, str(error), data)
    if isinstance(error, CorruptDataError | IndexCorruptError):
        return damaged_error(error)
    if isinstance(error, _INVALID_PARAMS_ERRORS):
        return JsonRpcError(INVALID_PARAMS, str(error))
    if isinstance(error, PrunedHistoryError):
        return JsonRpcError(PRUNED_HISTORY, str(error))
    if isinstance(error, RpcCallError):  # a proxied call: the upstream's own answer
        return JsonRpcError(error.code, error.rpc_message)
    if isinstance(error, LogfilterError):
        return JsonRpcError(SERVER_ERROR, str(error))
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return JsonRpcError(TIMEOUT, "request timed out")
    log.error("internal error answering a request", exc_info=error)
    return JsonRpcError(INTERNAL_ERROR, "internal error")


def damaged_error(error: CorruptDataError | IndexCorruptError) -> JsonRpcError:
    """The answer for a damaged data directory: ``-32010``, the component and the blocks
    (hex, null when not known) in ``data``; the detail goes to the log, never to the
    client."""
    if not isinstance(error, DataDamagedError):
        component = "text index" if isinstance(error, IndexCorruptError) else "store"
        error = DataDamagedError(component, None, None, str(error))
    log.error("%s (%s)", error, error.detail)
    data = {
        "component": error.component,
        "fromBlock": None if error.first is None else encode_quantity(error.first),
        "toBlock": None if error.last is None else encode_quantity(error.last),
    }
    return JsonRpcError(DATA_DAMAGED, str(error), data)
