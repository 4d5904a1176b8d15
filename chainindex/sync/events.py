"""Chain events: what each sync commit changed, pushed to subscribers in commit order.

One :class:`ChainEvent` per commit says which blocks left the canonical chain (a reorg) and
which joined it, with their logs; its ``head`` is the new synced head. The RPC layer turns it
into ``newHeads`` notifications, block-filter hashes and ``logs`` notifications (removed logs
first, with ``removed: true``); the text index deletes and adds documents from it.

Delivery policy (bounded buffering):

* :meth:`ChainEvents.publish` never blocks and never waits for a subscriber: sync is never
  slowed down by a consumer.
* Each :class:`EventSubscription` buffers at most ``max_events`` events and ``max_logs`` logs
  (counting removed and added; one event is always accepted into an empty buffer, whatever
  its size). A subscriber that lets its buffer overflow is dropped: its
  buffer is freed at once and its next read raises :class:`~chainindex.errors.EventsLaggedError`.
  It then catches up from the store (:class:`~chainindex.store.reader.ChainReader`), which is the
  source of truth, and subscribes again. Memory is thus bounded by the limits times the
  number of subscribers, whatever the chain or the consumers do.
* Events are published only after their commit is durable, so whatever an event names can
  be read from the store (until a later reorg removes it).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from chainindex.errors import EventsLaggedError
from chainindex.types import Block, ChainLog, Header

__all__ = ["ChainEvent", "ChainEvents", "EventSubscription"]


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """One commit: blocks removed by a reorg, then blocks added, and the new head."""

    removed: tuple[Block, ...]
    """Blocks that left the canonical chain, in chain order (lowest first); empty unless this
    commit is a reorg. Their ``logs`` are None in headers-only mode."""
    added: tuple[Block, ...]
    """Blocks that joined the canonical chain, in chain order. May be empty when a reorg only
    shortened the chain."""
    head: Header
    """The synced head after the commit."""

    @property
    def is_reorg(self) -> bool:
        """Whether blocks were removed."""
        return bool(self.removed)

    def removed_logs(self) -> Iterator[ChainLog]:
        """The removed blocks' logs in chain order, each with ``removed=True``."""
        for block in self.removed:
            for log in block.logs or ():
                yield dataclasses.replace(log, removed=True)

    def added_logs(self) -> Iterator[ChainLog]:
        """The added blocks' logs, in chain order."""
        for block in self.added:
            yield from block.logs or ()

    def log_count(self) -> int:
        """Number of logs the event carries (removed and added)."""
        return sum(len(b.logs or ()) for b in (*self.removed, *self.added))


class EventSubscription:
    """An async iterator of :class:`ChainEvent` with a bounded buffer (see the module).

    Use as ``async with events.subscribe() as sub: async for event in sub: ...``; leaving
    the block (or :meth:`close`) unsubscribes.
    """

    def __init__(self, hub: ChainEvents, max_events: int, max_logs: int) -> None:
        self._hub = hub
        self.max_events = max_events
        """Most events buffered before the subscriber is dropped."""
        self.max_logs = max_logs
        """Most logs buffered before the subscriber is dropped."""
        self._buffer: deque[ChainEvent] = deque()
        self._buffered_logs = 0
        self._wakeup = asyncio.Event()
        self._lagged = False
        self._closed = False

    @property
    def lagged(self) -> bool:
        """Whether the subscriber was dropped for falling behind."""
        return self._lagged

    def _offer(self, event: ChainEvent) -> None:
        if self._closed or self._lagged:
            return
        logs = event.log_count()
        if self._buffer and (
            len(self._buffer) >= self.max_events or self._buffered_logs + logs > self.max_logs
        ):
            self._lagged = True
            self._buffer.clear()
            self._buffered_logs = 0
            self._hub._drop(self)
        else:
            self._buffer.append(event)
            self._buffered_logs += logs
        self._wakeup.set()

    def get_nowait(self) -> ChainEvent | None:
        """The next buffered event, or None if there is none yet."""
        if self._buffer:
            event = self._buffer.popleft()
            self._buffered_logs -= event.log_count()
            return event
        if self._lagged:
            raise EventsLaggedError(
                f"chain-event subscriber fell behind (more than {self.max_events} events or "
                f"{self.max_logs} logs buffered) and was dropped: catch up from the store"
            )
        return None

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> ChainEvent:
        while True:
            event = self.get_nowait()
            if event is not None:
                return event
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    def close(self) -> None:
        """Unsubscribe; a pending read ends the iteration."""
        self._closed = True
        self._buffer.clear()
        self._hub._drop(self)
        self._wakeup.set()

    async def __aenter__(self) -> EventSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ChainEvents:
    """The publisher side: the indexer publishes, consumers subscribe."""

    DEFAULT_MAX_EVENTS = 1024
    DEFAULT_MAX_LOGS = 200_000

    def __init__(self) -> None:
        self._subscribers: list[EventSubscription] = []

    def subscribe(
        self, *, max_events: int = DEFAULT_MAX_EVENTS, max_logs: int = DEFAULT_MAX_LOGS
    ) -> EventSubscription:
        """A new subscription receiving every event published from now on. Must be called
        from the event loop's thread."""
        sub = EventSubscription(self, max_events, max_logs)
        self._subscribers.append(sub)
        return sub

    @property
    def subscriber_count(self) -> int:
        """Subscriptions currently receiving events."""
        return len(self._subscribers)

    def publish(self, event: ChainEvent) -> None:
        """Hand ``event`` to every subscriber; never blocks."""
        for sub in list(self._subscribers):
            sub._offer(event)

    def _drop(self, sub: EventSubscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
