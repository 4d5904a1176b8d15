"""``Channel``: the bounded, closable FIFO that links two tasks of the matcher pipeline.

The asyncio stand-in for the buffered Go channels of go-ethereum's matcher: ``put`` waits
while the channel is full, ``get`` while it is empty. The producer ``close``\\ s it when done;
the consumer then drains what is buffered and sees
:class:`~bloombits.errors.EndOfStreamError`. Closing with an
error makes every later ``get`` raise that error at once (buffered items are dropped: a
failed pipeline never yields a silent short result). ``put`` on a closed channel raises
:class:`~bloombits.errors.EndOfStreamError`, so a producer whose consumer went away stops.

Not thread-safe: both ends run on one event loop. Items are whole batches, so the few
microseconds a put or get costs are paid per batch, never per section or per block.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from bloombits.errors import BloombitsArgumentError, EndOfStreamError

__all__ = ["Channel"]

T = TypeVar("T")
"""The type of the items a channel carries."""


class Channel(Generic[T]):
    """A bounded FIFO between one producer task and one consumer task."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise BloombitsArgumentError(f"channel capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        """Items buffered before ``put`` waits."""
        self._items: deque[T] = deque()
        """Buffered items, oldest first."""
        self._closed = False
        """Whether the producer has closed the channel."""
        self._error: BaseException | None = None
        """The error the channel was closed with, raised by every ``get``."""
        self._getter: asyncio.Future[None] | None = None
        """The consumer waiting for an item, if any."""
        self._putter: asyncio.Future[None] | None = None
        """The producer waiting for room, if any."""

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    async def put(self, item: T) -> None:
        """Append ``item``, waiting while the channel is full."""
        while len(self._items) >= self.capacity and not self._closed:
            self._putter = asyncio.get_running_loop().create_future()
            try:
                await self._putter
            finally:
                self._putter = None
        if self._closed:
            raise EndOfStreamError()
        self._items.append(item)
        _wake(self._getter)

    async def get(self) -> T:
        """The oldest item, waiting while the channel is empty and open."""
        while True:
            if self._error is not None:
                raise self._error
            if self._items:
                item = self._items.popleft()
                _wake(self._putter)
                return item
            if self._closed:
                raise EndOfStreamError()
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None

    def close(self, error: BaseException | None = None) -> None:
        """No more items will come; with ``error``, the stream failed with it."""
        if self._closed:
            return
        self._closed = True
        if error is not None:
            self._error = error
            self._items.clear()
        _wake(self._getter)
        _wake(self._putter)

    def __aiter__(self) -> Channel[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.get()
        except EndOfStreamError:
            raise StopAsyncIteration from None


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
