"""The server's JSON-RPC edge: typed values to and from the JSON of requests and answers.

On the server side hex exists only in this package and in :mod:`chainindex.hexutil` (its
strict decoders, and the ``encode_quantity``/``encode_data`` the API modules also call for
their few scalar answers: block numbers, the chain id, the status object, the data of limit
errors); everything behind it, the query path and the store, works in bytes and ints.

* :mod:`rpc.server.codec.params`: request parameters to typed values (filter objects to
  :class:`~chainindex.filters.LogQuery`, block numbers and tags, filter ids), with
  go-ethereum's rules for client input and its error messages word for word;
* :mod:`rpc.server.codec.logs`: log objects and headers to JSON text, written directly in
  geth's key order from a block's columnar logs record, and :class:`EncodedLogs`, the cache
  of recent blocks' encoded logs;
* :mod:`rpc.server.codec.search_params`: the parameter object of ``logfilter_search`` to a
  typed :class:`~rpc.server.codec.search_params.SearchRequest` (its block, address and topic
  members through the decoders of ``params``);
* :mod:`rpc.server.codec.search_result`: a text-search result (hits, decoded events,
  highlights) to its JSON shape, for ``logfilter_search`` and ``logfilter search --json``.

Decoding errors are :class:`~rpc.server.protocol.JsonRpcError` ``-32602`` saying what was
wrong and where (the dispatcher prefixes ``invalid argument N: ``, as geth does).
"""

from __future__ import annotations

from rpc.server.codec.logs import (
    CACHED_UP_TO,
    EncodedLogs,
    encode_block_logs,
    encode_head,
    encode_log,
    encode_logs,
    encode_logs_array,
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
    "encode_logs_array",
    "invalid",
]
