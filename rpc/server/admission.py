"""Admission control: at most N calls run at once; one that cannot start soon is refused.

Under overload a server that accepts everything answers everything late: with 512 clients
and one core, every ``eth_getLogs`` waited behind the others for seconds (p99 5.4-7.9 s, and
clients timing out, before this gate). Here a call that finds
:attr:`Admission.limit` calls running waits in a FIFO queue for at most
:attr:`Admission.wait` seconds; if no slot frees by then it is answered at once with
JSON-RPC error ``-32005`` (go-ethereum's code for a limit exceeded, ``rpc/errors.go``),
``"server busy: ... try again"``, ``data: {"limit": "concurrency"}``. A client learns in
a quarter of a second that it should back off, instead of after its own timeout.

This is the shape of Envoy's and gRPC's concurrency limiters (a bounded number in flight, a
short, bounded wait, then a fast refusal) rather than geth's, which has no such gate.
What is counted are *calls*, not connections or HTTP requests: each call of a batch takes
its own slot (so a batch of 1,000 cannot hide behind one), a WebSocket message goes through
the same gate as an HTTP request, and a streamed answer (``--max-results 0``) holds its
slot until its last part is written.

**Cheap methods bypass the gate** (:data:`BYPASS`): ``eth_blockNumber``, ``eth_chainId``,
``net_version``, ``web3_clientVersion``, ``eth_uninstallFilter``, ``eth_unsubscribe`` are
answered from memory in microseconds, with no store read and no worker thread. Refusing
them would free nothing for the expensive calls, and they are what clients and load
balancers poll to see whether the server is alive; they are never refused and never counted.
Everything else (log queries, filters, subscriptions, ``logfilter_*``, proxied calls) is.

**Log queries take turns inside the gate** (:data:`QUERIES`: ``eth_getLogs``,
``eth_getFilterLogs``, ``logfilter_search``): at most :attr:`Admission.queries` of the
admitted calls compute their answer at once; the others wait for their turn (never refused
for it). Measured (BENCHMARKS.md, "Under load"): with 64 answers of 9,000 logs (5.7 MB of
JSON each, within the default result limit) built side by side on one query thread, each
call's records and encodings waited in memory for their next turn on the thread, and the
RSS reached 961 MiB and stayed near 685 MiB; taking turns keeps only a few answers' worth
in memory, and the mean latency is no worse (one query thread serves them one after another
in either case).

**HTTP status 200**, as for any JSON-RPC error: the refusal is one call's answer (a batch may
hold answered and refused calls side by side), and clients read the error object of a 200
answer (web3.py, ethers, viem all surface ``-32005`` and its message), while web3.py raises
a bare HTTP error for a 503 or 429 and loses the message. Infura answers rate limits with a
429 and the same ``-32005``; a rate limit is about the client, this gate about the server.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext, suppress
from dataclasses import dataclass
from typing import Final

from rpc.server.protocol import LIMIT_EXCEEDED, JsonRpcError

__all__ = ["BYPASS", "QUERIES", "Admission", "AdmissionStats", "holding"]

BYPASS: Final = frozenset(
    {
        "eth_blockNumber",
        "eth_chainId",
        "net_version",
        "web3_clientVersion",
        "eth_uninstallFilter",
        "eth_unsubscribe",
    }
)
"""Methods answered from memory: never queued, never refused (see the module docstring)."""

QUERIES: Final = frozenset({"eth_getLogs", "eth_getFilterLogs", "logfilter_search"})
"""Methods whose answers may be large: they take turns (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class AdmissionStats:
    """The gate's counts at one moment (``logfilter_status``, ``/metrics``)."""

    limit: int
    """Calls allowed to run at once (``--max-concurrent-requests``)."""
    wait: float
    """Seconds a call may wait for a slot (``--queue-wait``)."""
    running: int
    """Calls running now."""
    waiting: int
    """Calls waiting for a slot now."""
    admitted: int
    """Calls admitted since start (at once or after waiting)."""
    waited: int
    """Of those, calls that had to wait for a slot."""
    refused: int
    """Calls refused since start (``-32005 server busy``)."""


class Admission:
    """The gate (see the module docstring); lives on the event loop, no lock."""

    def __init__(self, limit: int, wait: float, queries: int = 4) -> None:
        if limit < 1 or queries < 1:
            raise ValueError("max_concurrent_requests and max_concurrent_queries must be >= 1")
        if not wait > 0:
            raise ValueError("queue_wait must be positive")
        self.limit = limit
        """Calls allowed to run at once."""
        self.wait = wait
        """Seconds a call may wait for a slot."""
        self.queries = queries
        """Log queries (:data:`QUERIES`) computing their answer at once."""
        self._turns = asyncio.Semaphore(queries)
        self.running = 0
        """Slots taken."""
        self.admitted = 0
        """Calls admitted since start."""
        self.waited = 0
        """Calls admitted after waiting."""
        self.refused = 0
        """Calls refused since start."""
        self._waiters: deque[asyncio.Future[bool]] = deque()

    def stats(self) -> AdmissionStats:
        """The counts as they are now."""
        return AdmissionStats(
            self.limit, self.wait, self.running, len(self._waiters),
            self.admitted, self.waited, self.refused,
        )  # fmt: skip

    def turn(self, method: str) -> AbstractAsyncContextManager[object]:
        """What an admitted call of ``method`` runs inside: a turn for a log query, else
        nothing."""
        return self._turns if method in QUERIES else nullcontext()

    def busy_error(self) -> JsonRpcError:
        """The answer of a refused call."""
        return JsonRpcError(
            LIMIT_EXCEEDED,
            f"server busy: {self.limit} requests running and none finished within "
            f"{self.wait:g} s; try again",
            {"limit": "concurrency"},
        )

    async def acquire(self) -> bool:
        """Take a slot: True once taken (give it back with :meth:`release`), False when
        none freed within :attr:`wait` (counted as refused)."""
        if self.running < self.limit and not self._waiters:
            self.running += 1
            self.admitted += 1
            return True
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(ticket)
        timer = loop.call_later(self.wait, _expire, ticket)
        try:
            admitted = await ticket
        except asyncio.CancelledError:
            if _granted(ticket):
                self.release()  # handed a slot, but cancelled before it could run
            raise
        finally:
            timer.cancel()
            if not _granted(ticket):  # a granted ticket has left the queue already
                with suppress(ValueError):
                    self._waiters.remove(ticket)
        if admitted:
            self.waited += 1
        else:
            self.refused += 1
        return admitted

    def release(self) -> None:
        """Give a slot back: to the first call still waiting, else to the pool."""
        while self._waiters:
            ticket = self._waiters.popleft()
            if not ticket.done():
                ticket.set_result(True)  # the slot passes on: ``running`` is unchanged
                self.admitted += 1
                return
        self.running -= 1


def _granted(ticket: asyncio.Future[bool]) -> bool:
    return ticket.done() and not ticket.cancelled() and ticket.result()


def _expire(ticket: asyncio.Future[bool]) -> None:
    if not ticket.done():
        ticket.set_result(False)


def holding(parts: AsyncGenerator[bytes], release: Callable[[], None]) -> AsyncGenerator[bytes]:
    """``parts`` as they come, with ``release`` called once when they end, fail or are
    closed, or when the generator is dropped without ever being started (an async
    generator never started runs no ``finally``)."""
    once = _Once(release)
    wrapped = _held(parts, once)
    weakref.finalize(wrapped, once)
    return wrapped


class _Once:
    """Calls a function on the first call only."""

    __slots__ = ("_function",)

    def __init__(self, function: Callable[[], None]) -> None:
        self._function: Callable[[], None] | None = function

    def __call__(self) -> None:
        function, self._function = self._function, None
        if function is not None:
            function()


async def _held(parts: AsyncGenerator[bytes], once: _Once) -> AsyncGenerator[bytes]:
    try:
        async with aclosing(parts):
            async for part in parts:
                yield part
    finally:
        once()
