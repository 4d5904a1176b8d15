"""The parameter object of ``logfilter_search`` to a typed :class:`SearchRequest`.

One object, every member but ``query`` optional::

    {"query": "name:vitalik*",            string, Lucene query syntax ("" matches every log)
     "fromBlock": "0x10" | "latest"...,   block number or tag, as eth_getLogs (absent: no bound)
     "toBlock": "0x20" | "safe"...,       block number or tag, as eth_getLogs (absent: no bound)
     "address": "0x…" | ["0x…", ...],     emitting contract(s), as eth_getLogs
     "topics": [["0x…"], null, "0x…"],    topic positions, as eth_getLogs
     "limit": 20,                         hits per page, an integer 1..1000 (default 20)
     "after": "eyJ…" | null,              the ``cursor`` of the previous page, unchanged
     "highlight": false,                  mark matched words of string arguments
     "sort": "relevance"}                 relevance | block_asc | block_desc

Blocks, addresses and topics go through the same decoders as ``eth_getLogs``
(:mod:`rpc.server.codec.params`: strict hex, sizes, tags, ``invalid topic(s)``, ``exceed max
topics``). Unlike ``eth_getLogs``, an absent ``fromBlock``/``toBlock`` does not mean
``latest``: a text search looks through the whole index unless bounded. Unknown members are
refused (a misspelt ``fromblock`` would otherwise silently widen the search). Every error
is a :class:`JsonRpcError` ``-32602`` saying which member was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from eth_typing import Address, Hash32

from chainindex.filters import BlockRef
from chainindex.logsearch.index import MAX_LIMIT, SORTS, SortName
from rpc.server.codec.params import (
    decode_addresses,
    decode_block_ref,
    decode_topics,
    invalid,
    kind_of,
)

__all__ = ["DEFAULT_LIMIT", "SearchRequest", "SortName", "decode_search"]

DEFAULT_LIMIT: Final = 20
"""Hits per page when ``limit`` is absent."""

_MEMBERS: Final = (
    "query", "fromBlock", "toBlock", "address", "topics", "limit", "after", "highlight", "sort"
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A decoded ``logfilter_search`` call."""

    query: str
    """The query string (Lucene syntax; parsed by the text index)."""
    from_block: BlockRef | None
    """First block, a number or a tag (None: no lower bound)."""
    to_block: BlockRef | None
    """Last block, a number or a tag (None: no upper bound)."""
    addresses: tuple[Address, ...]
    """Any of these emitting contracts (empty: any)."""
    topics: tuple[tuple[Hash32, ...], ...]
    """Per position, any of these topics (``()``: any topic, but the position must exist)."""
    limit: int
    """Hits per page."""
    after: str | None
    """The previous page's cursor."""
    highlight: bool
    """Whether hits carry highlighted fragments."""
    sort: SortName
    """The order of the hits."""


def decode_search(value: object) -> SearchRequest:
    """The parameter object of ``logfilter_search`` (see the module docstring)."""
    if not isinstance(value, dict):
        raise invalid(f"search: expected an object with a query, got {kind_of(value)}")
    unknown = sorted(set(value) - set(_MEMBERS))
    if unknown:
        raise invalid(f"unknown member {unknown[0]!r}; a search takes {', '.join(_MEMBERS)}"[:300])
    query = value.get("query")
    if not isinstance(query, str):
        raise invalid(f"query: expected a string, got {kind_of(query)}")
    raw_from, raw_to = value.get("fromBlock"), value.get("toBlock")
    limit: Any = value.get("limit", DEFAULT_LIMIT)
    if limit is None:
        limit = DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"limit: expected an integer from 1 to {MAX_LIMIT}, got {str(limit)[:40]}")
    after = value.get("after")
    if after is not None and not isinstance(after, str):
        raise invalid(f"after: expected the cursor of a previous result, got {kind_of(after)}")
    highlight = value.get("highlight", False)
    if highlight is None:
        highlight = False
    if not isinstance(highlight, bool):
        raise invalid(f"highlight: expected true or false, got {kind_of(highlight)}")
    sort = value.get("sort", "relevance")
    if sort is None:
        sort = "relevance"
    if sort not in SORTS:
        raise invalid(f"sort: expected one of {', '.join(SORTS)}, got {str(sort)[:40]!r}")
    return SearchRequest(
        query=query,
        from_block=None if raw_from is None else decode_block_ref(raw_from, "fromBlock"),
        to_block=None if raw_to is None else decode_block_ref(raw_to, "toBlock"),
        addresses=decode_addresses(value.get("address")),
        topics=decode_topics(value.get("topics")),
        limit=limit,
        after=after,
        highlight=highlight,
        sort=cast(SortName, sort),
    )
