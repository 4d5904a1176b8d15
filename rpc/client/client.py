"""The asynchronous client: :class:`AsyncClient`.

The client gives JSON-RPC calls their meaning (typed results, range splitting, filters,
subscriptions, text search); its :class:`~rpc.client.connection.Connection` sends them (one
aiohttp session, HTTP or WebSocket, opened on first use and closed by
:meth:`AsyncClient.aclose` or ``async with``; read-only calls retried when no answer came).
Text search is a component the client holds, :class:`~rpc.client.search.TextSearch`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from types import TracebackType
from typing import Any, Literal, overload

from eth_typing import BlockNumber, Hash32

from rpc.client.connection import Connection
from rpc.client.errors import (
    METHOD_NOT_FOUND,
    ClientError,
    InvalidArgumentError,
    NodeError,
    ResponseError,
)
from rpc.client.filters import (
    AddressArg,
    BlockId,
    Criteria,
    Filter,
    TopicsArg,
    block_id,
    criteria_of,
    encode_block_id,
)
from rpc.client.hexcodec import HexFormatError, decode_quantity
from rpc.client.installed import BlockFilter, LogFilter
from rpc.client.logs import LogStream, Page, log_pages
from rpc.client.retry import Backoff
from rpc.client.search import SearchSort, TextSearch
from rpc.client.searchresult import SearchHit, SearchResult
from rpc.client.subscription import HeadSubscription, LogSubscription
from rpc.client.types import (
    Header,
    Log,
    Status,
    decode_hashes,
    decode_header,
    decode_logs,
    decode_status,
)

__all__ = ["AsyncClient"]


class AsyncClient:
    """A logfilter (or any Ethereum node) JSON-RPC client. Use ``async with``.

    ``url`` is ``http(s)://`` or ``ws(s)://``; subscriptions need a WebSocket: the URL
    itself, or ``ws_url`` beside an HTTP one.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: Backoff | None = None,
        ws_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        reconnect_attempts: int | None = 10,
        queue_limit: int = 10_000,
        max_message_bytes: int = 256 * 2**20,
    ) -> None:
        self.connection = Connection(
            url, timeout=timeout, retries=retries, backoff=backoff or Backoff(), ws_url=ws_url,
            headers=headers, queue_limit=queue_limit, max_message_bytes=max_message_bytes,
        )  # fmt: skip
        """The transports calls go through (and the retry rule)."""
        self.reconnect_attempts = reconnect_attempts
        """Failed reconnections in a row after which a subscription gives up (None: never)."""
        self._text = TextSearch(self.connection)

    @property
    def url(self) -> str:
        """Where calls go."""
        return self.connection.url

    @property
    def timeout(self) -> float:
        """Seconds to wait for one answer."""
        return self.connection.timeout

    @property
    def retries(self) -> int:
        """Extra tries of a read-only call that got no answer."""
        return self.connection.retries

    @property
    def backoff(self) -> Backoff:
        """Waits between tries and between reconnections."""
        return self.connection.backoff

    # --- lifetime -------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and connections; calls afterwards fail."""
        await self.connection.aclose()

    # --- raw calls ------------------------------------------------------------------------

    async def request(self, method: str, *params: Any) -> Any:
        """Call any method with JSON-ready ``params``; its raw ``result``. Read-only methods
        are retried when no answer came."""
        return await self.connection.request(method, *params)

    async def _quantity(self, method: str, *params: Any) -> int:
        result = await self.request(method, *params)
        try:
            return decode_quantity(result, method)
        except HexFormatError as err:
            raise ResponseError(str(err)) from None

    # --- chain ----------------------------------------------------------------------------

    async def block_number(self) -> BlockNumber:
        """``eth_blockNumber``: the head's number."""
        return BlockNumber(await self._quantity("eth_blockNumber"))

    async def chain_id(self) -> int:
        """``eth_chainId``."""
        return await self._quantity("eth_chainId")

    async def header(self, block: BlockId | str) -> Header | None:
        """``eth_getBlockByNumber(block, false)`` as a header; None when there is no such
        block."""
        result = await self.request(
            "eth_getBlockByNumber", encode_block_id(block_id(block, "block")), False
        )
        return None if result is None else decode_header(result, "eth_getBlockByNumber")

    async def status(self) -> Status:
        """``logfilter_status``: indexing progress of a logfilter server."""
        return decode_status(await self.request("logfilter_status"))

    async def _resolve(self, block: BlockId) -> int:
        if isinstance(block, int):
            return block
        if block == "latest":
            return await self.block_number()
        try:
            header = await self.header(block)
        except NodeError as err:
            if err.code != METHOD_NOT_FOUND:
                raise
            if block == "earliest":
                return 0
            raise ClientError(
                f"cannot split a range given by the tag {block!r}: the server has no "
                "eth_getBlockByNumber to resolve it; give a block number"
            ) from err
        if header is None:
            raise ClientError(f"the server has no {block!r} block")
        return header.number

    # --- logs -----------------------------------------------------------------------------

    async def _fetch_logs(self, criteria: Filter) -> list[Log]:
        return decode_logs(await self.request("eth_getLogs", criteria.to_params()), "eth_getLogs")

    def log_pages(
        self,
        criteria: Filter,
        *,
        page_blocks: int | None = None,
        page_logs: int | None = None,
    ) -> AsyncGenerator[Page, None]:
        """The matching logs page by page (see :func:`rpc.client.logs.log_pages`)."""
        return log_pages(
            criteria,
            self._fetch_logs,
            self._resolve,
            page_blocks=page_blocks,
            page_logs=page_logs,
        )

    async def get_logs(
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
        """``eth_getLogs`` over a range of any size, in block then log-index order.

        Asks for the range whole; when the server refuses it for its size (a limit error, or
        its request timeout), splits it — at the server's suggested end when it gives one,
        in halves otherwise — and goes on from where the last part ended. A single block
        over the limit raises :class:`~rpc.client.errors.BlockLimitError`.
        """
        f = criteria_of(criteria, from_block, to_block, address, topics, block_hash)
        logs: list[Log] = []
        pages = self.log_pages(f)
        try:
            async for page in pages:
                logs += page.logs
        finally:
            await pages.aclose()
        return logs

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
    ) -> LogStream:
        """The logs of a range one by one, holding one page at a time.

        Pages start at ``page_blocks`` blocks and adapt so each holds about ``page_logs``
        logs, and shrink on the server's limit errors like :meth:`get_logs`. The next page
        is asked for when the current one is consumed.
        """
        if page_blocks < 1 or page_logs < 1:
            raise InvalidArgumentError("page_blocks and page_logs must be positive")
        f = criteria_of(criteria, from_block, to_block, address, topics, block_hash)
        return LogStream(self.log_pages(f, page_blocks=page_blocks, page_logs=page_logs))

    # --- installed filters ----------------------------------------------------------------

    async def new_filter(
        self,
        criteria: Criteria | None = None,
        /,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
    ) -> LogFilter:
        """``eth_newFilter``: an installed log filter (``async with`` uninstalls it)."""
        f = criteria_of(criteria, from_block, to_block, address, topics, None)
        if not f.is_range:
            raise InvalidArgumentError("eth_newFilter takes a block range, not a block hash")
        filter_id = await self.request("eth_newFilter", f.to_params())
        return LogFilter(self, _filter_id(filter_id, "eth_newFilter"), f)

    async def new_block_filter(self) -> BlockFilter:
        """``eth_newBlockFilter``: an installed filter of new block hashes."""
        filter_id = await self.request("eth_newBlockFilter")
        return BlockFilter(self, _filter_id(filter_id, "eth_newBlockFilter"))

    async def get_filter_changes(self, filter_id: str) -> list[Log] | list[Hash32]:
        """``eth_getFilterChanges``: logs (log filters) or block hashes (block filters)
        since the last poll."""
        result = await self.request("eth_getFilterChanges", filter_id)
        if isinstance(result, list) and result and isinstance(result[0], str):
            return decode_hashes(result, "eth_getFilterChanges")
        return decode_logs(result, "eth_getFilterChanges")

    async def get_filter_logs(self, filter_id: str) -> list[Log]:
        """``eth_getFilterLogs``: every log matching an installed log filter."""
        result = await self.request("eth_getFilterLogs", filter_id)
        logs = decode_logs(result, "eth_getFilterLogs")
        logs.sort(key=lambda log: (log.block_number, log.log_index))
        return logs

    async def uninstall_filter(self, filter_id: str) -> bool:
        """``eth_uninstallFilter``: True when the filter existed."""
        result = await self.request("eth_uninstallFilter", filter_id)
        if not isinstance(result, bool):
            raise ResponseError(f"eth_uninstallFilter: expected true or false, got {result!r}")
        return result

    # --- text search (a logfilter server's logfilter_search) ------------------------------

    async def search(
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
        """``logfilter_search``: one page of a text search over decoded logs (Lucene query
        syntax, e.g. ``'event:NameRegistered AND name:vitalik*'``). Blocks, ``address`` and
        ``topics`` as for ``get_logs`` (an absent bound leaves that side open); ``after`` is
        the ``cursor`` of the previous page."""
        return await self._text.search(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            limit=limit, after=after, highlight=highlight, sort=sort,
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
    ) -> AsyncGenerator[SearchHit, None]:
        """Every hit of a search in order, fetched ``page_size`` at a time through the
        cursor (the next page once the current one is consumed)."""
        return self._text.iter_search(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            page_size=page_size, highlight=highlight, sort=sort,
        )  # fmt: skip

    # --- subscriptions --------------------------------------------------------------------

    @overload
    def subscribe(
        self,
        kind: Literal["logs"],
        criteria: Criteria | None = None,
        /,
        *,
        reorg_depth: int = 64,
        detect_reorgs: bool = True,
    ) -> LogSubscription: ...

    @overload
    def subscribe(
        self, kind: Literal["newHeads"], /, *, reorg_depth: int = 64
    ) -> HeadSubscription: ...

    def subscribe(
        self,
        kind: Literal["logs", "newHeads"],
        criteria: Criteria | None = None,
        /,
        *,
        reorg_depth: int = 64,
        detect_reorgs: bool = True,
    ) -> LogSubscription | HeadSubscription:
        """An ``eth_subscribe`` that reconnects, fills gaps and surfaces reorgs (see
        :mod:`rpc.client.subscription`). Subscribes on ``async with`` (or the first
        ``anext``); ``criteria`` holds addresses and topics only."""
        ws = self.connection.ws
        if ws is None:
            raise InvalidArgumentError(
                f"subscriptions need a WebSocket: {self.url} is HTTP (give ws_url=...)"
            )
        if reorg_depth < 1:
            raise InvalidArgumentError("reorg_depth must be at least 1")
        options: dict[str, Any] = {
            "backoff": self.backoff,
            "reconnect_attempts": self.reconnect_attempts,
            "timeout": self.timeout,
            "reorg_depth": reorg_depth,
        }
        if kind == "logs":
            f = criteria_of(criteria, None, None, None, None, None)
            return LogSubscription(self, ws, f, detect_reorgs=detect_reorgs, **options)
        if kind == "newHeads":
            if criteria is not None:
                raise InvalidArgumentError("a newHeads subscription takes no criteria")
            return HeadSubscription(self, ws, **options)
        raise InvalidArgumentError(f"unknown subscription kind {kind!r} (logs or newHeads)")


def _filter_id(value: object, method: str) -> str:
    if not isinstance(value, str) or not value:
        raise ResponseError(f"{method}: expected a filter id, got {value!r}")
    return value
