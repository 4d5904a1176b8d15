"""Wire shapes of the upstream's JSON-RPC answers and of chain-archive records.

Only the fields the indexer reads or checks are declared; nodes send more, and an archive
keeps whatever the node sent. Values are the hex strings of the wire: they are turned into
ints and bytes by :mod:`chainindex.source.parse` and go no further than this package.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

__all__ = ["ArchiveRecord", "RpcBlock", "RpcLog", "RpcReceipt", "RpcResponse", "WireError"]


class RpcBlock(TypedDict):
    """``eth_getBlockByNumber(n, false)``: a header and the hashes of its transactions."""

    number: str
    hash: str
    parentHash: str
    timestamp: str
    logsBloom: str
    transactions: list[str]


class RpcLog(TypedDict):
    """One log of a receipt (geth's field order)."""

    address: str
    topics: list[str]
    data: str
    blockNumber: str
    transactionHash: str
    transactionIndex: str
    blockHash: str
    blockTimestamp: NotRequired[str]
    logIndex: str
    removed: bool


class RpcReceipt(TypedDict):
    """One element of ``eth_getBlockReceipts(n)`` (or an ``eth_getTransactionReceipt``)."""

    blockHash: str
    blockNumber: str
    transactionHash: str
    transactionIndex: str
    logs: list[RpcLog]
    logsBloom: str


class ArchiveRecord(TypedDict):
    """One line of a chain archive; ``receipts`` is absent in a headers-only archive.

    ``chainId`` (the ``eth_chainId`` answer of the node it came from, a hex quantity) is in
    every record written since it was added (``logfilter export`` and ``generate``), so that
    every line stays a whole block record and any run of lines still names its chain; older
    archives have none (``sync --chain-id`` gives it then)."""

    chainId: NotRequired[str]
    block: RpcBlock
    receipts: NotRequired[list[RpcReceipt]]


class WireError(TypedDict):
    """The ``error`` member of an upstream's JSON-RPC response, as the wire carries it."""

    code: int
    message: str
    data: NotRequired[Any]


class RpcResponse(TypedDict):
    """A JSON-RPC 2.0 response: ``result`` or ``error``."""

    jsonrpc: str
    id: int
    result: NotRequired[Any]
    error: NotRequired[WireError]
