"""The synchronous facade: :class:`Client`, for scripts, notebooks and threaded programs.

A :class:`Client` owns a private event loop running in a background (daemon) thread and an
:class:`~rpc.client.client.AsyncClient` living on it. Each method submits the async
method's coroutine to that loop and waits for its result, so any number of plain threads
may share one client; the loop serialises nothing but the I/O. Iterators (``iter_logs``,
``subscribe``) fetch their next item the same way. :meth:`Client.close` (or ``with``)
closes the async client, cancels what is still running on the loop, stops the loop and
joins the thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, overload

from eth_typing import BlockNumber, Hash32

from rpc.client.client import AsyncClient
from rpc.client.errors import ClientError, InvalidArgumentError
from rpc.client.filters import AddressArg, BlockId, Criteria, TopicsArg
from rpc.client.installed import BlockFilter, LogFilter
from rpc.client.search import SyncSearchMethods
from rpc.client.subscription import HeadSubscription, LogSubscription, Subscription
from rpc.client.types import Header, Log, Status

__all__ = ["Client", "SyncBlockFilter", "SyncLogFilter", "SyncSubscription"]

T = TypeVar("T")
_END: Any = object()
_POLL_SECONDS = 0.5
"""How often a waiting caller checks that the client was not closed under it."""


async def _next(iterator: AsyncIterator[T]) -> T:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _END  # type: ignore[no-any-return]  # a sentinel, not a T


class Client(SyncSearchMethods):
    """A blocking client: the same methods as :class:`AsyncClient`, without ``await``.

    Takes the same arguments as :class:`AsyncClient`. Use ``with Client(url) as c:`` or call
    :meth:`close`.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._async = AsyncClient(url, **options)
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._closing = False
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"logfilter-client {url}", daemon=True
        )
        self._thread.start()

    @property
    def aio(self) -> AsyncClient:
        """The async client behind the facade (to be awaited only on :attr:`loop`)."""
        return self._async

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The private event loop."""
        return self._loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed or self._closing:
            coro.close()
            raise ClientError("the client is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise ClientError("the synchronous client cannot be called from its own loop")
        return self._wait(asyncio.run_coroutine_threadsafe(coro, self._loop))

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

    def _iterate(
        self, iterator: AsyncIterator[T], close: Callable[[], Coroutine[Any, Any, None]]
    ) -> Iterator[T]:
        try:
            while True:
                item = self._run(_next(iterator))
                if item is _END:
                    return
                yield item
        finally:
            if not (self._closed or self._closing):
                self._run(close())

    # --- lifetime -------------------------------------------------------------------------

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the async client, cancel what still runs on the loop, stop the thread."""
        if self._closed:
            return
        self._closing = True
        try:
            self._wait(asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop))
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    async def _shutdown(self) -> None:
        await self._async.aclose()
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._loop.shutdown_asyncgens()

    # --- methods --------------------------------------------------------------------------

    def request(self, method: str, *params: Any) -> Any:
        """Any method's raw ``result`` (see :meth:`AsyncClient.request`)."""
        return self._run(self._async.request(method, *params))

    def block_number(self) -> BlockNumber:
        """``eth_blockNumber``."""
        return self._run(self._async.block_number())

    def chain_id(self) -> int:
        """``eth_chainId``."""
        return self._run(self._async.chain_id())

    def header(self, block: BlockId | str) -> Header | None:
        """A block's header (None when there is no such block)."""
        return self._run(self._async.header(block))

    def status(self) -> Status:
        """``logfilter_status``."""
        return self._run(self._async.status())

    def get_logs(
        self,
        criteria: Criteria | None = None,
        /,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
        block_hash: bytes | str | None = None,
    ) -> list[Log]:
        """``eth_getLogs`` over a range of any size (see :meth:`AsyncClient.get_logs`)."""
        return self._run(
            self._async.get_logs(
                criteria,
                from_block=from_block,
                to_block=to_block,
                address=address,
                topics=topics,
                block_hash=block_hash,
            )
        )

    def iter_logs(
        self,
        criteria: Criteria | None = None,
        /,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
        block_hash: bytes | str | None = None,
        page_blocks: int = 2000,
        page_logs: int = 10_000,
    ) -> Iterator[Log]:
        """The logs one by one, one page in memory (see :meth:`AsyncClient.iter_logs`).
        Close the generator (or exhaust it) to release the page."""
        stream = self._async.iter_logs(
            criteria,
            from_block=from_block,
            to_block=to_block,
            address=address,
            topics=topics,
            block_hash=block_hash,
            page_blocks=page_blocks,
            page_logs=page_logs,
        )
        return self._iterate(stream, stream.aclose)

    def new_filter(
        self,
        criteria: Criteria | None = None,
        /,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
    ) -> SyncLogFilter:
        """``eth_newFilter`` (``with`` uninstalls it)."""
        installed = self._run(
            self._async.new_filter(
                criteria, from_block=from_block, to_block=to_block, address=address, topics=topics
            )
        )
        return SyncLogFilter(self, installed)

    def new_block_filter(self) -> SyncBlockFilter:
        """``eth_newBlockFilter`` (``with`` uninstalls it)."""
        return SyncBlockFilter(self, self._run(self._async.new_block_filter()))

    def get_filter_changes(self, filter_id: str) -> list[Log] | list[Hash32]:
        """``eth_getFilterChanges``."""
        return self._run(self._async.get_filter_changes(filter_id))

    def get_filter_logs(self, filter_id: str) -> list[Log]:
        """``eth_getFilterLogs``."""
        return self._run(self._async.get_filter_logs(filter_id))

    def uninstall_filter(self, filter_id: str) -> bool:
        """``eth_uninstallFilter``."""
        return self._run(self._async.uninstall_filter(filter_id))

    @overload
    def subscribe(
        self,
        kind: Literal["logs"],
        criteria: Criteria | None = None,
        /,
        *,
        reorg_depth: int = 64,
        detect_reorgs: bool = True,
    ) -> SyncSubscription[Log]: ...

    @overload
    def subscribe(
        self, kind: Literal["newHeads"], /, *, reorg_depth: int = 64
    ) -> SyncSubscription[Header]: ...

    def subscribe(
        self,
        kind: Literal["logs", "newHeads"],
        criteria: Criteria | None = None,
        /,
        *,
        reorg_depth: int = 64,
        detect_reorgs: bool = True,
    ) -> SyncSubscription[Log] | SyncSubscription[Header]:
        """A blocking iterator over an ``eth_subscribe`` (see :meth:`AsyncClient.subscribe`);
        subscribes on ``with`` or the first ``next``."""
        if kind == "newHeads":
            if criteria is not None:
                raise InvalidArgumentError("a newHeads subscription takes no criteria")
            heads: HeadSubscription = self._async.subscribe("newHeads", reorg_depth=reorg_depth)
            return SyncSubscription(self, heads)
        logs: LogSubscription = self._async.subscribe(
            kind, criteria, reorg_depth=reorg_depth, detect_reorgs=detect_reorgs
        )
        return SyncSubscription(self, logs)


class SyncSubscription(Generic[T]):
    """A blocking subscription: iterate it; ``with`` (or :meth:`close`) unsubscribes."""

    def __init__(self, client: Client, subscription: Subscription[T]) -> None:
        self.subscription = subscription
        """The async subscription behind it."""
        self._client = client
        self._items = client._iterate(subscription, subscription.aclose)

    def start(self) -> None:
        """Subscribe now (otherwise at the first ``next``)."""
        self._client._run(self.subscription.start())

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def close(self) -> None:
        """Unsubscribe."""
        self._items.close()  # type: ignore[attr-defined]  # a generator

    def __enter__(self) -> SyncSubscription[T]:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncLogFilter:
    """A blocking handle on an installed log filter."""

    def __init__(self, client: Client, installed: LogFilter) -> None:
        self.installed = installed
        """The async handle."""
        self.id = installed.id
        """The server's filter id."""
        self._client = client

    def changes(self) -> list[Log]:
        """Logs since the last poll."""
        return self._client._run(self.installed.changes())

    def logs(self) -> list[Log]:
        """Every log matching the filter."""
        return self._client._run(self.installed.logs())

    def uninstall(self) -> bool:
        """``eth_uninstallFilter``."""
        return self._client._run(self.installed.uninstall())

    def __enter__(self) -> SyncLogFilter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client._run(self.installed.__aexit__(exc_type, exc, tb))


class SyncBlockFilter:
    """A blocking handle on an installed block filter."""

    def __init__(self, client: Client, installed: BlockFilter) -> None:
        self.installed = installed
        """The async handle."""
        self.id = installed.id
        """The server's filter id."""
        self._client = client

    def changes(self) -> list[Hash32]:
        """Hashes of blocks since the last poll."""
        return self._client._run(self.installed.changes())

    def uninstall(self) -> bool:
        """``eth_uninstallFilter``."""
        return self._client._run(self.installed.uninstall())

    def __enter__(self) -> SyncBlockFilter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client._run(self.installed.__aexit__(exc_type, exc, tb))
