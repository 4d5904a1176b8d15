"""Key layout of the exact log index (the ``x`` records of :mod:`chainindex.store.schema`).

``x · kind u8 · value · section u64 BE``: kind 0 is a log's address (a 20-byte value), kinds
1..4 its topic at position 0..3 (32 bytes). The section comes last, so the chunks of one value
over a run of sections are one range scan (go-ethereum's bloom-bits keys put the section last
for the same reason), and a value absent from a section has no key there at all.
"""

from __future__ import annotations

import struct

from chainindex.errors import CorruptDataError
from chainindex.store.schema import EXACT_PREFIX

__all__ = [
    "ADDRESS",
    "KINDS",
    "ValueKey",
    "chunk_key",
    "chunk_range",
    "parse_chunk_key",
    "value_key",
    "value_length",
]

ADDRESS = 0
"""Kind of an address value; topic position ``i`` is kind ``i + 1``."""
KINDS = 5
"""Address and four topic positions."""

ValueKey = bytes
"""A value as the index knows it: its kind byte followed by the value (21 or 33 bytes)."""

_SECTION = struct.Struct(">Q")


def value_length(kind: int) -> int:
    """Bytes of a value of ``kind``."""
    return 20 if kind == ADDRESS else 32


def value_key(kind: int, value: bytes) -> ValueKey:
    """The kind byte and the value; a value of the wrong size is a ValueError."""
    if not 0 <= kind < KINDS or len(value) != value_length(kind):
        raise ValueError(f"a value of kind {kind} has {value_length(kind)} bytes, not {len(value)}")
    return bytes([kind]) + value


def chunk_key(value: ValueKey, section: int) -> bytes:
    """Key of ``value``'s bitmap in ``section``."""
    return EXACT_PREFIX + value + _SECTION.pack(section)


def chunk_range(value: ValueKey, first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys of ``value``'s bitmaps in sections ``first..last``."""
    return chunk_key(value, first), chunk_key(value, last + 1)


def parse_chunk_key(key: bytes) -> tuple[ValueKey, int]:
    """``(value key, section)`` of a chunk key."""
    kind = key[1] if len(key) > 1 else -1
    if key[:1] != EXACT_PREFIX or not 0 <= kind < KINDS or len(key) != 10 + value_length(kind):
        raise CorruptDataError(f"malformed exact-index key {key.hex()}")
    return key[1:-8], _SECTION.unpack(key[-8:])[0]
