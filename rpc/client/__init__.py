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

The client stands alone: it imports nothing of the server's packages (``bloombits``,
``chainindex``, ``rpc.server``, ``rpc.commands``), only aiohttp, orjson, yarl and eth-typing.
web3.py's log shapes are in :mod:`~rpc.client.web3compat`, imported by whoever needs them
(web3 takes a while to import).

Modules:

- :mod:`~rpc.client.client`: :class:`AsyncClient`, the methods;
- :mod:`~rpc.client.connection`: its connection (transports, retries of read-only calls);
- :mod:`~rpc.client.sync`: :class:`Client`, the blocking facade, and its handles;
- :mod:`~rpc.client.loopthread`: the private event loop thread the blocking client runs on;
- :mod:`~rpc.client.filters`: log filter criteria (:class:`Filter`);
- :mod:`~rpc.client.types`: results (:class:`Log`, :class:`Header`, :class:`Status`) and
  their strict decoders;
- :mod:`~rpc.client.hexcodec`: strict hex quantities, data, addresses and hashes;
- :mod:`~rpc.client.logs` and :mod:`~rpc.client.paging`: ``eth_getLogs`` over ranges of any
  size (splitting on limit errors, adaptive pages);
- :mod:`~rpc.client.installed`: installed filters (:class:`LogFilter`, :class:`BlockFilter`);
- :mod:`~rpc.client.search`: text search requests and paging (``logfilter_search``);
- :mod:`~rpc.client.searchresult`: its typed results (:class:`SearchHit`, :class:`Event`);
- :mod:`~rpc.client.abitype`: ABI type strings, which type an event argument's value;
- :mod:`~rpc.client.subscription` and :mod:`~rpc.client.window`: subscriptions that survive
  dropped connections and surface reorgs;
- :mod:`~rpc.client.transport` (HTTP) and :mod:`~rpc.client.websocket` (WebSocket,
  subscription buffers): JSON-RPC transports;
- :mod:`~rpc.client.retry`: :class:`Backoff`;
- :mod:`~rpc.client.errors`: the error tree under :class:`ClientError`;
- :mod:`~rpc.client.web3compat`: web3.py's log shapes, both ways (not imported here).
"""

from __future__ import annotations

from rpc.client.client import AsyncClient
from rpc.client.errors import (
    BlockLimitError,
    ClientError,
    InvalidArgumentError,
    LimitError,
    NodeError,
    RequestTimeoutError,
    ResponseError,
    TransportError,
)
from rpc.client.filters import BlockId, BlockTag, Criteria, Filter
from rpc.client.installed import BlockFilter, LogFilter
from rpc.client.logs import LogStream
from rpc.client.retry import Backoff
from rpc.client.search import SearchSort
from rpc.client.searchresult import Event, EventArg, SearchHit, SearchResult
from rpc.client.subscription import HeadSubscription, LogSubscription
from rpc.client.sync import Client, SyncBlockFilter, SyncLogFilter, SyncSubscription
from rpc.client.types import BlockRef, Header, Log, Status

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
    "NodeError",
    "RequestTimeoutError",
    "ResponseError",
    "SearchHit",
    "SearchResult",
    "SearchSort",
    "Status",
    "SyncBlockFilter",
    "SyncLogFilter",
    "SyncSubscription",
    "TransportError",
]
