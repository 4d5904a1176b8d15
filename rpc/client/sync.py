"""The synchronous facade: :class:`Client`, for scripts, notebooks and threaded programs.

A :class:`Client` holds an :class:`~rpc.client.client.AsyncClient` living on a private event
loop, which a :class:`~rpc.client.loopthread.LoopThread` runs in a background (daemon)
thread. Each method submits the async method's coroutine to that loop and waits for its
result, so any number of plain threads may share one client; the loop serialises nothing but
the I/O. Iterators (``iter_logs``, ``iter_search``, ``subscribe``) fetch their next item the
same way. :meth:`Client.close` (or ``with``) closes the async client, cancels what is still
running on the loop, stops the loop and joins the thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, overload

from eth_typing import BlockNumber, Hash32

from rpc.client.client import AsyncClient
from rpc.client.errors import InvalidArgumentError
from rpc.client.filters import AddressArg, BlockId, Criteria, TopicsArg
from rpc.client.installed import BlockFilter, LogFilter
from rpc.client.loopthread import LoopThread
from rpc.client.search import SearchSort
from rpc.client.searchresult import SearchHit, SearchResult
from rpc.client.subscription import HeadSubscription, LogSubscription, Subscription
from rpc.client.types import Header, Log, Status

__all__ = ["Client", "SyncBlockFilter", "SyncLogFilter", "SyncSubscription"]

T = TypeVar("T")


class Client:
    """A blocking client: the same methods as :class:`AsyncClient`, without ``await``.

    Takes the same arguments as :class:`AsyncClient`. Use ``with Client(url) as c:`` or call
    :meth:`close`.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._async = AsyncClient(url, **options)
        self._runner = LoopThread(f"logfilter-client {url}")

    @property
    def aio(self) -> AsyncClient:
        """The async client behind the facade (to be awaited only on :attr:`loop`)."""
        return self._async

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The private event loop."""
        return self._runner.loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

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
        self._runner.close(self._async.aclose)

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
        return self._runner.iterate(stream, stream.aclose)

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
        return SyncLogFilter(self._runner, installed)

    def new_block_filter(self) -> SyncBlockFilter:
        """``eth_newBlockFilter`` (``with`` uninstalls it)."""
        return SyncBlockFilter(self._runner, self._run(self._async.new_block_filter()))

    def get_filter_changes(self, filter_id: str) -> list[Log] | list[Hash32]:
        """``eth_getFilterChanges``."""
        return self._run(self._async.get_filter_changes(filter_id))

    def get_filter_logs(self, filter_id: str) -> list[Log]:
        """``eth_getFilterLogs``."""
        return self._run(self._async.get_filter_logs(filter_id))

    def uninstall_filter(self, filter_id: str) -> bool:
        """``eth_uninstallFilter``."""
        return self._run(self._async.uninstall_filter(filter_id))

    def search(
        self,
        query: str,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
        limit: int = 20,
        after: str | None = None,
        highlight: bool = False,
        sort: SearchSort = "relevance",
    ) -> SearchResult:
        """One page of a text search (see :meth:`AsyncClient.search`)."""
        return self._run(
            self._async.search(
                query, from_block=from_block, to_block=to_block, address=address,
                topics=topics, limit=limit, after=after, highlight=highlight, sort=sort,
            )
        )  # fmt: skip

    def iter_search(
        self,
        query: str,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
        page_size: int = 100,
        highlight: bool = False,
        sort: SearchSort = "relevance",
    ) -> Iterator[SearchHit]:
        """Every hit of a search, one page in memory (see :meth:`AsyncClient.iter_search`).
        Close the generator (or exhaust it) to release the page."""
        hits = self._async.iter_search(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            page_size=page_size, highlight=highlight, sort=sort,
        )  # fmt: skip
        return self._runner.iterate(hits, hits.aclose)

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
            return SyncSubscription(self._runner, heads)
        logs: LogSubscription = self._async.subscribe(
            kind, criteria, reorg_depth=reorg_depth, detect_reorgs=detect_reorgs
        )
        return SyncSubscription(self._runner, logs)


class SyncSubscription(Generic[T]):
    """A blocking subscription: iterate it; ``with`` (or :meth:`close`) unsubscribes."""

    def __init__(self, runner: LoopThread, subscription: Subscription[T]) -> None:
        self.subscription = subscription
        """The async subscription behind it."""
        self._runner = runner
        self._items = runner.iterate(subscription, subscription.aclose)

    def start(self) -> None:
        """Subscribe now (otherwise at the first ``next``)."""
        self._runner.run(self.subscription.start())

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

    def __init__(self, runner: LoopThread, installed: LogFilter) -> None:
        self.installed = installed
        """The async handle."""
        self.id = installed.id
        """The server's filter id."""
        self._runner = runner

    def changes(self) -> list[Log]:
        """Logs since the last poll."""
        return self._runner.run(self.installed.changes())

    def logs(self) -> list[Log]:
        """Every log matching the filter."""
        return self._runner.run(self.installed.logs())

    def uninstall(self) -> bool:
        """``eth_uninstallFilter``."""
        return self._runner.run(self.installed.uninstall())

    def __enter__(self) -> SyncLogFilter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runner.run(self.installed.__aexit__(exc_type, exc, tb))


class SyncBlockFilter:
    """A blocking handle on an installed block filter."""

    def __init__(self, runner: LoopThread, installed: BlockFilter) -> None:
        self.installed = installed
        """The async handle."""
        self.id = installed.id
        """The server's filter id."""
        self._runner = runner

    def changes(self) -> list[Hash32]:
        """Hashes of blocks since the last poll."""
        return self._runner.run(self.installed.changes())

    def uninstall(self) -> bool:
        """``eth_uninstallFilter``."""
        return self._runner.run(self.installed.uninstall())

    def __enter__(self) -> SyncBlockFilter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._runner.run(self.installed.__aexit__(exc_type, exc, tb))
