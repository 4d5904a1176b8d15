"""logfilter's Python client library: ``eth_getLogs`` without the range limits, installed
filters, and subscriptions that survive dropped connections — as typed objects of bytes and
ints. Works against a logfilter server and against any Ethereum node.

::

    from rpc.client import AsyncClient

    async with AsyncClient("ws://127.0.0.1:8645") as client:
        logs = await client.get_logs(from_block=0, to_block="latest", address=token)
        async for log in client.iter_logs(from_block=0, topics=[TRANSFER]):
            ...
        async with client.subscribe("logs", {"address": token}) as sub:
            async for log in sub:  # every log once, removed=True after reorgs
                ...
        page = await client.search("event:NameRegistered AND name:vitalik*", limit=20)
        async for hit in client.iter_search("wrapped~1", from_block=0):  # logfilter_search
            print(hit.log.block_number, hit.event and hit.event["name"], hit.highlights)

    from rpc.client import Client  # the same, blocking, usable from any thread

    with Client("http://127.0.0.1:8645") as client:
        print(client.status().lag, len(client.get_logs(from_block=0)))

Modules: :mod:`~rpc.client.client` (:class:`AsyncClient`), :mod:`~rpc.client.sync`
(:class:`Client`), :mod:`~rpc.client.filters` (criteria), :mod:`~rpc.client.types` (results),
:mod:`~rpc.client.logs` and :mod:`~rpc.client.paging` (range splitting),
:mod:`~rpc.client.installed` (filters), :mod:`~rpc.client.search` (text search),
:mod:`~rpc.client.subscription` and
:mod:`~rpc.client.window` (subscriptions), :mod:`~rpc.client.transport` (HTTP/WebSocket),
:mod:`~rpc.client.errors`, :mod:`~rpc.client.web3compat` (web3.py shapes; imported on use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rpc.client.client import AsyncClient
from rpc.client.errors import (
    BlockLimitError,
    ClientError,
    InvalidArgumentError,
    LimitError,
    RequestTimeoutError,
    ResponseError,
    RpcError,
    TransportError,
)
from rpc.client.filters import BlockId, BlockTag, Criteria, Filter
from rpc.client.installed import BlockFilter, LogFilter
from rpc.client.logs import LogStream
from rpc.client.retry import Backoff
from rpc.client.search import Event, EventArg, SearchHit, SearchResult, SearchSort
from rpc.client.subscription import HeadSubscription, LogSubscription
from rpc.client.sync import Client, SyncBlockFilter, SyncLogFilter, SyncSubscription
from rpc.client.types import BlockRef, Header, Log, Status

if TYPE_CHECKING:
    from rpc.client.web3compat import from_web3_log, to_web3_log

__all__ = [
    "AsyncClient",
    "Backoff",
    "BlockFilter",
    "BlockId",
    "BlockLimitError",
    "BlockRef",
    "BlockTag",
    "Client",
    "ClientError",
    "Criteria",
    "Event",
    "EventArg",
    "Filter",
    "HeadSubscription",
    "Header",
    "InvalidArgumentError",
    "LimitError",
    "Log",
    "LogFilter",
    "LogStream",
    "LogSubscription",
    "RequestTimeoutError",
    "ResponseError",
    "RpcError",
    "SearchHit",
    "SearchResult",
    "SearchSort",
    "Status",
    "SyncBlockFilter",
    "SyncLogFilter",
    "SyncSubscription",
    "TransportError",
    "from_web3_log",
    "to_web3_log",
]


def __getattr__(name: str) -> Any:
    """web3.py's shapes, imported on first use (web3 takes a while to import)."""
    if name in ("to_web3_log", "from_web3_log"):
        from rpc.client import web3compat

        return getattr(web3compat, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
