"""Text search (``logfilter_search``) on the client side: parameters, paging, and the
component the clients delegate their ``search``/``iter_search`` to.

:func:`search_params` checks the arguments of :meth:`AsyncClient.search
<rpc.client.client.AsyncClient.search>` before anything is sent (blocks, addresses and
topics exactly as for ``get_logs``) and builds the one parameter object; :func:`search_hits`
pages through every hit with the cursor, one page in memory at a time. :class:`TextSearch`
holds the client's connection and answers both methods; the answers decode into the typed
results of :mod:`rpc.client.searchresult`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Final, Literal, Protocol, TypeAlias

from rpc.client.errors import InvalidArgumentError
from rpc.client.filters import AddressArg, BlockId, Filter, TopicsArg
from rpc.client.searchresult import SearchHit, SearchResult, decode_search_result

__all__ = [
    "MAX_SEARCH_LIMIT",
    "Requester",
    "SearchSort",
    "TextSearch",
    "search_hits",
    "search_params",
]

SearchSort: TypeAlias = Literal["relevance", "block_asc", "block_desc"]
"""Best match first (ties in chain order), chain order, or newest first."""
MAX_SEARCH_LIMIT: Final = 1000
"""Most hits a logfilter server returns per page."""
_SORTS: Final = ("relevance", "block_asc", "block_desc")


def search_params(
    query: str,
    *,
    from_block: BlockId | str | None,
    to_block: BlockId | str | None,
    address: AddressArg,
    topics: TopicsArg,
    limit: int,
    after: str | None,
    highlight: bool,
    sort: SearchSort,
) -> dict[str, Any]:
    """The ``logfilter_search`` parameter object; :class:`InvalidArgumentError` for a bad
    argument (saying which)."""
    if not isinstance(query, str):
        raise InvalidArgumentError(f"query: expected a string, got {query!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidArgumentError(f"limit: expected 1 to {MAX_SEARCH_LIMIT}, got {limit!r}")
    if after is not None and not isinstance(after, str):
        raise InvalidArgumentError("after: expected the cursor of a previous result")
    if sort not in _SORTS:
        raise InvalidArgumentError(f"sort: expected one of {', '.join(_SORTS)}, got {sort!r}")
    criteria = Filter.of(from_block=from_block, to_block=to_block, address=address, topics=topics)
    params: dict[str, Any] = {"query": query, **criteria.to_params(), "limit": limit}
    if after is not None:
        params["after"] = after
    if highlight:
        params["highlight"] = True
    if sort != "relevance":
        params["sort"] = sort
    return params


async def search_hits(
    fetch: Callable[[dict[str, Any]], Awaitable[SearchResult]], params: dict[str, Any]
) -> AsyncGenerator[SearchHit, None]:
    """Every hit of a search, page after page (``params["limit"]`` hits each) through the
    cursor; the next page is asked for once the current one is consumed."""
    page = dict(params)
    while True:
        result = await fetch(page)
        for hit in result.hits:
            yield hit
        if result.cursor is None or not result.hits:
            return
        page = {**page, "after": result.cursor}


class Requester(Protocol):
    """What sends a JSON-RPC call and returns its ``result`` (the client's connection)."""

    async def request(self, method: str, *params: Any) -> Any:
        """The ``result`` of ``method(*params)``."""
        ...


class TextSearch:
    """``logfilter_search`` over one connection: what :meth:`AsyncClient.search
    <rpc.client.client.AsyncClient.search>` and ``iter_search`` delegate to."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def page(self, params: dict[str, Any]) -> SearchResult:
        """One page of hits for a parameter object of :func:`search_params`."""
        return decode_search_result(await self._requester.request("logfilter_search", params))

    async def search(
        self,
        query: str,
        *,
        from_block: BlockId | str | None,
        to_block: BlockId | str | None,
        address: AddressArg,
        topics: TopicsArg,
        limit: int,
        after: str | None,
        highlight: bool,
        sort: SearchSort,
    ) -> SearchResult:
        """One page of a text search (the arguments are checked before anything is sent)."""
        params = search_params(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            limit=limit, after=after, highlight=highlight, sort=sort,
        )  # fmt: skip
        return await self.page(params)

    def iter_search(
        self,
        query: str,
        *,
        from_block: BlockId | str | None,
        to_block: BlockId | str | None,
        address: AddressArg,
        topics: TopicsArg,
        page_size: int,
        highlight: bool,
        sort: SearchSort,
    ) -> AsyncGenerator[SearchHit, None]:
        """Every hit of a search in order, ``page_size`` at a time through the cursor (the
        arguments are checked now, the first page is asked for at the first ``anext``)."""
        params = search_params(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            limit=page_size, after=None, highlight=highlight, sort=sort,
        )  # fmt: skip
        return search_hits(self.page, params)
