"""A strict RLP decoder: go-ethereum's ``rlp`` decoding rules, for the records of era1 files.

The project's encoder is :mod:`chainindex.trie`; this is its inverse. Like go-ethereum's
``rlp.Split``/``rlp.DecodeBytes`` it rejects what is not canonical: a length that runs past
the input, a long-form length under 56 or with leading zeros, a single byte below 0x80
written as a one-byte string, and bytes after the item. What differs: items come back as
plain ``bytes`` and ``list`` (no typed decoding into structs), and :func:`split_list` gives
the raw encoding of each element of a list (a transaction's hash is keccak256 of it).
"""

from __future__ import annotations

from chainindex.errors import RlpDecodingError

__all__ = ["RlpValue", "decode", "decode_int", "split_list"]

RlpValue = bytes | list["RlpValue"]
"""A decoded RLP item: a byte string or a list of items."""


def _header(data: bytes, pos: int) -> tuple[bool, int, int]:
    """``(is_list, payload start, payload end)`` of the item at ``pos``."""
    end = len(data)
    if pos >= end:
        raise RlpDecodingError("RLP: input ends where an item should start")
    first = data[pos]
    if first < 0x80:
        return False, pos, pos + 1
    is_list = first >= 0xC0
    short = first - (0xC0 if is_list else 0x80)
    if short <= 55:
        start, length = pos + 1, short
        if not is_list and length == 1 and start < end and data[start] < 0x80:
            raise RlpDecodingError("RLP: a single byte below 0x80 must stand for itself")
    else:
        size = short - 55
        start = pos + 1 + size
        if start > end:
            raise RlpDecodingError("RLP: input ends inside a length")
        if data[pos + 1] == 0:
            raise RlpDecodingError("RLP: a length with leading zero bytes")
        length = int.from_bytes(data[pos + 1 : start], "big")
        if length <= 55:
            raise RlpDecodingError("RLP: a long-form length under 56")
    if start + length > end:
        raise RlpDecodingError(f"RLP: an item of {length} bytes runs past the input")
    return is_list, start, start + length


def _decode(data: bytes, pos: int) -> tuple[RlpValue, int]:
    is_list, start, stop = _header(data, pos)
    if not is_list:
        return data[start:stop], stop
    items: list[RlpValue] = []
    cursor = start
    while cursor < stop:
        item, cursor = _decode(data, cursor)
        items.append(item)
    if cursor != stop:
        raise RlpDecodingError("RLP: a list's items overrun its length")
    return items, stop


def decode(data: bytes) -> RlpValue:
    """The single item ``data`` encodes; RlpDecodingError when it is not canonical RLP or
    bytes follow it."""
    item, end = _decode(data, 0)
    if end != len(data):
        raise RlpDecodingError(f"RLP: {len(data) - end} bytes after the item")
    return item


def split_list(data: bytes) -> list[bytes]:
    """The raw encodings of the elements of the list ``data`` encodes (not decoded)."""
    is_list, start, stop = _header(data, 0)
    if not is_list:
        raise RlpDecodingError("RLP: expected a list, found a string")
    if stop != len(data):
        raise RlpDecodingError(f"RLP: {len(data) - stop} bytes after the list")
    out = []
    cursor = start
    while cursor < stop:
        _, _, end = _header(data, cursor)
        out.append(data[cursor:end])
        cursor = end
    return out


def decode_int(value: RlpValue, what: str) -> int:
    """An unsigned integer item (big-endian, no leading zeros: go-ethereum's rule)."""
    if not isinstance(value, bytes):
        raise RlpDecodingError(f"RLP: {what} is a list, not an integer")
    if value[:1] == b"\x00":
        raise RlpDecodingError(f"RLP: {what} has leading zero bytes")
    return int.from_bytes(value, "big")
