"""Request parameters to typed values, with go-ethereum's rules for client input.

Filter objects become :class:`~chainindex.filters.LogQuery`, block numbers ints or tags,
in geth's order, so that a request geth refuses is refused here with the same code: strict
hex (``0x`` prefix, even length, hex digits only), quantities without leading zeros,
addresses of 20 bytes and topics of 32, block numbers as 64-bit quantities or one of the
tags ``earliest``, ``latest``, ``safe``, ``finalized``, ``pending``. Errors are
:class:`JsonRpcError` ``-32602`` whose message says what was wrong and where (the dispatcher
prefixes ``invalid argument N: ``, as geth does); where geth has a message of its own
(``invalid topic(s)``, ``exceed max topics``, ``cannot specify both BlockHash and
FromBlock/ToBlock, choose one or the other``...) it is used word for word.
"""

from __future__ import annotations

from typing import Any, Final

from eth_typing import Address, Hash32

from chainindex.errors import HexError
from chainindex.filters import BlockRef, BlockTag, LogCriteria, LogQuery
from chainindex.hexutil import decode_data, decode_quantity
from rpc.server.protocol import INVALID_PARAMS, JsonRpcError

__all__ = [
    "MAX_TOPIC_ALTERNATIVES",
    "MAX_TOPIC_POSITIONS",
    "decode_addresses",
    "decode_block_ref",
    "decode_filter",
    "decode_filter_id",
    "decode_topics",
    "invalid",
    "kind_of",
]

MAX_TOPIC_POSITIONS: Final = 4
"""Topic positions a filter may have (LOG0..LOG4): geth's ``maxTopics``."""
MAX_TOPIC_ALTERNATIVES: Final = 1000
"""Alternatives the decoder accepts in one topic position: geth's ``maxSubTopics``."""

_TAGS: Final = {tag.value: tag for tag in BlockTag}
_FIELDS: Final = {"blockhash": "blockHash", "fromblock": "fromBlock", "toblock": "toBlock",
                  "address": "address", "topics": "topics"}  # fmt: skip
"""The filter object's members, by lowercase name (Go's JSON decoding ignores case)."""


def invalid(message: str) -> JsonRpcError:
    """An invalid-params error (the dispatcher adds which argument)."""
    return JsonRpcError(INVALID_PARAMS, message)


def kind_of(value: object) -> str:
    """What a JSON value is, for error messages (``"a string"``, ``"null"``...)."""
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


def decode_addresses(value: object) -> tuple[Address, ...]:
    """A filter's ``address``: null (any), one address, or an array of them."""
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
        f"invalid addresses in query: expected an address or an array, got {kind_of(value)}"
    )


def decode_topics(value: object) -> tuple[tuple[Hash32, ...], ...]:
    """A filter's ``topics``: up to four positions (``()``: any topic at that position)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise invalid(f"topics: expected an array, got {kind_of(value)}")
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
        raise invalid(f"filter: expected an object, got {kind_of(value)}")
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
        decode_addresses(fields.get("address")), decode_topics(fields.get("topics"))
    )
    return LogQuery(criteria, begin, end, query_hash)


def decode_filter_id(value: object) -> str:
    """An installed filter's or subscription's id (any string, as geth's ``rpc.ID``)."""
    if not isinstance(value, str):
        raise invalid(f"filter id: expected a string, got {kind_of(value)}")
    return value
