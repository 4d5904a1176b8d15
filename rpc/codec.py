"""The server's JSON-RPC edge: the only place where hex strings exist on the server side.

**Decoding** turns request parameters into typed values (:class:`LogQuery`, block numbers,
filter ids) with go-ethereum's rules for client input, in geth's order, so that a request
geth refuses is refused here with the same code: strict hex (``0x`` prefix, even length,
hex digits only), quantities without leading zeros, addresses of 20 bytes and topics of 32,
block numbers as 64-bit quantities or one of the tags ``earliest``, ``latest``, ``safe``,
``finalized``, ``pending``. Errors are :class:`RpcError` ``-32602`` whose message says what
was wrong and where (the dispatcher prefixes ``invalid argument N: ``, as geth does); where
geth has a message of its own (``invalid topic(s)``, ``exceed max topics``, ``cannot specify
both BlockHash and FromBlock/ToBlock, choose one or the other``...) it is used word for word.

**Encoding** writes log objects as JSON text directly (keys in geth's order: ``address,
topics, data, blockNumber, transactionHash, transactionIndex, blockHash, blockTimestamp,
logIndex, removed``), straight from a block's columnar logs record: the hex of each distinct
address, topic and transaction of a block is computed once, the parts shared by every log of
a block (number, hash, timestamp) once per block, and each log is then one string join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any, Final, cast

import numpy as np
from eth_typing import Address, Hash32

from chainindex.errors import HexError
from chainindex.filters import BlockLogs, BlockRef, BlockTag, LogCriteria, LogQuery
from chainindex.hexutil import decode_data, decode_quantity, encode_data
from chainindex.types import Header, Log
from rpc.protocol import INVALID_PARAMS, RpcError

__all__ = [
    "MAX_TOPIC_ALTERNATIVES",
    "MAX_TOPIC_POSITIONS",
    "decode_block_ref",
    "decode_filter",
    "decode_filter_id",
    "encode_block_logs",
    "encode_head",
    "encode_log",
    "encode_logs",
    "invalid",
]

MAX_TOPIC_POSITIONS: Final = 4
"""Topic positions a filter may have (LOG0..LOG4): geth's ``maxTopics``."""
MAX_TOPIC_ALTERNATIVES: Final = 1000
"""Alternatives the decoder accepts in one topic position: geth's ``maxSubTopics``."""

_TAGS: Final = {tag.value: tag for tag in BlockTag}
_FIELDS: Final = {"blockhash": "blockHash", "fromblock": "fromBlock", "toblock": "toBlock",
                  "address": "address", "topics": "topics"}  # fmt: skip
"""The filter object's members, by lowercase name (Go's JSON decoding ignores case)."""


def invalid(message: str) -> RpcError:
    """An invalid-params error (the dispatcher adds which argument)."""
    return RpcError(INVALID_PARAMS, message)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- decoding ---------------------------------------------------------------------------------


def decode_block_ref(value: object, what: str = "block number") -> BlockRef:
    """A block number (64-bit quantity, at most 2^63 - 1 as geth) or a tag."""
    if isinstance(value, str):
        tag = _TAGS.get(value)
        if tag is not None:
            return tag
        if not value.startswith(("0x", "0X")):
            raise invalid(
                f"{what}: expected a hex block number or one of earliest, latest, safe, "
                f"finalized, pending; got {value[:40]!r}"
            )
    try:
        number = decode_quantity(value, what, bits=64)
    except HexError as err:
        raise invalid(str(err)) from None
    if number >= 2**63:
        raise invalid(f"{what}: block number larger than int64")
    return number


def _decode_bytes(value: object, what: str, size: int) -> bytes:
    try:
        return decode_data(value, what, size=size)
    except HexError as err:
        raise invalid(str(err)) from None


def _decode_addresses(value: object) -> tuple[Address, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (Address(_decode_bytes(value, "address", 20)),)
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise invalid(f"non-string address at index {i}")
            out.append(Address(_decode_bytes(item, f"address[{i}]", 20)))
        return tuple(out)
    raise invalid(
        f"invalid addresses in query: expected an address or an array, got {_kind(value)}"
    )


def _decode_topics(value: object) -> tuple[tuple[Hash32, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid(f"topics: expected an array, got {_kind(value)}")
    if len(value) > MAX_TOPIC_POSITIONS:
        raise invalid("exceed max topics")
    positions: list[tuple[Hash32, ...]] = []
    for i, position in enumerate(value):
        if position is None:
            positions.append(())
        elif isinstance(position, str):
            positions.append((Hash32(_decode_bytes(position, f"topics[{i}]", 32)),))
        elif isinstance(position, list):
            if len(position) > MAX_TOPIC_ALTERNATIVES:
                raise invalid("exceed max topics")
            alternatives: list[Hash32] = []
            for j, item in enumerate(position):
                if item is None:  # a null alternative makes the position a wildcard (geth)
                    alternatives = []
                    break
                if not isinstance(item, str):
                    raise invalid("invalid topic(s)")
                alternatives.append(Hash32(_decode_bytes(item, f"topics[{i}][{j}]", 32)))
            positions.append(tuple(alternatives))
        else:
            raise invalid("invalid topic(s)")
    return tuple(positions)


def decode_filter(value: object) -> LogQuery:
    """A filter object (``eth_getLogs``, ``eth_newFilter``, ``logs`` subscriptions)."""
    if not isinstance(value, dict):
        raise invalid(f"filter: expected an object, got {_kind(value)}")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        name = _FIELDS.get(key.lower())
        if name is not None:
            fields[name] = item
    block_hash = fields.get("blockHash")
    from_block = fields.get("fromBlock")
    to_block = fields.get("toBlock")
    query_hash = None if block_hash is None else Hash32(
        _decode_bytes(block_hash, "blockHash", 32)
    )  # fmt: skip
    begin = None if from_block is None else decode_block_ref(from_block, "fromBlock")
    end = None if to_block is None else decode_block_ref(to_block, "toBlock")
    if query_hash is not None and (begin is not None or end is not None):
        raise invalid(
            "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other"
        )
    criteria = LogCriteria(
        _decode_addresses(fields.get("address")), _decode_topics(fields.get("topics"))
    )
    return LogQuery(criteria, begin, end, query_hash)


def decode_filter_id(value: object) -> str:
    """An installed filter's or subscription's id (any string, as geth's ``rpc.ID``)."""
    if not isinstance(value, str):
        raise invalid(f"filter id: expected a string, got {_kind(value)}")
    return value


# --- encoding ---------------------------------------------------------------------------------


def encode_block_logs(blocks: Sequence[BlockLogs]) -> str:
    """The log objects of ``blocks`` (their selected logs), comma-separated, no brackets."""
    parts: list[str] = []
    for block in blocks:
        _encode_block(block, parts)
    return ",".join(parts)


_Row = tuple[int, int, int, int, int, int, int]
"""A selected log: index, address ref, transaction ref, first topic ref, topic count, data
start, data end."""


def _rows(block: BlockLogs) -> tuple[Iterable[_Row], Sequence[int]]:
    """The columns of the selected logs, and the topic references they point into: every
    column as a list when most logs are selected, else only the selected rows (numpy
    indexing)."""
    record, selected = block.record, block.indexes
    if 4 * len(selected) >= len(record):
        counts = record.log_topic_count.tolist()
        ends = record.data_ends.tolist()
        starts = list(accumulate(counts, initial=0))
        begins = [0, *ends]
        log_address = record.log_address.tolist()
        log_tx = record.log_tx.tolist()
        wanted = range(len(record)) if len(selected) == len(record) else selected.tolist()
        dense = (
            (i, log_address[i], log_tx[i], starts[i], counts[i], begins[i], ends[i]) for i in wanted
        )
        return dense, record.topic_refs.tolist()
    counts_array = record.log_topic_count
    ends_array = record.data_ends
    firsts = np.cumsum(counts_array, dtype=np.intp) - counts_array
    sparse: Iterable[_Row] = zip(
        selected.tolist(),
        record.log_address[selected].tolist(),
        record.log_tx[selected].tolist(),
        firsts[selected].tolist(),
        counts_array[selected].tolist(),
        np.where(selected > 0, ends_array[selected - 1], 0).tolist(),
        ends_array[selected].tolist(),
        strict=True,
    )
    return sparse, cast(Sequence[int], record.topic_refs)


def _encode_block(block: BlockLogs, out: list[str]) -> None:
    """Append the selected logs of one block to ``out``, one string each; the hex of a
    distinct address, topic or transaction is made the first time a log uses it."""
    record, header = block.record, block.header
    addresses, topics, tx_hashes = record.addresses, record.topics, record.tx_hashes
    tx_indexes = record.tx_indexes
    rows, refs = _rows(block)
    address_json: list[str | None] = [None] * len(addresses)
    topic_json: list[str | None] = [None] * len(topics)
    tx_json: list[str | None] = [None] * len(tx_hashes)
    tail = (
        f'","blockHash":"0x{header.hash.hex()}","blockTimestamp":"{header.timestamp:#x}",'
        '"logIndex":"'
    )
    middle = f'","blockNumber":"{header.number:#x}","transactionHash":'
    data = record.data
    append = out.append
    for index, address, tx, first, count, begin, end in rows:
        a = address_json[address]
        if a is None:
            a = address_json[address] = '{"address":"0x' + addresses[address].hex()
        t = tx_json[tx]
        if t is None:
            t = tx_json[tx] = (
                f'"0x{tx_hashes[tx].hex()}","transactionIndex":"{int(tx_indexes[tx]):#x}{tail}'
            )
        names = []
        for ref in refs[first : first + count]:
            name = topic_json[ref]
            if name is None:
                name = topic_json[ref] = '"0x' + topics[ref].hex() + '"'
            names.append(name)
        append(
            f'{a}","topics":[{",".join(names)}],"data":"0x{data[begin:end].hex()}'
            f'{middle}{t}{index:#x}","removed":false}}'
        )


def encode_log(log: Log) -> str:
    """One log object (notifications, filter changes)."""
    topics = ",".join(f'"0x{t.hex()}"' for t in log.topics)
    return (
        f'{{"address":"0x{log.address.hex()}","topics":[{topics}],"data":"0x{log.data.hex()}",'
        f'"blockNumber":"{log.block_number:#x}","transactionHash":"0x{log.transaction_hash.hex()}",'
        f'"transactionIndex":"{log.transaction_index:#x}","blockHash":"0x{log.block_hash.hex()}",'
        f'"blockTimestamp":"{log.block_timestamp:#x}","logIndex":"{log.log_index:#x}",'
        f'"removed":{"true" if log.removed else "false"}}}'
    )


def encode_logs(logs: Iterable[Log]) -> str:
    """A JSON array of log objects."""
    return "[" + ",".join(encode_log(log) for log in logs) + "]"


def encode_head(header: Header) -> dict[str, str]:
    """A ``newHeads`` notification: the header fields the index keeps, in geth's order."""
    return {
        "parentHash": encode_data(header.parent_hash),
        "logsBloom": encode_data(header.logs_bloom),
        "number": hex(header.number),
        "timestamp": hex(header.timestamp),
        "hash": encode_data(header.hash),
    }
