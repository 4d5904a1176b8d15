"""``eth_subscribe`` as async iterators that survive dropped connections.

Iterator contract (both kinds): ``async with client.subscribe(...) as sub`` subscribes on
entry and unsubscribes on exit; ``async for item in sub`` yields items in chain order until
the subscription is closed, or raises a :class:`~rpc.client.errors.ClientError` when it
cannot go on (the server refused to re-subscribe, or ``reconnect_attempts`` connections in a
row failed). Iteration is single-consumer.

When the connection drops (or the consumer falls ``queue_limit`` notifications behind), the
subscription reconnects with backoff, re-subscribes and closes the gap:

- :class:`LogSubscription` fetches the logs of the blocks from its window's start to the
  head with ``eth_getLogs`` (split and paged like ``iter_logs``) and delivers, through its
  :class:`~rpc.client.window.LogWindow`, those not delivered yet and, with ``removed=True``,
  those a reorg undid meanwhile. Every log from :attr:`LogSubscription.start_block` on is
  seen exactly once (and once more with ``removed=True`` if a reorg undoes it). Reorgs are
  also detected without a drop: from a log or a head whose hash contradicts one already seen
  (the internal ``newHeads`` subscription, on by default, catches reorgs whose new blocks
  hold no matching log); they are reconciled the same way, so ``removed=True`` logs come
  even from servers that send none (anvil).
- :class:`HeadSubscription` fetches the headers it missed (from the last common ancestor of
  what it delivered and the new chain) with ``eth_getBlockByNumber``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar

from rpc.client.errors import (
    METHOD_NOT_FOUND,
    ClientError,
    NodeError,
    SubscriptionEndedError,
    TransportError,
)
from rpc.client.filters import Filter
from rpc.client.retry import Backoff
from rpc.client.types import Header, Log, decode_header, decode_log
from rpc.client.websocket import SubscriptionBuffer, WsTransport
from rpc.client.window import LogWindow

if TYPE_CHECKING:
    from rpc.client.client import AsyncClient

__all__ = ["HeadSubscription", "LogSubscription", "Subscription"]

T = TypeVar("T")

_BACKFILL_PAGE_BLOCKS = 1000
"""First page of a gap backfill, in blocks (it adapts like ``iter_logs``)."""
_BACKFILL_PAGE_LOGS = 10_000
"""Logs a backfill page aims at."""


class Subscription(Generic[T]):
    """What both kinds share: the buffer, reconnecting, the delivery queue, closing."""

    def __init__(
        self,
        client: AsyncClient,
        transport: WsTransport,
        *,
        backoff: Backoff,
        reconnect_attempts: int | None,
        timeout: float,
    ) -> None:
        self.client = client
        """The client it belongs to (its ``get_logs``/headers fill gaps)."""
        self.reconnects = 0
        """How many times it re-subscribed (after drops or overflows)."""
        self._transport = transport
        self._backoff = backoff
        self._attempts = reconnect_attempts
        self._timeout = timeout
        self._buffer: SubscriptionBuffer | None = None
        self._ready: deque[T] = deque()
        self._backlog: AsyncIterator[list[T]] | None = None
        self._failures = 0
        self._closed = False
        self._started = False

    @property
    def ids(self) -> list[str]:
        """The server's current subscription ids (they change on re-subscribing)."""
        return list(self._buffer.ids) if self._buffer is not None else []

    async def _subscribe(self) -> SubscriptionBuffer:
        raise NotImplementedError

    async def _begin(self) -> None:
        """What to set up once subscribed the first time."""
        raise NotImplementedError

    def _gap(self) -> AsyncIterator[list[T]]:
        """What was missed while not subscribed, in delivery batches."""
        raise NotImplementedError

    async def _notification(self, subscription: str, result: object) -> None:
        """Handle one notification (queue what to deliver, or start a backlog)."""
        raise NotImplementedError

    async def start(self) -> None:
        """Subscribe (done by ``async with`` or the first ``anext``)."""
        if self._started:
            return
        if self._closed:
            raise ClientError("the subscription is closed")
        if self._buffer is None:
            self._buffer = await self._subscribe()
        await self._begin()
        self._started = True

    async def _recover(self, cause: str) -> None:
        """Re-subscribe after a drop or an overflow, and schedule the gap's backfill."""
        old, self._buffer = self._buffer, None
        self._backlog = None
        if old is not None:
            # the old subscription dies with its connection anyway
            with contextlib.suppress(ClientError):
                await self._transport.unsubscribe(old, self._timeout)
        while True:
            if self._failures:
                await asyncio.sleep(self._backoff.delay(self._failures))
            try:
                self._buffer = await self._subscribe()
            except TransportError as err:
                self._failures += 1
                if self._attempts is not None and self._failures >= self._attempts:
                    raise TransportError(
                        f"subscription lost ({cause}) and {self._failures} reconnection "
                        f"attempts failed, the last with: {err}",
                        retryable=False,
                    ) from err
                continue
            break
        self.reconnects += 1
        self._backlog = self._gap()

    async def __anext__(self) -> T:
        if not self._started:
            await self.start()
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._ready:
                return self._ready.popleft()
            if self._buffer is None:  # a recovery was interrupted (cancelled): resume it
                await self._recover("not subscribed")
                continue
            if self._backlog is not None:
                try:
                    batch = await anext(self._backlog)
                except StopAsyncIteration:
                    self._backlog = None
                    self._failures = 0
                    await self._after_backlog()
                except TransportError as err:
                    self._failures += 1  # connected, but the backfill failed: counts too
                    await self._recover(str(err))
                except BaseException:
                    # Cancelled mid-backfill: start it over at the next anext (the window
                    # makes a repeated backfill deliver nothing twice).
                    self._backlog = self._gap()
                    raise
                else:
                    self._take(batch)
                continue
            try:
                subscription, result = await self._buffer.get()
            except SubscriptionEndedError as end:
                await self._recover(f"connection {end.reason}")
                continue
            self._failures = 0
            await self._notification(subscription, result)

    def _take(self, batch: list[T]) -> None:
        """Queue a backlog batch for delivery."""
        self._ready.extend(batch)

    async def _after_backlog(self) -> None:
        """Called when a backlog is fully delivered."""

    def __aiter__(self) -> Self:
        return self

    async def aclose(self) -> None:
        """Unsubscribe (best effort: a dead connection has no subscription left)."""
        if self._closed:
            return
        self._closed = True
        backlog, self._backlog = self._backlog, None
        if isinstance(backlog, AsyncGenerator):
            await backlog.aclose()
        self._ready.clear()
        buffer, self._buffer = self._buffer, None
        if buffer is not None:
            with contextlib.suppress(ClientError):
                await self._transport.unsubscribe(buffer, self._timeout)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class LogSubscription(Subscription[Log]):
    """``eth_subscribe("logs", criteria)``: every matching log of new blocks, exactly once,
    and logs undone by reorgs again with ``removed=True``."""

    def __init__(
        self,
        client: AsyncClient,
        transport: WsTransport,
        criteria: Filter,
        *,
        backoff: Backoff,
        reconnect_attempts: int | None,
        timeout: float,
        reorg_depth: int = 64,
        detect_reorgs: bool = True,
    ) -> None:
        super().__init__(
            client,
            transport,
            backoff=backoff,
            reconnect_attempts=reconnect_attempts,
            timeout=timeout,
        )
        self.criteria = criteria
        """Addresses and topics followed."""
        self._params = criteria.subscription_params()
        self._depth = reorg_depth
        self._detect_reorgs = detect_reorgs
        self._window: LogWindow | None = None
        self._start: int | None = None
        self._heads_id: str | None = None
        self._stashed: Log | None = None
        self._reconciled_to = -1

    @property
    def start_block(self) -> int | None:
        """The first block whose logs it delivers (the block after the head at subscribing);
        None before it started."""
        return self._start

    async def _subscribe(self) -> SubscriptionBuffer:
        buffer = await self._transport.subscribe(["logs", self._params], self._timeout)
        if self._detect_reorgs:
            try:
                await self._transport.subscribe(["newHeads"], self._timeout, buffer)
            except BaseException:
                self._transport.forget(buffer)
                raise
            self._heads_id = buffer.ids[-1]
        return buffer

    async def _begin(self) -> None:
        self._start = await self.client.block_number() + 1
        self._window = LogWindow(self._start, self._depth)

    async def _gap(self) -> AsyncIterator[list[Log]]:
        """Backfill from the window's start to the head: what the window does not have yet,
        and what a reorg undid."""
        assert self._window is not None
        window = self._window
        head: int = await self.client.block_number()
        self._reconciled_to = head
        if head < window.start:  # the chain is now shorter than where the window starts
            batch = window.reconcile(window.start, head, [], at_head=True)
            if batch:
                yield batch
            return
        pages = self.client.log_pages(
            self.criteria.with_range(window.start, head),
            page_blocks=_BACKFILL_PAGE_BLOCKS,
            page_logs=_BACKFILL_PAGE_LOGS,
        )
        try:
            async for page in pages:
                assert page.first is not None
                assert page.last is not None
                at_head = page.last == head
                batch = window.reconcile(page.first, page.last, page.logs, at_head=at_head)
                if batch:
                    yield batch
        finally:
            await pages.aclose()

    async def _after_backlog(self) -> None:
        log, self._stashed = self._stashed, None
        if log is not None and self._window is not None:
            self._ready.extend(self._window.settle(log, self._reconciled_to))

    def _reconcile(self) -> None:
        """Start a backlog that reconciles the window with the chain as it is now."""
        self._backlog = self._gap()

    async def _notification(self, subscription: str, result: object) -> None:
        assert self._window is not None
        if subscription == self._heads_id:
            header = decode_header(result, "newHeads notification")
            if self._window.head(header):
                self._reconcile()
            return
        log = decode_log(result, "logs notification")
        accepted = self._window.accept(log)
        if accepted is None:  # a reorg shown by the log itself: reconcile, then the log
            self._stashed = log
            self._reconcile()
            return
        self._ready.extend(accepted)


class HeadSubscription(Subscription[Header]):
    """``eth_subscribe("newHeads")``: each new head; after a drop, the heads missed."""

    def __init__(
        self,
        client: AsyncClient,
        transport: WsTransport,
        *,
        backoff: Backoff,
        reconnect_attempts: int | None,
        timeout: float,
        reorg_depth: int = 64,
    ) -> None:
        super().__init__(
            client,
            transport,
            backoff=backoff,
            reconnect_attempts=reconnect_attempts,
            timeout=timeout,
        )
        self._depth = reorg_depth
        self._seen: dict[int, bytes] = {}
        self._last = -1

    async def _subscribe(self) -> SubscriptionBuffer:
        return await self._transport.subscribe(["newHeads"], self._timeout)

    async def _begin(self) -> None:
        self._last = await self.client.block_number()

    def _deliver(self, header: Header) -> None:
        if self._seen.get(header.number) == header.hash:
            return
        for number in [n for n in self._seen if n >= header.number]:
            del self._seen[number]
        self._seen[header.number] = header.hash
        self._last = header.number
        for number in [n for n in self._seen if n <= header.number - self._depth]:
            del self._seen[number]
        self._ready.append(header)

    async def _gap(self) -> AsyncIterator[list[Header]]:
        """The heads after the last common ancestor of what was delivered and the chain
        (none on a server without ``eth_getBlockByNumber``, such as ``logfilter serve``
        without ``--proxy``: the next heads then come live)."""
        try:
            head = await self.client.block_number()
            ancestor = self._last
            while ancestor in self._seen:
                header = await self.client.header(ancestor)
                if header is not None and header.hash == self._seen[ancestor]:
                    break
                ancestor -= 1
            for number in range(ancestor + 1, head + 1):
                header = await self.client.header(number)
                if header is None:
                    return  # the chain got shorter meanwhile: the next heads will come live
                yield [header]
        except NodeError as err:
            if err.code != METHOD_NOT_FOUND:
                raise

    def _take(self, batch: list[Header]) -> None:
        for header in batch:
            self._deliver(header)

    async def _notification(self, subscription: str, result: object) -> None:
        self._deliver(decode_header(result, "newHeads notification"))
