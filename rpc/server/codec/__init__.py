"""The server's JSON-RPC edge: the only place where hex strings exist on the server side.

**Decoding** turns request parameters into typed values (:class:`LogQuery`, block numbers,
filter ids) with go-ethereum's rules for client input, in geth's order, so that a request
geth refuses is refused here with the same code: strict hex (``0x`` prefix, even length,
hex digits only), quantities without leading zeros, addresses of 20 bytes and topics of 32,
block numbers as 64-bit quantities or one of the tags ``earliest``, ``latest``, ``safe``,
``finalized``, ``pending``. Errors are :class:`JsonRpcError` ``-32602`` whose message says what
was wrong and where (the dispatcher prefixes ``invalid argument N: ``, as geth does); where
geth has a message of its own (``invalid topic(s)``, ``exceed max topics``, ``cannot specify
both BlockHash and FromBlock/ToBlock, choose one or the other``...) it is used word for word.

**Encoding** writes log objects as JSON text directly (keys in geth's order: ``address,
topics, data, blockNumber, transactionHash, transactionIndex, blockHash, blockTimestamp,
logIndex, removed``), straight from a block's columnar logs record.

* :mod:`rpc.server.codec.params`: request parameters to typed values;
* :mod:`rpc.server.codec.logs`: log objects and headers to JSON text, and :class:`EncodedLogs`.
"""

from __future__ import annotations

from rpc.server.codec.logs import (
    CACHED_UP_TO,
    EncodedLogs,
    encode_block_logs,
    encode_head,
    encode_log,
    encode_logs,
)
from rpc.server.codec.params import (
    MAX_TOPIC_ALTERNATIVES,
    MAX_TOPIC_POSITIONS,
    decode_block_ref,
    decode_filter,
    decode_filter_id,
    invalid,
)

__all__ = [
    "CACHED_UP_TO",
    "MAX_TOPIC_ALTERNATIVES",
    "MAX_TOPIC_POSITIONS",
    "EncodedLogs",
    "decode_block_ref",
    "decode_filter",
    "decode_filter_id",
    "encode_block_logs",
    "encode_head",
    "encode_log",
    "encode_logs",
    "invalid",
]
