"""The client's strict hex codecs: JSON-RPC quantities and data, addresses and hashes.

Ethereum's JSON-RPC (execution-apis, ``base-types.yaml``) writes integers as *quantities*
(``0x``-prefixed hex, no leading zeros, ``"0x0"`` for zero) and byte strings as *data*
(``0x``-prefixed, two hex digits per byte, ``"0x"`` when empty). Decoding is as strict as
go-ethereum's ``common/hexutil``: a missing prefix, a non-string, an empty quantity, a leading
zero, an odd number of digits or a non-hex character raises :class:`HexFormatError` with a
message saying what was wrong.

The rules and messages are those of the server's :mod:`chainindex.hexutil`; the client has
its own copy so that it stands alone (it imports nothing of the server). What differs: the
error is :class:`HexFormatError`, which never leaves the client — the callers turn it into a
:class:`~rpc.client.errors.ResponseError` (a node's answer) or an
:class:`~rpc.client.errors.InvalidArgumentError` (a caller's argument).
"""

from __future__ import annotations

import re
from typing import Final

from eth_typing import Address, Hash32

__all__ = [
    "MAX_QUANTITY_DIGITS",
    "HexFormatError",
    "decode_address",
    "decode_data",
    "decode_hash",
    "decode_quantity",
    "encode_data",
    "encode_quantity",
]

MAX_QUANTITY_DIGITS: Final = 64
"""Longest quantity accepted: 256 bits, like geth's ``hexutil.Big``."""

_HEX_DIGITS: Final = re.compile(r"[0-9a-fA-F]*")
"""Hex digits only: ``int(x, 16)`` alone would also take ``_``, ``+``, ``-`` and spaces."""


class HexFormatError(ValueError):
    """A malformed hex quantity or data string; the message names the field and the fault.
    Internal: the client re-raises it as the error of the side that sent the string."""


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def decode_quantity(value: object, what: str = "quantity", *, bits: int = 256) -> int:
    """The integer of a hex quantity such as ``"0x1b4"``.

    ``what`` names the field in the error message (e.g. ``"block number"``); ``bits`` is the
    widest value accepted.
    """
    if not isinstance(value, str):
        raise HexFormatError(f"{what}: expected a hex string, got {_describe(value)}")
    if not value.startswith(("0x", "0X")):
        raise HexFormatError(f"{what}: hex string without 0x prefix: {_describe(value)}")
    digits = value[2:]
    if not digits:
        raise HexFormatError(f'{what}: hex string "0x" has no digits')
    if len(digits) > 1 and digits[0] == "0":
        raise HexFormatError(f"{what}: hex number with leading zero digits: {_describe(value)}")
    if len(digits) > min(MAX_QUANTITY_DIGITS, (bits + 3) // 4):
        raise HexFormatError(f"{what}: hex number larger than {bits} bits: {_describe(value)}")
    if _HEX_DIGITS.fullmatch(digits) is None:
        raise HexFormatError(f"{what}: invalid hex number: {_describe(value)}")
    number = int(digits, 16)
    if number.bit_length() > bits:
        raise HexFormatError(f"{what}: hex number larger than {bits} bits: {_describe(value)}")
    return number


def encode_quantity(value: int) -> str:
    """``value`` (non-negative) as a minimal hex quantity (``0`` is ``"0x0"``)."""
    if value < 0:
        raise ValueError(f"a quantity is non-negative, got {value}")
    return hex(value)


def decode_data(value: object, what: str = "data", *, size: int | None = None) -> bytes:
    """The bytes of a hex data string such as ``"0xdeadbeef"`` (``"0x"`` is empty).

    With ``size``, the string must encode exactly that many bytes.
    """
    if not isinstance(value, str):
        raise HexFormatError(f"{what}: expected a hex string, got {_describe(value)}")
    if not value.startswith(("0x", "0X")):
        raise HexFormatError(f"{what}: hex string without 0x prefix: {_describe(value)}")
    digits = value[2:]
    if len(digits) % 2:
        raise HexFormatError(f"{what}: hex string of odd length: {_describe(value)}")
    if size is not None and len(digits) != 2 * size:
        raise HexFormatError(
            f"{what}: expected {size} bytes, got {len(digits) // 2}: {_describe(value)}"
        )
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        data = None
    # bytes.fromhex skips ASCII whitespace between byte pairs: refuse it explicitly.
    if data is None or len(data) * 2 != len(digits):
        raise HexFormatError(f"{what}: invalid hex string: {_describe(value)}")
    return data


def decode_hash(value: object, what: str = "hash") -> Hash32:
    """A 32-byte hash (block hash, transaction hash, topic)."""
    return Hash32(decode_data(value, what, size=32))


def decode_address(value: object, what: str = "address") -> Address:
    """A 20-byte address (any letter case; the checksum is not checked)."""
    return Address(decode_data(value, what, size=20))


def encode_data(value: bytes) -> str:
    """``value`` as lowercase ``0x``-hex (``b""`` is ``"0x"``)."""
    return "0x" + value.hex()
