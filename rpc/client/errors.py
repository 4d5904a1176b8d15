"""The client library's errors, under their own root :class:`ClientError`.

The client is a library for any Ethereum node, so its errors do not derive from the
server's (:class:`bloombits.errors.LogfilterError`): catching :class:`ClientError` catches
every deliberate failure of the client and nothing else.

::

    ClientError                      every deliberate failure of the client
    ├── InvalidArgumentError         a bad argument, refused before anything is sent
    ├── TransportError               the server could not be reached or the connection failed
    │   └── RequestTimeoutError      no answer within the client's timeout
    ├── ResponseError                an answer that is not what JSON-RPC or the method promise
    ├── SubscriptionEndedError       a subscription's buffer gets no more notifications
    │                                (internal: the subscription re-subscribes)
    └── NodeError                    the node answered with a JSON-RPC error object
        └── LimitError               a range or result-count limit (the query can be split)
            └── BlockLimitError      a single block is over the limit: cannot be split further

Every error carries ``code``, ``message`` and ``data``: for :class:`NodeError` those of the
JSON-RPC error object, for the others ``code`` is None.

:func:`node_error` classifies an error object: ``-32005`` with ``data.from``/``data.to`` (the
logfilter contract, Infura), or a message in one of the wordings common providers use
("query returned more than 10000 results", "query exceeds max block range 100000",
"Log response size exceeded ... [0x1, 0x2]", ...) is a :class:`LimitError`, with the
suggested narrower range when the data or the message carries one.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

__all__ = [
    "LIMIT_CODE",
    "METHOD_NOT_FOUND",
    "TIMEOUT_CODE",
    "BlockLimitError",
    "ClientError",
    "InvalidArgumentError",
    "LimitError",
    "NodeError",
    "RequestTimeoutError",
    "ResponseError",
    "SubscriptionEndedError",
    "TransportError",
    "node_error",
]

LIMIT_CODE: Final = -32005
"""JSON-RPC code of limit errors (EIP-1474 "limit exceeded")."""
TIMEOUT_CODE: Final = -32002
"""JSON-RPC code logfilter answers when a request ran past its time limit."""
METHOD_NOT_FOUND: Final = -32601
"""JSON-RPC code of a method the server does not have."""


class ClientError(Exception):
    """Root of the client library's errors."""

    def __init__(self, message: str, *, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        """The JSON-RPC error code (None when the error is not the server's answer)."""
        self.message = message
        """What went wrong, in one line."""
        self.data = data
        """The JSON-RPC error's ``data`` member, or None."""


class InvalidArgumentError(ClientError, ValueError):
    """An argument the client refuses before sending anything (bad address, more than four
    topic positions, ``block_hash`` with a range, an unknown block tag, a bad URL...)."""


class TransportError(ClientError):
    """The request did not get an answer: unreachable server, refused connection, HTTP error
    status without a JSON-RPC answer, or a connection lost before the answer came."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable
        """False when trying again cannot help (an HTTP status saying the request is wrong)."""


class RequestTimeoutError(TransportError):
    """No answer within the client's ``timeout``."""


class ResponseError(ClientError):
    """The server answered, but not with what JSON-RPC or the method promise (malformed
    JSON, a response without result, a log with a bad hex field...)."""


class SubscriptionEndedError(ClientError):
    """A subscription's buffer (:class:`~rpc.client.websocket.SubscriptionBuffer`) has no more
    notifications: ``reason`` is ``"dropped"`` (the connection went away) or ``"overflow"``
    (the consumer fell too far behind). The subscription catches it and re-subscribes."""

    def __init__(self, reason: Literal["dropped", "overflow"]) -> None:
        super().__init__(f"subscription ended: {reason}")
        self.reason: Literal["dropped", "overflow"] = reason
        """Why it ended."""


class NodeError(ClientError):
    """The node (a logfilter server or any other) answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})", code=code, data=data)
        self.code: int = code
        self.method = method
        """The method that was called."""
        self.rpc_message = message
        """The error message exactly as the server gave it."""


class LimitError(NodeError):
    """A range or result-count limit: the same query over a narrower range would succeed."""

    def __init__(
        self,
        method: str,
        code: int,
        message: str,
        data: Any = None,
        *,
        suggested: tuple[int, int] | None = None,
        kind: str | None = None,
        maximum: int | None = None,
    ) -> None:
        super().__init__(method, code, message, data)
        self.suggested = suggested
        """The narrower ``(from, to)`` block range the server suggested, if it did."""
        self.kind = kind
        """``"results"`` or ``"blockRange"`` when the server said which limit it was."""
        self.maximum = maximum
        """The limit's value (``data.max``) when the server gave it."""


class BlockLimitError(LimitError):
    """The query over a single block is still over the server's limit: there is no narrower
    range to try. Raised by the range splitting of ``get_logs``/``iter_logs``."""

    def __init__(self, block: int | bytes, cause: LimitError) -> None:
        name = block if isinstance(block, int) else "0x" + block.hex()
        super().__init__(
            cause.method,
            cause.code,
            f"block {name} alone is over the server's limit ({cause.rpc_message})",
            cause.data,
            suggested=None,
            kind=cause.kind,
            maximum=cause.maximum,
        )
        self.block = block
        """The block whose logs exceed the limit: its number, or its hash for a query by
        block hash."""


_LIMIT_WORDINGS: Final = re.compile(
    r"""
      (?:returned|returns|return)\ more\ than\ [\d,]+\ (?:results|logs)  # Infura, logfilter
    | exceeds?\ max(?:imum)?\ results                             # reth
    | exceed(?:s|ed)?\ (?:the\ )?max(?:imum)?\ (?:block\ )?range  # reth, Ankr, logfilter
    | log\ response\ size\ exceeded                               # Alchemy
    | response\ size\ (?:is\ )?(?:too\ (?:large|big)|exceeded)
    | response\ (?:is\ )?too\ (?:large|big)
    | (?:block\ )?range\ (?:is\ )?too\ (?:large|wide|big)        # Optimism, Erigon...
    | block\ range\ (?:limit\ )?exceeded                          # Chainstack
    | range\ exceeds\ (?:the\ )?max(?:imum)?                      # Besu
    | limited\ to\ (?:a\ )?[\d,]+\ (?:blocks?\ )?range            # QuickNode
    | too\ many\ (?:logs|results|blocks)
    | (?:results|logs)\ (?:limit\ )?exceeded
    """,
    re.IGNORECASE | re.VERBOSE,
)
"""How providers say that an ``eth_getLogs`` query is too large (never "rate limit")."""

_NUMBER: Final = r"(0x[0-9a-fA-F]+|\d+)"
_SUGGESTED_RANGE: Final = (
    re.compile(rf"\[\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\]"),  # "[0x10, 0x2f]" (logfilter, Alchemy)
    re.compile(rf"range\s+{_NUMBER}\s*-\s*{_NUMBER}", re.IGNORECASE),  # "the range 1-100" (reth)
)


_STATED_LIMITS: Final = (
    # "query exceeds max block range 100000", "exceed maximum block range: 3000"
    ("blockRange", re.compile(r"max(?:imum)? block range:? ([\d,]+)", re.IGNORECASE)),
    # "eth_getLogs is limited to a 10,000 range"
    ("blockRange", re.compile(r"limited to (?:a )?([\d,]+) (?:blocks? )?range", re.I)),
    # "query returned more than 10000 results", "query exceeds max results 20000"
    ("results", re.compile(r"more than ([\d,]+) (?:results|logs)", re.IGNORECASE)),
    ("results", re.compile(r"max(?:imum)? results:? ([\d,]+)", re.IGNORECASE)),
)
"""Limits a message states in words: which one, and its value."""


def stated_limit(message: str) -> tuple[str, int] | None:
    """The limit a message names (``("blockRange", 100000)``...), if it names one."""
    for kind, pattern in _STATED_LIMITS:
        match = pattern.search(message)
        if match is not None:
            value = int(match.group(1).replace(",", ""))
            if value > 0:
                return kind, value
    return None


def _number(value: object) -> int | None:
    """A block number given as an int, a hex quantity or a decimal string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
        except ValueError:
            return None
    return None


def suggested_range(message: str, data: Any) -> tuple[int, int] | None:
    """The narrower block range an error suggests: ``data.from``/``data.to`` first, else a
    range written in the message; None when neither has one."""
    if isinstance(data, dict):
        first, last = _number(data.get("from")), _number(data.get("to"))
        if first is not None and last is not None:
            return first, last
    for pattern in _SUGGESTED_RANGE:
        match = pattern.search(message)
        if match is not None:
            first, last = _number(match.group(1)), _number(match.group(2))
            if first is not None and last is not None:
                return first, last
    return None


def is_limit_message(message: str) -> bool:
    """True when ``message`` says, in a common provider wording, that the query is too big."""
    return _LIMIT_WORDINGS.search(message) is not None


def node_error(method: str, code: int, message: str, data: Any = None) -> NodeError:
    """The error for a JSON-RPC error object: a :class:`LimitError` when it is one (by code
    and data, or by its wording), a :class:`NodeError` otherwise."""
    range_in_data = isinstance(data, dict) and "from" in data and "to" in data
    if (code == LIMIT_CODE and range_in_data) or is_limit_message(message):
        kind = data.get("limit") if isinstance(data, dict) else None
        maximum = _number(data.get("max")) if isinstance(data, dict) else None
        if not isinstance(kind, str) or maximum is None:
            stated = stated_limit(message)
            if stated is not None:
                kind, maximum = stated
        return LimitError(
            method,
            code,
            message,
            data,
            suggested=suggested_range(message, data),
            kind=kind if isinstance(kind, str) else None,
            maximum=maximum,
        )
    return NodeError(method, code, message, data)
