"""A private event loop in a daemon thread that runs coroutines for blocking callers.

:class:`LoopThread` is the engine of the blocking :class:`~rpc.client.sync.Client`: it owns an
asyncio loop running in its own thread; :meth:`~LoopThread.run` submits a coroutine to it
(``asyncio.run_coroutine_threadsafe``) and waits for the result, so any number of plain
threads may share one loop; :meth:`~LoopThread.iterate` turns an async iterator into a
blocking one the same way; :meth:`~LoopThread.close` runs a last coroutine, cancels what is
still running, stops the loop and joins the thread. A caller waiting while the loop is closed
under it gets a :class:`~rpc.client.errors.ClientError` rather than waiting forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from rpc.client.errors import ClientError

__all__ = ["LoopThread"]

T = TypeVar("T")
_END: Any = object()
_POLL_SECONDS = 0.5
"""How often a waiting caller checks that the loop was not closed under it."""


async def _next(iterator: AsyncIterator[T]) -> T:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _END  # type: ignore[no-any-return]  # a sentinel, not a T


class LoopThread:
    """An event loop running in a daemon thread named ``name``, for blocking callers."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        """The private event loop (await things on it only through :meth:`run`)."""
        self._closed = False
        self._closing = False
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (or its exception)."""
        if self._closed or self._closing:
            coro.close()
            raise ClientError("the client is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise ClientError("the synchronous client cannot be called from its own loop")
        return self._wait(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def _wait(self, future: concurrent.futures.Future[T]) -> T:
        try:
            while True:
                try:
                    return future.result(timeout=_POLL_SECONDS)
                except TimeoutError:
                    if future.done():
                        raise  # the call itself raised TimeoutError
                    if self._closed:  # closed meanwhile: this call will never finish
                        raise ClientError("the client was closed while waiting") from None
        except concurrent.futures.CancelledError:
            if self._closing or self._closed:
                raise ClientError("the client was closed while waiting") from None
            raise
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt while waiting: stop the work too
            raise

    def iterate(
        self, iterator: AsyncIterator[T], close: Callable[[], Coroutine[Any, Any, None]]
    ) -> Iterator[T]:
        """``iterator``'s items, each fetched on the loop; ``close()`` runs when the blocking
        iterator is closed or exhausted (unless the loop is closed already)."""
        try:
            while True:
                item = self.run(_next(iterator))
                if item is _END:
                    return
                yield item
        finally:
            if not (self._closed or self._closing):
                self.run(close())

    def close(self, last: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``last()`` on the loop, cancel what still runs there, stop the thread."""
        if self._closed:
            return
        self._closing = True
        try:
            self._wait(asyncio.run_coroutine_threadsafe(self._shutdown(last), self.loop))
        finally:
            self._closed = True
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()

    async def _shutdown(self, last: Callable[[], Coroutine[Any, Any, None]]) -> None:
        await last()
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.loop.shutdown_asyncgens()
