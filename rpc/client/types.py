"""What the client returns: frozen dataclasses of bytes and ints, decoded strictly from JSON.

The decoders here are the client's JSON-RPC edge: every hex string goes through
:mod:`rpc.client.hexcodec` (no leading zeros in quantities, even-length data, exact sizes for
addresses and hashes), and any departure is a :class:`~rpc.client.errors.ResponseError`
naming the field, never a half-decoded object.

:class:`Log` and :class:`Header` have the fields and field order of the server's
:class:`chainindex.types.ChainLog` and :class:`chainindex.types.Header` (the client has its own, to
stand alone); only ``block_timestamp`` may be None here, because nodes before geth 1.16 (and
others) do not send ``blockTimestamp``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_typing import Address, BlockNumber, Hash32

from rpc.client.errors import ResponseError
from rpc.client.hexcodec import (
    HexFormatError,
    decode_address,
    decode_data,
    decode_hash,
    decode_quantity,
)

__all__ = [
    "BlockRef",
    "Header",
    "Log",
    "Status",
    "decode_hashes",
    "decode_header",
    "decode_log",
    "decode_logs",
    "decode_status",
    "log_key",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Log:
    """One log (event) emitted by a transaction, with its position in the chain."""

    address: Address
    """The 20-byte address of the emitting contract."""
    topics: tuple[Hash32, ...]
    """Zero to four 32-byte topics; topic 0 is usually the event signature hash."""
    data: bytes
    """The non-indexed event arguments, ABI-encoded."""
    block_number: BlockNumber
    """Height of the block holding the log."""
    block_hash: Hash32
    """Hash of the block holding the log."""
    block_timestamp: int | None
    """Timestamp of the block (None when the server does not send ``blockTimestamp``)."""
    transaction_hash: Hash32
    """Hash of the transaction that emitted the log."""
    transaction_index: int
    """Position of that transaction in the block."""
    log_index: int
    """Position of the log in the block (counted across all its transactions)."""
    removed: bool = False
    """True when the log was undone by a reorg (filter changes and subscriptions only)."""


@dataclass(frozen=True, slots=True)
class Header:
    """The parts of a block header the client decodes (``newHeads``, ``eth_getBlockByNumber``)."""

    number: BlockNumber
    """Height of the block."""
    hash: Hash32
    """keccak256 of the RLP header, as the node reports it."""
    parent_hash: Hash32
    """Hash of the block this one extends."""
    timestamp: int
    """Unix time of the block, seconds."""
    logs_bloom: bytes
    """The 256-byte bloom of every log in the block."""


def log_key(log: Log) -> tuple[bytes, int]:
    """What identifies a log on one chain: its block hash and index in the block."""
    return log.block_hash, log.log_index


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block named by number and hash."""

    number: BlockNumber
    """Height of the block."""
    hash: Hash32
    """Its hash."""


@dataclass(frozen=True, slots=True)
class Status:
    """``logfilter_status``: how far the service has indexed and followed its upstream."""

    chain_id: int | None
    """The chain served (None when the upstream cannot tell, e.g. a chain archive)."""
    section_size: int
    """Blocks per bloom-bit section."""
    sections: int
    """Sections indexed (blocks ``0 .. sections * section_size - 1`` relative to the tail)."""
    indexed_until: BlockNumber | None
    """Last block covered by an indexed section (None before the first section)."""
    synced_head: BlockRef | None
    """Last block stored (None before the first)."""
    upstream_head: BlockNumber | None
    """The upstream's head, when known (None under ``--no-sync``)."""
    lag: int | None
    """Blocks between the upstream head and the synced head, when known."""
    phase: str
    """``starting``, ``syncing``, ``following``, ``stopped`` or ``read-only``."""
    headers_only: bool
    """True when logs are fetched from the upstream on demand (no local logs)."""
    tail: BlockNumber | None
    """First block of the data directory (None before the first sync)."""


def _field(obj: dict[str, Any], key: str, decode: Callable[[object, str], T], what: str) -> T:
    if key not in obj:
        raise ResponseError(f"{what}: missing field {key!r}")
    try:
        return decode(obj[key], key)
    except HexFormatError as err:
        raise ResponseError(f"{what}: {err}") from None


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError(f"{what}: expected a JSON object, got {str(value)[:60]!r}")
    return value


def _quantity(value: str) -> int:
    """A lowercase minimal quantity, fast; ValueError for anything else (then the strict
    decoder says what was wrong)."""
    number = int(value, 16)
    if (
        hex(number) != value or len(value) > 66
    ):  # also refuses "0x01", "0x_1", " 0x1", "0X1", upper digits
        raise ValueError(value)
    return number


def _data(value: str, size: int | None = None) -> bytes:
    """``0x``-hex bytes, fast; ValueError for anything the strict decoder would refuse."""
    if value[:2] != "0x":
        raise ValueError(value)
    raw = bytes.fromhex(value[2:])
    if 2 * len(raw) != len(value) - 2 or (size is not None and len(raw) != size):
        raise ValueError(value)  # fromhex skips whitespace: the length tells
    return raw


def _decode_log_fast(obj: Any) -> Log:
    """A well-formed log (lowercase minimal hex, as nodes send it); raises ValueError,
    TypeError, KeyError or AttributeError on anything else."""
    removed = obj["removed"]
    timestamp = obj.get("blockTimestamp")
    topics = obj["topics"]
    if len(topics) > 4 or not isinstance(removed, bool) or not isinstance(topics, list):
        raise ValueError("checked by the strict decoder")
    return Log(
        Address(_data(obj["address"], 20)),
        tuple([Hash32(_data(t, 32)) for t in topics]),
        _data(obj["data"]),
        BlockNumber(_quantity(obj["blockNumber"])),
        Hash32(_data(obj["blockHash"], 32)),
        None if timestamp is None else _quantity(timestamp),
        Hash32(_data(obj["transactionHash"], 32)),
        _quantity(obj["transactionIndex"]),
        _quantity(obj["logIndex"]),
        removed,
    )


_FAST_PATH_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


def decode_log(value: object, what: str = "log") -> Log:
    """A log object of ``eth_getLogs``, filter changes or a ``logs`` notification.

    Well-formed logs (lowercase hex, as nodes send) take a fast path; anything else goes
    through :mod:`rpc.client.hexcodec`, which accepts what it allows (upper-case digits) and
    names the field and the fault of the rest.
    """
    try:
        return _decode_log_fast(value)
    except _FAST_PATH_ERRORS:
        return _decode_log_strictly(value, what)


def _decode_log_strictly(value: object, what: str) -> Log:
    obj = _object(value, what)
    topics = obj.get("topics")
    if not isinstance(topics, list) or len(topics) > 4:
        raise ResponseError(f"{what}: topics: expected a list of at most 4 hashes")
    try:
        decoded_topics = tuple(decode_hash(t, "topics") for t in topics)
    except HexFormatError as err:
        raise ResponseError(f"{what}: {err}") from None
    removed = obj.get("removed", False)
    if not isinstance(removed, bool):
        raise ResponseError(f"{what}: removed: expected true or false, got {removed!r}")
    timestamp = obj.get("blockTimestamp")
    return Log(
        address=_field(obj, "address", decode_address, what),
        topics=decoded_topics,
        data=_field(obj, "data", decode_data, what),
        block_number=BlockNumber(_field(obj, "blockNumber", decode_quantity, what)),
        block_hash=_field(obj, "blockHash", decode_hash, what),
        block_timestamp=None
        if timestamp is None
        else _field(obj, "blockTimestamp", decode_quantity, what),
        transaction_hash=_field(obj, "transactionHash", decode_hash, what),
        transaction_index=_field(obj, "transactionIndex", decode_quantity, what),
        log_index=_field(obj, "logIndex", decode_quantity, what),
        removed=removed,
    )


def decode_logs(value: object, what: str) -> list[Log]:
    """A JSON list of log objects (``what`` names the answer in errors)."""
    if not isinstance(value, list):
        raise ResponseError(f"{what}: expected a list of logs, got {str(value)[:60]!r}")
    try:
        return [_decode_log_fast(item) for item in value]
    except _FAST_PATH_ERRORS:
        return [decode_log(item, f"{what}: log {i}") for i, item in enumerate(value)]


def decode_hashes(value: object, what: str) -> list[Hash32]:
    """A JSON list of 32-byte hashes (block filter changes)."""
    if not isinstance(value, list):
        raise ResponseError(f"{what}: expected a list of hashes, got {str(value)[:60]!r}")
    try:
        return [decode_hash(item, f"hash {i}") for i, item in enumerate(value)]
    except HexFormatError as err:
        raise ResponseError(f"{what}: {err}") from None


def decode_header(value: object, what: str = "header") -> Header:
    """A ``newHeads`` notification or an ``eth_getBlockByNumber`` block (its header part)."""
    obj = _object(value, what)
    return Header(
        number=BlockNumber(_field(obj, "number", decode_quantity, what)),
        hash=_field(obj, "hash", decode_hash, what),
        parent_hash=_field(obj, "parentHash", decode_hash, what),
        timestamp=_field(obj, "timestamp", decode_quantity, what),
        logs_bloom=_field(obj, "logsBloom", lambda v, k: decode_data(v, k, size=256), what),
    )


def _optional(obj: dict[str, Any], key: str, what: str) -> int | None:
    if obj.get(key) is None:
        if key not in obj:
            raise ResponseError(f"{what}: missing field {key!r}")
        return None
    return _field(obj, key, decode_quantity, what)


def _bool(obj: dict[str, Any], key: str, what: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise ResponseError(f"{what}: {key}: expected true or false, got {value!r}")
    return value


def decode_status(value: object) -> Status:
    """The ``logfilter_status`` answer."""
    what = "logfilter_status"
    obj = _object(value, what)
    head = obj.get("syncedHead")
    synced_head = None
    if head is not None:
        head_obj = _object(head, f"{what}: syncedHead")
        synced_head = BlockRef(
            BlockNumber(_field(head_obj, "number", decode_quantity, f"{what}: syncedHead")),
            _field(head_obj, "hash", decode_hash, f"{what}: syncedHead"),
        )
    elif "syncedHead" not in obj:
        raise ResponseError(f"{what}: missing field 'syncedHead'")
    phase = obj.get("phase")
    if not isinstance(phase, str):
        raise ResponseError(f"{what}: phase: expected a string, got {phase!r}")
    indexed_until = _optional(obj, "indexedUntil", what)
    upstream_head = _optional(obj, "upstreamHead", what)
    tail = _optional(obj, "tail", what)
    return Status(
        chain_id=_optional(obj, "chainId", what),
        section_size=_field(obj, "sectionSize", decode_quantity, what),
        sections=_field(obj, "sections", decode_quantity, what),
        indexed_until=None if indexed_until is None else BlockNumber(indexed_until),
        synced_head=synced_head,
        upstream_head=None if upstream_head is None else BlockNumber(upstream_head),
        lag=_optional(obj, "lag", what),
        phase=phase,
        headers_only=_bool(obj, "headersOnly", what),
        tail=None if tail is None else BlockNumber(tail),
    )
