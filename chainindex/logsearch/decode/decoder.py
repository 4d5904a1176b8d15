"""Decoding a log with the event its registry names: indexed arguments from the topics, the
rest from the data.

eth-abi decodes the data (strict: padding must be clean, exactly as eth-abi checks it). Two
refinements:

- Values of elementary static types (``uintN``, ``intN``, ``address``, ``bool``, ``bytesN``)
  are read straight from their 32-byte words, with eth-abi's own validity checks; this is the
  shape of nearly every log on mainnet (a Transfer is three such words) and many times faster
  than going through eth-abi's stream decoder.
  ``tests/chainindex/logsearch/test_decode.py`` checks it
  against eth-abi on random words.
- ``string`` values are decoded as bytes and then as UTF-8 with replacement characters, so a
  log carrying invalid UTF-8 in a string still decodes (eth-abi would reject it).

An indexed argument of a dynamic or composite type (``string``, ``bytes``, arrays, tuples) is
only its keccak256 hash in the topic: it decodes to that 32-byte hash, flagged ``hashed``.

A log that does not decode (unknown event, wrong topic count, malformed data) gives ``None``;
the text index still indexes its raw fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import ABIType, BasicType, TupleType
from eth_typing import Address

from chainindex.logsearch.decode.abi import AbiParam, EventAbi, abi_type_of, type_str_of
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.types import ChainLog

__all__ = [
    "DecodedArg",
    "DecodedEvent",
    "decode_event",
    "decode_log",
    "decode_word",
]


@dataclass(frozen=True, slots=True)
class DecodedArg:
    """One decoded event argument."""

    param: AbiParam
    """The parameter's declaration (name, type, indexed, tuple components)."""
    value: Any
    """The value: int, bool, str, bytes (``address`` as 20 bytes), tuples for arrays/tuples;
    for a ``hashed`` argument the 32-byte topic."""
    hashed: bool = False
    """True when the argument is indexed and of a dynamic type: ``value`` is only its hash."""

    @property
    def name(self) -> str:
        """The parameter name (may be empty)."""
        return self.param.name


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A log decoded with an event ABI."""

    event: EventAbi
    """The event the log was decoded as."""
    args: tuple[DecodedArg, ...]
    """The arguments in declaration order."""

    @property
    def name(self) -> str:
        """The event name."""
        return self.event.name


_WORD = 32


def _is_elementary(abi_type: ABIType) -> bool:
    return (
        isinstance(abi_type, BasicType)
        and not abi_type.arrlist
        and abi_type.base in ("uint", "int", "address", "bool", "bytes")
        and not (abi_type.base == "bytes" and abi_type.sub is None)
    )


def decode_word(type_str: str, word: bytes) -> Any:
    """Decode one 32-byte word as an elementary static type, checking it as eth-abi does.

    Raises :class:`eth_abi.exceptions.DecodingError` on a value eth-abi would reject.
    """
    abi_type = abi_type_of(type_str)
    if not isinstance(abi_type, BasicType) or not _is_elementary(abi_type):
        raise ValueError(f"{type_str} is not an elementary static type")
    if len(word) < _WORD:
        raise DecodingError(f"expected a 32-byte word, got {len(word)} bytes")
    word = word[:_WORD]
    base = abi_type.base
    if base == "uint":
        value = int.from_bytes(word, "big")
        if value >> abi_type.sub:
            raise DecodingError(f"{type_str} out of range")
        return value
    if base == "int":
        value = int.from_bytes(word, "big", signed=True)
        half = 1 << (abi_type.sub - 1)
        if not -half <= value < half:
            raise DecodingError(f"{type_str} out of range")
        return value
    if base == "address":
        if any(word[:12]):
            raise DecodingError("address padding is not zero")
        return Address(word[12:])
    if base == "bool":
        if any(word[:31]) or word[31] > 1:
            raise DecodingError("bool is neither 0 nor 1")
        return word[31] == 1
    size: int = abi_type.sub
    if any(word[size:]):
        raise DecodingError(f"{type_str} padding is not zero")
    return word[:size]


def _for_decoding(abi_type: ABIType) -> str:
    """The type string eth-abi is asked to decode: ``string`` read as ``bytes``."""
    if isinstance(abi_type, TupleType):
        inner = ",".join(_for_decoding(c) for c in abi_type.components)
        suffix = "".join(f"[{d[0] if d else ''}]" for d in abi_type.arrlist or ())
        return f"({inner}){suffix}"
    text = type_str_of(abi_type)
    if isinstance(abi_type, BasicType) and abi_type.base == "string":
        return "bytes" + text[len("string") :]
    return text


def _convert(abi_type: ABIType, value: Any) -> Any:
    """eth-abi's value to ours: addresses as bytes, strings from bytes, sequences as tuples."""
    if abi_type.arrlist:
        item = abi_type.item_type
        return tuple(_convert(item, v) for v in value)
    if isinstance(abi_type, TupleType):
        return tuple(_convert(c, v) for c, v in zip(abi_type.components, value, strict=True))
    assert isinstance(abi_type, BasicType)
    if abi_type.base == "address":
        return Address(bytes.fromhex(value[2:]))
    if abi_type.base == "string":
        return bytes(value).decode("utf-8", "replace")
    return value


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to decode one event, worked out once."""

    indexed: tuple[tuple[int, bool], ...]
    """For each topic after topic 0: (parameter index, hashed?)."""
    data_params: tuple[int, ...]
    """Indexes of the parameters carried in the data."""
    fast: bool
    """All data parameters are elementary static types (read word by word)."""
    data_types: tuple[str, ...]
    """Type strings eth-abi decodes the data as (when not ``fast``)."""


_PLANS: dict[int, tuple[EventAbi, _Plan]] = {}


def _plan(event: EventAbi) -> _Plan:
    cached = _PLANS.get(id(event))
    if cached is not None and cached[0] is event:
        return cached[1]
    indexed = []
    data_params = []
    for i, param in enumerate(event.inputs):
        abi_type = abi_type_of(param.type)
        if param.indexed:
            indexed.append((i, not _is_elementary(abi_type)))
        else:
            data_params.append(i)
    data_types = tuple(abi_type_of(event.inputs[i].type) for i in data_params)
    plan = _Plan(
        tuple(indexed),
        tuple(data_params),
        all(_is_elementary(t) for t in data_types),
        tuple(_for_decoding(t) for t in data_types),
    )
    _PLANS[id(event)] = (event, plan)
    return plan


def decode_event(event: EventAbi, topics: Sequence[bytes], data: bytes) -> DecodedEvent | None:
    """Decode a log's topics and data as ``event``; ``None`` when they do not fit it."""
    plan = _plan(event)
    first = 0 if event.anonymous else 1
    if len(topics) - first != len(plan.indexed):
        return None
    values: list[DecodedArg | None] = [None] * len(event.inputs)
    try:
        for (index, hashed), topic in zip(plan.indexed, topics[first:], strict=True):
            param = event.inputs[index]
            if hashed:
                values[index] = DecodedArg(param, bytes(topic), hashed=True)
            else:
                values[index] = DecodedArg(param, decode_word(param.type, topic))
        if plan.fast:
            if len(data) < _WORD * len(plan.data_params):
                return None
            for k, index in enumerate(plan.data_params):
                param = event.inputs[index]
                word = data[k * _WORD : (k + 1) * _WORD]
                values[index] = DecodedArg(param, decode_word(param.type, word))
        elif plan.data_params:
            decoded = abi_decode(plan.data_types, data)
            for index, raw in zip(plan.data_params, decoded, strict=True):
                param = event.inputs[index]
                values[index] = DecodedArg(param, _convert(abi_type_of(param.type), raw))
    except (DecodingError, OverflowError, ValueError):
        return None
    args = tuple(v for v in values if v is not None)
    return DecodedEvent(event, args)


def decode_log(log: ChainLog, registry: AbiRegistry) -> DecodedEvent | None:
    """Decode a log with the event its registry knows for it, if any and if it fits."""
    if not log.topics:
        return None
    event = registry.lookup(log.address, log.topics[0], len(log.topics))
    if event is None:
        return None
    return decode_event(event, log.topics, log.data)
