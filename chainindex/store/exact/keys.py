"""Key layout of the exact log index (the ``x`` and ``X`` records of
:mod:`chainindex.store.schema`), format 4.

``x · fingerprint u64 · section u32 BE`` (13 bytes): the fingerprint is the first 8 bytes of
keccak256 of the value's key material, its kind byte followed by the value (kind 0 is a log's
address, a 20-byte value; kinds 1..4 its topic at position 0..3, 32 bytes). The section comes
last, so the records of one value over a run of sections are one range scan (go-ethereum's
bloom-bits keys put the section last for the same reason), and a value absent from a section
has no key there at all. Format 3 spelt the whole value in the key (30 or 42 bytes); the
fingerprint is what makes the keys a third of that.

Two values may share a fingerprint: their records are then one record, the union of their
logs (:mod:`~chainindex.store.exact.index` merges them), so a collision only ever adds
candidates, which verification against the logs turns away; it never loses a match.

``X · section u32 BE``: the cumulative log counts of the section's blocks
(:mod:`~chainindex.store.exact.counts`), which turn the dense positions of the ``x`` records
back into blocks and log indexes.
"""

from __future__ import annotations

import struct

from bloombits.keccak import keccak256
from chainindex.errors import CorruptDataError
from chainindex.store.schema import EXACT_COUNTS_PREFIX, EXACT_PREFIX

__all__ = [
    "ADDRESS",
    "KEY_LENGTH",
    "KINDS",
    "MAX_SECTION",
    "ValueKey",
    "chunk_key",
    "chunk_range",
    "counts_key",
    "fingerprint",
    "parse_chunk_key",
    "value_key",
    "value_length",
]

ADDRESS = 0
"""Kind of an address value; topic position ``i`` is kind ``i + 1``."""
KINDS = 5
"""Address and four topic positions."""
MAX_SECTION = 0xFFFFFFFE
"""Highest section a key can name (sections are u32; the next value bounds range scans)."""
KEY_LENGTH = 13
"""Bytes of an ``x`` key of format 4 (format 3's were 30 or 42)."""

ValueKey = bytes
"""A value as the index knows it: its kind byte followed by the value (21 or 33 bytes)."""

_KEY = struct.Struct(">cQI")
_SECTION = struct.Struct(">I")


def value_length(kind: int) -> int:
    """Bytes of a value of ``kind``."""
    return 20 if kind == ADDRESS else 32


def value_key(kind: int, value: bytes) -> ValueKey:
    """The kind byte and the value; a value of the wrong size is a ValueError."""
    if not 0 <= kind < KINDS or len(value) != value_length(kind):
        raise ValueError(f"a value of kind {kind} has {value_length(kind)} bytes, not {len(value)}")
    return bytes([kind]) + value


def fingerprint(value: ValueKey) -> int:
    """The value's fingerprint: the first 8 bytes of keccak256 of its key material, as an
    unsigned big-endian integer."""
    return int.from_bytes(keccak256(value)[:8], "big")


def chunk_key(fp: int, section: int) -> bytes:
    """Key of the record of fingerprint ``fp`` in ``section``."""
    return _KEY.pack(EXACT_PREFIX, fp, section)


def chunk_range(fp: int, first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys of fingerprint ``fp``'s records in sections ``first..last``."""
    return chunk_key(fp, first), chunk_key(fp, min(last + 1, MAX_SECTION + 1))


def parse_chunk_key(key: bytes) -> tuple[int, int]:
    """``(fingerprint, section)`` of a record's key."""
    if len(key) != KEY_LENGTH or key[:1] != EXACT_PREFIX:
        raise CorruptDataError(f"malformed exact-index key {key.hex()}")
    _, fp, section = _KEY.unpack(key)
    return fp, section


def counts_key(section: int) -> bytes:
    """Key of ``section``'s cumulative log counts."""
    return EXACT_COUNTS_PREFIX + _SECTION.pack(section)
