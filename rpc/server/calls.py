"""What a method handler sees: its parameters, its caller, and the shapes of its result.

The handler's side of :mod:`rpc.server.dispatch` (split from it along that seam): handlers
take the positional parameters (:data:`Params`) and a :class:`CallContext` and return any
JSON-serialisable value, or :class:`RawJson` (already encoded: log arrays), or
:class:`StreamedJson` (an answer written out while it is produced). The parameter helpers
give go-ethereum's messages (``invalid argument 0: ...``, ``missing value for required
argument 0``, ``too many arguments``, ``the method x does not exist/is not available``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from chainindex.errors import HexError
from rpc.server.protocol import INVALID_PARAMS, METHOD_NOT_FOUND, JsonRpcError

__all__ = [
    "CallContext",
    "CallObserver",
    "Handler",
    "Params",
    "Peer",
    "RawJson",
    "StreamedJson",
    "arg",
    "check_arity",
    "method_not_found",
]

T = TypeVar("T")

Params = list[Any]
"""A call's positional parameters."""


class Peer(Protocol):
    """The client end of a connection that can be pushed to (a WebSocket)."""

    def push(self, message: bytes) -> None:
        """Queue ``message`` for the client (never blocks)."""
        ...

    def close(self, reason: str) -> None:
        """Close the connection, telling the client ``reason``."""
        ...


class CallObserver(Protocol):
    """Told about every call the dispatcher makes (see the module docstring)."""

    def observe(self, method: str, known: bool, outcome: Any, seconds: float) -> None:
        """``method`` (``known``: in the method table) ended with ``outcome`` (a result, or
        the :class:`JsonRpcError` answered) after ``seconds``."""
        ...

    def rejected(self, limit: str) -> None:
        """A request was refused whole for exceeding ``limit`` (``"body"``, ``"batch"``)."""
        ...


@dataclass(slots=True)
class CallContext:
    """What a handler knows about its caller."""

    owner: Hashable
    """Who the caller is: a WebSocket connection (per-connection limits), or an HTTP client
    address (recorded, not limited by)."""
    peer: Peer | None = None
    """Where notifications go (WebSocket only; None on HTTP)."""
    after_reply: list[Callable[[], None]] = field(default_factory=list)
    """Run once the reply is queued (a subscription starts notifying only then)."""
    calls: list[tuple[str, int | None]] = field(default_factory=list)
    """Each message answered: its method (``-`` when invalid) and error code (None: a
    result), for the access log."""

    def note(self, method: str, outcome: object) -> None:
        """Record the outcome of one message (a result, or a :class:`JsonRpcError`)."""
        code = outcome.code if isinstance(outcome, JsonRpcError) else None
        self.calls.append((method, code))


@dataclass(frozen=True, slots=True)
class RawJson:
    """A result already encoded as JSON."""

    json: bytes
    """The encoded value."""


@dataclass(slots=True)
class StreamedJson:
    """A result written out while it is produced: ``head`` is ready, ``rest`` follows."""

    head: bytes
    """The first part, produced inside the call (so early errors are proper answers)."""
    rest: AsyncGenerator[bytes]
    """The remaining parts; an error while iterating aborts the response."""
    deadline: float
    """Loop time by which the last part must be written."""

    async def gather(self) -> bytes:
        """The whole value (for batches and WebSockets)."""
        parts = [self.head]
        async with asyncio.timeout_at(self.deadline), aclosing(self.rest) as rest:
            async for part in rest:
                parts.append(part)
        return b"".join(parts)


Handler = Callable[[Params, CallContext], Awaitable[Any]]
"""A method: positional parameters and the call context in, a result out."""


# --- parameter helpers ------------------------------------------------------------------------


def check_arity(params: Params, most: int) -> None:
    """geth's ``too many arguments`` check."""
    if len(params) > most:
        raise JsonRpcError(INVALID_PARAMS, f"too many arguments, want at most {most}")


def arg(params: Params, index: int, decode: Callable[[Any], T]) -> T:
    """Argument ``index`` decoded; a decoding error is ``invalid argument N: ...``."""
    if index >= len(params):
        raise JsonRpcError(INVALID_PARAMS, f"missing value for required argument {index}")
    try:
        return decode(params[index])
    except JsonRpcError as err:
        if err.code != INVALID_PARAMS:
            raise
        raise JsonRpcError(INVALID_PARAMS, f"invalid argument {index}: {err.message}") from None
    except HexError as err:
        raise JsonRpcError(INVALID_PARAMS, f"invalid argument {index}: {err}") from None


def method_not_found(method: str) -> JsonRpcError:
    """geth's answer to a method it does not serve."""
    return JsonRpcError(
        METHOD_NOT_FOUND, f"the method {method[:100]} does not exist/is not available"
    )
