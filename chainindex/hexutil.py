"""Strict hex codecs for the JSON-RPC edges: quantities and byte strings.

Ethereum's JSON-RPC encodes integers as *quantities* (``0x``-prefixed, lowercase-or-upper hex,
no leading zeros, ``"0x0"`` for zero) and byte strings as *data* (``0x``-prefixed, two hex
digits per byte, ``"0x"`` when empty). The upstream source (:mod:`chainindex.source.parse`)
and the server (:mod:`rpc.server.codec`, and the API modules for scalar answers) read and
write such strings with these helpers, or, in the log encoders' hot loops, with the same
``"0x" + bytes.hex()`` and ``{n:#x}`` inline; everything inside the project holds ints and
bytes. go-ethereum's ``common/hexutil`` is the model.

Decoding is strict, as geth's is: a missing prefix, a non-string, an empty
quantity, a leading zero, an odd number of digits or a non-hex character raises
:class:`~chainindex.errors.HexError` with a message saying what was wrong, ready to be
returned to a JSON-RPC caller as an invalid-params error.
"""

from __future__ import annotations

import re
from typing import Final

from eth_typing import Address, Hash32

from chainindex.errors import HexError

__all__ = [
    "MAX_QUANTITY_DIGITS",
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


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def decode_quantity(value: object, what: str = "quantity", *, bits: int = 256) -> int:
    """The integer of a hex quantity such as ``"0x1b4"``.

    ``what`` names the field in the error message (e.g. ``"block number"``); ``bits`` is the
    widest value accepted (geth decodes block numbers as 64-bit, other quantities as 256).
    """
    if not isinstance(value, str):
        raise HexError(f"{what}: expected a hex string, got {_describe(value)}")
    if not value.startswith(("0x", "0X")):
        raise HexError(f"{what}: hex string without 0x prefix: {_describe(value)}")
    digits = value[2:]
    if not digits:
        raise HexError(f'{what}: hex string "0x" has no digits')
    if len(digits) > 1 and digits[0] == "0":
        raise HexError(f"{what}: hex number with leading zero digits: {_describe(value)}")
    if len(digits) > min(MAX_QUANTITY_DIGITS, (bits + 3) // 4):
        raise HexError(f"{what}: hex number larger than {bits} bits: {_describe(value)}")
    if _HEX_DIGITS.fullmatch(digits) is None:
        raise HexError(f"{what}: invalid hex number: {_describe(value)}")
    number = int(digits, 16)
    if number.bit_length() > bits:
        raise HexError(f"{what}: hex number larger than {bits} bits: {_describe(value)}")
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
        raise HexError(f"{what}: expected a hex string, got {_describe(value)}")
    if not value.startswith(("0x", "0X")):
        raise HexError(f"{what}: hex string without 0x prefix: {_describe(value)}")
    digits = value[2:]
    if len(digits) % 2:
        raise HexError(f"{what}: hex string of odd length: {_describe(value)}")
    if size is not None and len(digits) != 2 * size:
        raise HexError(f"{what}: expected {size} bytes, got {len(digits) // 2}: {_describe(value)}")
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        data = None
    # bytes.fromhex skips ASCII whitespace between byte pairs: refuse it explicitly.
    if data is None or len(data) * 2 != len(digits):
        raise HexError(f"{what}: invalid hex string: {_describe(value)}")
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
