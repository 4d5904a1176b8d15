"""The JSON shape of a text-search result (``logfilter_search``, ``logfilter search --json``).

Typed hits (:class:`~chainindex.logsearch.index.LogSearchHit`, with the decoded event and
its highlights) become JSON values here, hex included. A result is::

    {"hits": [hit, ...], "total": 123, "cursor": "eyJ2..." | null}

and a hit::

    {"score": 3.21,
     "log": {geth's log object: address, topics, data, blockNumber, transactionHash,
             transactionIndex, blockHash, blockTimestamp, logIndex, removed},
     "event": {"name": "NameRegistered",
               "signature": "NameRegistered(string,bytes32,address,uint256,uint256,uint256)",
               "args": [{"name": "name", "type": "string", "indexed": false,
                         "value": "vitalik"}, ...]} | null,
     "highlights": {"name": ["<em>vitalik</em>"]}}

Argument values: addresses and bytes as ``0x`` hex, integers as decimal strings (exact for
uint256, safe in JavaScript), booleans and strings as themselves, arrays and tuples as JSON
arrays; an indexed argument of a dynamic type carries ``"hashed": true`` and its topic (the
keccak256 of the value) in hex.
"""

from __future__ import annotations

from typing import Any

from chainindex.logsearch.decode.abi import abi_type_of
from chainindex.logsearch.decode.decoder import DecodedEvent
from chainindex.logsearch.index import LogSearchHit, LogSearchResult
from chainindex.types import ChainLog

__all__ = ["event_json", "hit_json", "log_json", "result_json"]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _quantity(value: int) -> str:
    return hex(value)


def log_json(log: ChainLog) -> dict[str, Any]:
    """A log as geth returns it."""
    return {
        "address": _hex(log.address),
        "topics": [_hex(t) for t in log.topics],
        "data": _hex(log.data),
        "blockNumber": _quantity(log.block_number),
        "transactionHash": _hex(log.transaction_hash),
        "transactionIndex": _quantity(log.transaction_index),
        "blockHash": _hex(log.block_hash),
        "blockTimestamp": _quantity(log.block_timestamp),
        "logIndex": _quantity(log.log_index),
        "removed": log.removed,
    }


def _value(abi_type: Any, value: Any) -> Any:
    if abi_type.arrlist:
        return [_value(abi_type.item_type, v) for v in value]
    components = getattr(abi_type, "components", None)
    if components is not None:
        return [_value(c, v) for c, v in zip(components, value, strict=True)]
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return _hex(bytes(value))
    return str(value)


def event_json(event: DecodedEvent) -> dict[str, Any]:
    """A decoded event: name, signature, arguments."""
    args = []
    for arg in event.args:
        entry: dict[str, Any] = {
            "name": arg.name,
            "type": arg.param.type,
            "indexed": arg.param.indexed,
        }
        if arg.hashed:
            entry["hashed"] = True
            entry["value"] = _hex(arg.value)
        else:
            entry["value"] = _value(abi_type_of(arg.param.type), arg.value)
        args.append(entry)
    return {"name": event.name, "signature": event.event.signature, "args": args}


def hit_json(hit: LogSearchHit) -> dict[str, Any]:
    """One hit."""
    return {
        "score": hit.score,
        "log": log_json(hit.log),
        "event": None if hit.event is None else event_json(hit.event),
        "highlights": hit.highlights,
    }


def result_json(result: LogSearchResult) -> dict[str, Any]:
    """A page of hits."""
    return {
        "hits": [hit_json(h) for h in result.hits],
        "total": result.total,
        "cursor": result.cursor,
    }
