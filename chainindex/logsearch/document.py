"""Log → text-index document, and the stored form of a log.

One log is one document:

===============================  =========  ==============================================
field                            kind       value
===============================  =========  ==============================================
``address``                      keyword    emitting contract, ``0x`` + 40 hex digits
``topic0`` .. ``topic3``         keyword    the topics, ``0x`` + 64 hex digits
``event``                        keyword    event name (decoded logs only)
``signature``                    keyword    canonical signature, ``Transfer(address,...)``
``tx``                           keyword    transaction hash
``block``, ``timestamp``         point      block number and time (``block`` also sorts)
``logIndex``                     point      position in the block (also sorts)
``topicCount``                   point      number of topics (for eth_getLogs semantics)
``text``                         text       every decoded string argument (default field)
*argument name*                  by type    see below
===============================  =========  ==============================================

Decoded arguments are indexed under their name: ``string`` as analyzed text (and also in
``text``), ``address``/``bytesN``/``bytes`` (up to :data:`MAX_KEYWORD_BYTES` bytes) and the
hash of a dynamic indexed argument as ``0x`` hex keywords, ``bool`` as the keyword
``true``/``false``, integers as points. Arrays index every element under the same name; tuple
components go under ``name.component``. An unnamed argument is ``arg<i>``; an argument whose
name is one of the fields above is ``arg_<name>``.

The stored form is a compact binary record of the whole log plus the human-readable ABI of
the event it was decoded with (empty when undecoded), so a hit is decoded with exactly the
ABI it was indexed with.
"""

from __future__ import annotations

import struct
from typing import Any

from eth_abi.grammar import ABIType, BasicType, TupleType
from eth_typing import Address, BlockNumber, Hash32

from chainindex.logsearch.decode.abi import AbiParam, abi_type_of
from chainindex.logsearch.decode.decoder import DecodedArg, DecodedEvent
from chainindex.textindex.document import Document
from chainindex.textindex.errors import IndexCorruptError
from chainindex.types import ChainLog

__all__ = [
    "MAX_KEYWORD_BYTES",
    "RESERVED_FIELDS",
    "TEXT_FIELD",
    "arg_field_name",
    "decode_log_record",
    "encode_log_record",
    "log_document",
]

TEXT_FIELD = "text"
"""The field holding every decoded string: the default field of a query."""
RESERVED_FIELDS = frozenset(
    {
        "address",
        "topic0",
        "topic1",
        "topic2",
        "topic3",
        "event",
        "signature",
        "tx",
        "block",
        "timestamp",
        "logIndex",
        "topicCount",
        TEXT_FIELD,
    }
)
"""Field names a decoded argument cannot take."""
MAX_KEYWORD_BYTES = 64
"""Longer ``bytes`` values are stored with the log but not indexed."""


def arg_field_name(param: AbiParam, index: int) -> str:
    """The field an argument is indexed under."""
    if not param.name:
        return f"arg{index}"
    if param.name in RESERVED_FIELDS:
        return f"arg_{param.name}"
    return param.name


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _add_value(
    doc: Document,
    field: str,
    abi_type: ABIType,
    components: tuple[AbiParam, ...],
    value: Any,
) -> None:
    if abi_type.arrlist:
        item = abi_type.item_type
        for element in value:
            _add_value(doc, field, item, components, element)
        return
    if isinstance(abi_type, TupleType):
        for j, (component_type, element) in enumerate(zip(abi_type.components, value, strict=True)):
            component = components[j] if j < len(components) else None
            name = component.name if component is not None and component.name else str(j)
            sub = component.components if component is not None else ()
            _add_value(doc, f"{field}.{name}", component_type, sub, element)
        return
    assert isinstance(abi_type, BasicType)
    base = abi_type.base
    if base == "string":
        doc.texts.append((field, value))
        doc.texts.append((TEXT_FIELD, value))
    elif base in ("uint", "int"):
        doc.points.append((field, value))
    elif base == "bool":
        doc.keywords.append((field, "true" if value else "false"))
    elif base in ("address", "bytes"):
        if len(value) <= MAX_KEYWORD_BYTES:
            doc.keywords.append((field, _hex(value)))
    else:  # fixed-point numbers: their decimal text as a keyword
        doc.keywords.append((field, str(value)))


def _add_arg(doc: Document, arg: DecodedArg, index: int) -> None:
    field = arg_field_name(arg.param, index)
    if arg.hashed:
        doc.keywords.append((field, _hex(arg.value)))
        return
    _add_value(doc, field, abi_type_of(arg.param.type), arg.param.components, arg.value)


def log_document(log: ChainLog, decoded: DecodedEvent | None) -> Document:
    """The document of a log (decoded or not), with the log stored."""
    keywords = [("address", _hex(log.address)), ("tx", _hex(log.transaction_hash))]
    keywords.extend((f"topic{i}", _hex(topic)) for i, topic in enumerate(log.topics))
    doc = Document(
        keywords=keywords,
        points=[
            ("block", log.block_number),
            ("timestamp", log.block_timestamp),
            ("logIndex", log.log_index),
            ("topicCount", len(log.topics)),
        ],
        doc_values={"block": log.block_number, "logIndex": log.log_index},
        stored=encode_log_record(log, decoded.event.human() if decoded else ""),
    )
    if decoded is not None:
        keywords.append(("event", decoded.event.name))
        keywords.append(("signature", decoded.event.signature))
        for index, arg in enumerate(decoded.args):
            _add_arg(doc, arg, index)
    return doc


_RECORD_VERSION = 1
_HEAD = struct.Struct(">B20sB")
_TAIL = struct.Struct(">Q32sQ32sIIBH")


def encode_log_record(log: ChainLog, event_human: str) -> bytes:
    """The stored form of a log and the ABI (human-readable) it was decoded with."""
    abi = event_human.encode()
    parts = [_HEAD.pack(_RECORD_VERSION, log.address, len(log.topics)), *log.topics]
    parts.append(struct.pack(">I", len(log.data)))
    parts.append(log.data)
    parts.append(
        _TAIL.pack(
            log.block_number,
            log.block_hash,
            log.block_timestamp,
            log.transaction_hash,
            log.transaction_index,
            log.log_index,
            1 if log.removed else 0,
            len(abi),
        )
    )
    parts.append(abi)
    return b"".join(parts)


def decode_log_record(record: bytes) -> tuple[ChainLog, str]:
    """Inverse of :func:`encode_log_record`: the log and the ABI text (``""`` if none)."""
    try:
        version, address, topic_count = _HEAD.unpack_from(record, 0)
        if version != _RECORD_VERSION or topic_count > 4:
            raise IndexCorruptError(f"unknown stored log record (version {version})")
        at = _HEAD.size
        topics = tuple(Hash32(record[at + 32 * i : at + 32 * (i + 1)]) for i in range(topic_count))
        at += 32 * topic_count
        (data_len,) = struct.unpack_from(">I", record, at)
        at += 4
        data = record[at : at + data_len]
        at += data_len
        number, block_hash, timestamp, tx_hash, tx_index, log_index, removed, abi_len = (
            _TAIL.unpack_from(record, at)
        )
        at += _TAIL.size
        abi = record[at : at + abi_len].decode()
        if len(data) != data_len or at + abi_len != len(record):
            raise IndexCorruptError("truncated stored log record")
    except (struct.error, UnicodeDecodeError):
        raise IndexCorruptError("malformed stored log record") from None
    log = ChainLog(
        address=Address(address),
        topics=topics,
        data=data,
        block_number=BlockNumber(number),
        block_hash=Hash32(block_hash),
        block_timestamp=timestamp,
        transaction_hash=Hash32(tx_hash),
        transaction_index=tx_index,
        log_index=log_index,
        removed=bool(removed),
    )
    return log, abi
