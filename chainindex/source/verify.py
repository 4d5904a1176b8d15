"""The consensus checks of a block: its hash, and its ``receiptsRoot``.

Follows go-ethereum: ``core/types/block.go`` (``Header.Hash``: keccak256 of the RLP of the
header, each fork's optional fields appended in order when present) and ``core/types/receipt.go``
(``Receipt.EncodeRLP`` / ``encodeTyped``: a legacy receipt is the RLP list ``[status or
post-state root, cumulativeGasUsed, logsBloom, logs]``, a typed one (EIP-2718) is its type byte
followed by that list), with :func:`chainindex.trie.ordered_trie_root` as ``DeriveSha``. What
differs: the inputs are the node's JSON fields already parsed by :mod:`chainindex.source.parse`
(the logs and their bloom as parsed and checked there), and a failure is an
:class:`~chainindex.errors.InvalidBlockError` naming the block and the field.

A header lacking one of the fifteen fields every fork has (``mixHash`` and ``nonce`` among them)
is rejected: its hash cannot be rebuilt, so nothing it says can be trusted, and a node that
wishes to forge a block could otherwise omit a field to skip the check. Such sources (some
ethereum-etl exports) are synced with verification turned off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bloombits.keccak import keccak256
from chainindex.errors import HexError, InvalidBlockError
from chainindex.header_extra import EXTRA_FIELDS, HeaderExtra
from chainindex.hexutil import decode_data, decode_quantity
from chainindex.trie import encode_bytes, encode_int, encode_list, ordered_trie_root
from chainindex.types import ChainLog, Header

__all__ = ["check_header_hash", "check_receipts_root", "encode_receipt", "header_rlp"]

_REQUIRED: Final = frozenset(name for _, name, _ in EXTRA_FIELDS[:11])
"""The header fields of every fork beyond :class:`Header`'s (Frontier's fifteen, less the
number, parent hash, timestamp and bloom that :class:`Header` holds)."""


def header_rlp(header: Header, extra: HeaderExtra) -> bytes:
    """The RLP of the header: every field given, in consensus order.

    InvalidBlockError when a field every fork has is missing."""
    missing = [name for attr, name, _ in EXTRA_FIELDS[:11] if getattr(extra, attr) is None]
    if missing:
        raise InvalidBlockError(
            header.number, f"the header has no {', '.join(missing)}: its hash cannot be checked"
        )
    e = extra
    parts = [
        b"\xa0" + header.parent_hash,
        b"\xa0" + e.uncles_hash,  # type: ignore[operator]
        b"\x94" + e.miner,  # type: ignore[operator]
        b"\xa0" + e.state_root,  # type: ignore[operator]
        b"\xa0" + e.transactions_root,  # type: ignore[operator]
        b"\xa0" + e.receipts_root,  # type: ignore[operator]
        b"\xb9\x01\x00" + header.logs_bloom,
        encode_int(e.difficulty),  # type: ignore[arg-type]
        encode_int(header.number),
        encode_int(e.gas_limit),  # type: ignore[arg-type]
        encode_int(e.gas_used),  # type: ignore[arg-type]
        encode_int(header.timestamp),
        encode_bytes(e.extra_data),  # type: ignore[arg-type]
        b"\xa0" + e.mix_hash,  # type: ignore[operator]
        b"\x88" + e.nonce,  # type: ignore[operator]
    ]
    for attr, _, kind in EXTRA_FIELDS[11:]:
        value = getattr(e, attr)
        if value is not None:
            parts.append(encode_int(value) if kind == "int" else b"\xa0" + value)
    return encode_list(b"".join(parts))


def check_header_hash(header: Header, extra: HeaderExtra) -> None:
    """InvalidBlockError (field ``hash``) unless the block hash is keccak256 of the header."""
    computed = keccak256(header_rlp(header, extra))
    if computed != header.hash:
        raise InvalidBlockError(
            header.number,
            f"hash 0x{header.hash.hex()} is not keccak256 of the header (0x{computed.hex()})",
        )


def _encode_logs(logs: Sequence[ChainLog]) -> bytes:
    parts = []
    for log in logs:
        topics = encode_list(b"".join(b"\xa0" + topic for topic in log.topics))
        parts.append(encode_list(b"\x94" + log.address + topics + encode_bytes(log.data)))
    return encode_list(b"".join(parts))


def _quantity(receipt: Mapping[str, Any], name: str, number: int, where: str) -> int | None:
    value = receipt.get(name)
    if value is None:
        return None
    if type(value) is str and value[:2] == "0x":  # fast path: the canonical spelling
        try:
            number = int(value[2:], 16)
        except ValueError:
            pass
        else:
            if hex(number) == value:
                return number
    try:
        return decode_quantity(value, name)
    except HexError as err:
        raise InvalidBlockError(number, f"{where}: {err}") from None


def encode_receipt(
    receipt: Mapping[str, Any], logs: Sequence[ChainLog], bloom: bytes, number: int, where: str
) -> bytes:
    """The consensus encoding of a JSON-RPC receipt whose parsed logs are ``logs`` and whose
    bloom is ``bloom`` (256 bytes)."""
    kind = _quantity(receipt, "type", number, where) or 0
    if kind > 0x7F:
        raise InvalidBlockError(number, f"{where}: type {kind:#x} is not a receipt type")
    status = _quantity(receipt, "status", number, where)
    if status is not None:
        if status > 1:
            raise InvalidBlockError(number, f"{where}: status {status:#x} is not 0 or 1")
        outcome = b"\x01" if status else b"\x80"
    elif receipt.get("root") is not None:
        try:
            outcome = encode_bytes(decode_data(receipt["root"], "root", size=32))
        except HexError as err:
            raise InvalidBlockError(number, f"{where}: {err}") from None
    else:
        raise InvalidBlockError(number, f"{where} has neither 'status' nor 'root'")
    cumulative = _quantity(receipt, "cumulativeGasUsed", number, where)
    if cumulative is None:
        raise InvalidBlockError(number, f"{where} has no 'cumulativeGasUsed' field")
    body = encode_list(
        outcome + encode_int(cumulative) + b"\xb9\x01\x00" + bloom + _encode_logs(logs)
    )
    return body if kind == 0 else bytes((kind,)) + body


def check_receipts_root(number: int, declared: bytes | None, encoded: Sequence[bytes]) -> None:
    """InvalidBlockError (field ``receiptsRoot``) unless ``declared`` is the trie root of the
    encoded receipts."""
    if declared is None:
        raise InvalidBlockError(number, "the header has no receiptsRoot: it cannot be checked")
    computed = ordered_trie_root(encoded)
    if computed != declared:
        raise InvalidBlockError(
            number,
            f"receiptsRoot 0x{declared.hex()} is not the root of the receipts (0x{computed.hex()})",
        )
