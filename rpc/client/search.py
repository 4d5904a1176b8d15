"""Text search (``logfilter_search``) on the client side: parameters, typed results, paging.

:func:`search_params` checks the arguments of :meth:`AsyncClient.search
<rpc.client.client.AsyncClient.search>` before anything is sent (blocks, addresses and
topics exactly as for ``get_logs``) and builds the one parameter object. The answer decodes
strictly into :class:`SearchResult` (a page: hits, total, cursor) of :class:`SearchHit`\\ s,
each with its :class:`~rpc.client.types.Log` and, when the server could decode it, its
:class:`Event` whose argument values are typed from their ABI type: integers as ``int``,
addresses and bytes as ``bytes``, strings as ``str``, booleans as ``bool``, arrays and
tuples as tuples (an indexed argument of a dynamic type is only its topic: ``hashed`` is set
and the value is the 32-byte keccak256). :func:`search_hits` pages through every hit with
the cursor, one page in memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias, TypeVar

from chainindex.errors import HexError
from chainindex.hexutil import decode_data
from chainindex.logsearch.decode.abi import abi_type_of
from rpc.client.errors import InvalidArgumentError, ResponseError
from rpc.client.filters import AddressArg, BlockId, Filter, TopicsArg
from rpc.client.types import Log, decode_log

if TYPE_CHECKING:
    from rpc.client.client import AsyncClient

__all__ = [
    "MAX_SEARCH_LIMIT",
    "Event",
    "EventArg",
    "SearchHit",
    "SearchMethods",
    "SearchResult",
    "SearchSort",
    "SyncSearchMethods",
    "decode_search_result",
    "search_hits",
    "search_params",
]

SearchSort: TypeAlias = Literal["relevance", "block_asc", "block_desc"]
"""Best match first (ties in chain order), chain order, or newest first."""
MAX_SEARCH_LIMIT: Final = 1000
"""Most hits a logfilter server returns per page."""
_SORTS: Final = ("relevance", "block_asc", "block_desc")


@dataclass(frozen=True, slots=True)
class EventArg:
    """One argument of a decoded event."""

    name: str
    """Its name in the ABI (``arg0``... when the ABI has none)."""
    type: str
    """Its ABI type (``string``, ``uint256``, ``address``, ``bytes32[]``...)."""
    indexed: bool
    """Whether it is a topic."""
    value: Any
    """The value, typed (module docstring)."""
    hashed: bool = False
    """An indexed argument of a dynamic type: ``value`` is its keccak256 topic."""


@dataclass(frozen=True, slots=True)
class Event:
    """A log decoded with its event's ABI."""

    name: str
    """The event's name (``NameRegistered``)."""
    signature: str
    """Its canonical signature (``NameRegistered(string,bytes32,address,...)``)."""
    args: tuple[EventArg, ...]
    """Its arguments in ABI order."""

    def __getitem__(self, name: str) -> Any:
        """The value of the argument ``name`` (KeyError when there is none)."""
        for arg in self.args:
            if arg.name == name:
                return arg.value
        raise KeyError(name)

    @property
    def values(self) -> dict[str, Any]:
        """Argument name → value."""
        return {arg.name: arg.value for arg in self.args}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching log."""

    score: float
    """Relevance (0 when sorted by block)."""
    log: Log
    """The log, as ``eth_getLogs`` returns it."""
    event: Event | None
    """The log decoded (None: no known ABI matched)."""
    highlights: dict[str, list[str]] = field(default_factory=dict)
    """Per string argument, its best fragments with matched words in ``<em>`` (HTML-escaped)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of hits."""

    hits: list[SearchHit]
    """In the requested order."""
    total: int
    """Matching logs in all, whatever the page."""
    cursor: str | None
    """Pass as ``after`` for the next page; None when this page is the last."""


# --- parameters -------------------------------------------------------------------------------


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


# --- decoding ---------------------------------------------------------------------------------


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError(f"{what}: expected a JSON object, got {str(value)[:60]!r}")
    return value


def _typed(abi_type: Any, value: Any, what: str) -> Any:
    """A JSON argument value (``rpc.server.codec.search_result``'s shape) as its Python type."""
    if abi_type.arrlist:
        if not isinstance(value, list):
            raise ResponseError(f"{what}: expected an array")
        return tuple(_typed(abi_type.item_type, v, what) for v in value)
    components = getattr(abi_type, "components", None)
    if components is not None:
        if not isinstance(value, list) or len(value) != len(components):
            raise ResponseError(f"{what}: expected an array of {len(components)} components")
        return tuple(_typed(c, v, what) for c, v in zip(components, value, strict=True))
    base = abi_type.base
    if base in ("uint", "int", "fixed", "ufixed"):
        if not isinstance(value, str):
            raise ResponseError(f"{what}: expected a decimal string, got {value!r}")
        try:
            return int(value) if base in ("uint", "int") else value
        except ValueError:
            raise ResponseError(f"{what}: not a decimal integer: {value[:40]!r}") from None
    if base in ("address", "bytes", "function"):
        return _bytes(value, what)
    if base == "bool":
        if not isinstance(value, bool):
            raise ResponseError(f"{what}: expected true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ResponseError(f"{what}: expected a string, got {str(value)[:40]!r}")
    return value


def _bytes(value: object, what: str) -> bytes:
    try:
        return decode_data(value, what)
    except HexError as err:
        raise ResponseError(str(err)) from None


def _event(value: object, what: str) -> Event | None:
    if value is None:
        return None
    obj = _object(value, what)
    name, signature, raw_args = obj.get("name"), obj.get("signature"), obj.get("args")
    if (
        not isinstance(name, str)
        or not isinstance(signature, str)
        or not isinstance(raw_args, list)
    ):
        raise ResponseError(f"{what}: expected name, signature and args")
    args = []
    for i, raw in enumerate(raw_args):
        entry = _object(raw, f"{what}: arg {i}")
        arg_name, arg_type = entry.get("name"), entry.get("type")
        indexed, hashed = entry.get("indexed"), entry.get("hashed", False)
        if not isinstance(arg_name, str) or not isinstance(arg_type, str):
            raise ResponseError(f"{what}: arg {i}: expected a name and a type")
        if not isinstance(indexed, bool) or not isinstance(hashed, bool):
            raise ResponseError(f"{what}: arg {i}: indexed and hashed are booleans")
        where = f"{what}: {arg_name}"
        if hashed:
            typed = _bytes(entry.get("value"), where)
        else:
            try:
                abi_type = abi_type_of(arg_type)
            except Exception:
                raise ResponseError(f"{where}: unknown ABI type {arg_type[:40]!r}") from None
            typed = _typed(abi_type, entry.get("value"), where)
        args.append(EventArg(arg_name, arg_type, indexed, typed, hashed))
    return Event(name, signature, tuple(args))


def _highlights(value: object, what: str) -> dict[str, list[str]]:
    obj = _object(value if value is not None else {}, what)
    for key, fragments in obj.items():
        if not isinstance(fragments, list) or not all(isinstance(f, str) for f in fragments):
            raise ResponseError(f"{what}: {key}: expected a list of strings")
    return obj


def decode_search_result(value: object) -> SearchResult:
    """The ``logfilter_search`` answer, strictly (a :class:`ResponseError` names the fault)."""
    what = "logfilter_search"
    obj = _object(value, what)
    raw_hits, total, cursor = obj.get("hits"), obj.get("total"), obj.get("cursor")
    if not isinstance(raw_hits, list):
        raise ResponseError(f"{what}: hits: expected a list")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ResponseError(f"{what}: total: expected a count, got {total!r}")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseError(f"{what}: cursor: expected a string or null, got {cursor!r}")
    hits = []
    for i, raw in enumerate(raw_hits):
        where = f"{what}: hit {i}"
        hit = _object(raw, where)
        score = hit.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise ResponseError(f"{where}: score: expected a number, got {score!r}")
        hits.append(
            SearchHit(
                float(score),
                decode_log(hit.get("log"), f"{where}: log"),
                _event(hit.get("event"), f"{where}: event"),
                _highlights(hit.get("highlights"), f"{where}: highlights"),
            )
        )
    return SearchResult(hits, total, cursor)


# --- paging -----------------------------------------------------------------------------------


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


# --- the client's methods ---------------------------------------------------------------------


class _Requester(Protocol):
    async def request(self, method: str, *params: Any) -> Any: ...


async def _page(client: _Requester, params: dict[str, Any]) -> SearchResult:
    return decode_search_result(await client.request("logfilter_search", params))


class SearchMethods:
    """The text-search methods of :class:`~rpc.client.client.AsyncClient` (mixed in; they
    only need its ``request``)."""

    async def search(
        self: _Requester,
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
        params = search_params(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            limit=limit, after=after, highlight=highlight, sort=sort,
        )  # fmt: skip
        return await _page(self, params)

    def iter_search(
        self: _Requester,
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
        params = search_params(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            limit=page_size, after=None, highlight=highlight, sort=sort,
        )  # fmt: skip
        client = self
        return search_hits(lambda p: _page(client, p), params)


T = TypeVar("T")


class _SyncClient(Protocol):
    @property
    def aio(self) -> AsyncClient: ...

    def _run(self, coro: Coroutine[Any, Any, T]) -> T: ...

    def _iterate(
        self, iterator: AsyncIterator[T], close: Callable[[], Coroutine[Any, Any, None]]
    ) -> Iterator[T]: ...


class SyncSearchMethods:
    """The same methods, blocking, for :class:`~rpc.client.sync.Client` (mixed in)."""

    def search(
        self: _SyncClient,
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
        """One page of a text search (see :meth:`SearchMethods.search`)."""
        return self._run(
            self.aio.search(
                query, from_block=from_block, to_block=to_block, address=address,
                topics=topics, limit=limit, after=after, highlight=highlight, sort=sort,
            )
        )  # fmt: skip

    def iter_search(
        self: _SyncClient,
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
        """Every hit of a search, one page in memory (see :meth:`SearchMethods.iter_search`).
        Close the generator (or exhaust it) to release the page."""
        hits = self.aio.iter_search(
            query, from_block=from_block, to_block=to_block, address=address, topics=topics,
            page_size=page_size, highlight=highlight, sort=sort,
        )  # fmt: skip
        return self._iterate(hits, hits.aclose)
