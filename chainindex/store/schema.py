"""Every key layout of the data directory, and its schema version.

One LevelDB per data directory; each kind of record has its own key prefix. Integers in keys
are big-endian so that keys sort in numeric order and runs are single range scans.

=========================================  ==============================================
key                                        value
=========================================  ==============================================
``meta/schema``                            schema version, u32 BE
``meta/<name>``                            settings fixed at creation (chain id, section
                                           size, ...) and progress markers, see ``META_*``
``B`` bit u16 · section u64 · head hash    compressed bit-vector (geth's layout and format)
``R`` bit u16 · group u64 · head hash      the bit's vectors of a whole group of sections
                                           (``group-size`` of them, ending with the section
                                           whose head is in the key), see
                                           :mod:`chainindex.store.rows`; a section is under
                                           ``B`` or inside an ``R`` row, never both
``S`` section u64                          head hash of a stored section (its last block)
``h`` number u64 · hash                    header record
``c`` number u64                           canonical block hash at that height
``n`` hash                                 block number, u64 BE
``l`` number u64 · hash                    the block's logs, encoded
                                           (:mod:`chainindex.store.codec`; absent in headers-only
                                           mode)
``x`` fingerprint u64 · section u32        the exact log index (format 4): the dense
                                           positions (i-th log of the section) of the
                                           section's logs carrying a value whose
                                           fingerprint (keccak256 of kind byte · value,
                                           first 8 bytes; kind 0 an address, kinds 1..4 a
                                           topic at position kind - 1) is in the key;
                                           varint gaps or a portable roaring bitmap, see
                                           :mod:`chainindex.store.exact`
``X`` section u32                          the section's log count per block (u32 LE
                                           each): dense positions → block, log index
=========================================  ==============================================

Meta records (``META_*``): ``section-size``, ``section-group``, ``sections-first`` and
``sections`` (bloom sections); ``chain-id``,
``tail`` (the first synced block, number u64 · hash) and ``headers-only`` (u8), fixed when
sync first writes to the directory; ``head`` (the synced head, number u64 · hash), moved in
the same batch as the blocks it covers; ``exact-first`` (u64, only in directories that store
logs): sections ``exact-first .. sections - 1`` have their exact-index records (``x``), written
in the batch of each section; a directory migrated from version 2 or 3 starts with it at the
section count and builds it downward, one section per batch with its records;
``exact-purge`` (present while a migration from version 3 still has format-3 ``x`` keys to
delete: the last key deleted, empty at first) comes before that build.

Only canonical blocks are stored: a reorg deletes the ``h``/``c``/``n``/``l`` records of the
blocks it undoes in the same batch as it writes their replacements, so a range scan over
``h`` yields exactly the canonical headers, one per height, ``tail`` through ``head``.

Opening a directory checks ``meta/schema``: an empty database is stamped with the current
version; an older version that :data:`MIGRATIONS` knows is migrated (each step from its
version up adds its writes to the one batch that restamps the directory: version 1 has no
``R`` rows yet, a subset of version 2; version 2 lacks the exact index, which the step marks
as to be built; version 3's index has the format-3 keys, which the step marks to be purged
and the index to be rebuilt); another version, or keys without a version (a foreign
database), is refused with a clear error.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from eth_typing import BlockNumber, Hash32

from chainindex.errors import CorruptDataError, ForeignDataError, IncompatibleSchemaError
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch

__all__ = [
    "SCHEMA_VERSION",
    "MigrationStep",
    "bloom_bits_key",
    "bloom_bits_range",
    "bloom_row_key",
    "bloom_rows_range",
    "canonical_hash_key",
    "check_schema",
    "decode_block_ref",
    "decode_u64",
    "encode_block_ref",
    "encode_u64",
    "hash_to_number_key",
    "header_key",
    "header_range",
    "logs_key",
    "logs_range",
    "meta_key",
    "parse_bloom_bits_key",
    "parse_bloom_bits_keys",
    "parse_bloom_row_keys",
    "parse_header_key",
    "parse_logs_key",
    "section_head_key",
]

SCHEMA_VERSION = 4
"""Bumped whenever what is stored changes, once per landing (2: ``R`` rows; 3: the exact log
index, ``x`` records and ``meta/exact-first``, and header records of format 2, which keep
every header field the node gave: format-1 records stay as they are and are still read, their
headers carrying only what they stored; 4: the exact index's format 4, fingerprint keys,
dense positions with the ``X`` counts, tagged varint/roaring records)."""

MigrationStep = Callable[[KeyValueReader, WriteBatch], None]
"""One step of a migration: reads the directory as it is, adds its writes to the batch that
restamps it (a step with long work to do marks it, and the work is done later, resumably)."""

log = logging.getLogger("chainindex.store")

SCHEMA_KEY = b"meta/schema"
"""Where the schema version is kept."""

BLOOM_BITS_PREFIX = b"B"
BLOOM_ROWS_PREFIX = b"R"
SECTION_HEAD_PREFIX = b"S"
HEADER_PREFIX = b"h"
CANONICAL_PREFIX = b"c"
HASH_TO_NUMBER_PREFIX = b"n"
LOGS_PREFIX = b"l"
EXACT_PREFIX = b"x"
EXACT_COUNTS_PREFIX = b"X"
META_PREFIX = b"meta/"

META_SECTION_COUNT = "sections"
"""Index of the next section to store (u64): sections ``first .. count - 1`` are stored."""
META_SECTION_FIRST = "sections-first"
"""First section stored (u64, absent = 0): the section holding the first synced block; it
counts the blocks below that one as empty, and no section below it exists."""
META_SECTION_SIZE = "section-size"
"""Blocks per section, fixed when the directory is created (u64)."""
META_SECTION_GROUP = "section-group"
"""Sections per ``R`` row, fixed when the directory's sections are first used (u64)."""
META_CHAIN_ID = "chain-id"
"""Chain id of the upstream (u64), fixed by the first sync; absent for an archive upstream."""
META_TAIL = "tail"
"""First block synced (number u64 · hash), fixed by the first sync."""
META_HEAD = "head"
"""Synced head (number u64 · hash): every canonical block tail..head is stored."""
META_HEADERS_ONLY = "headers-only"
"""1 when the directory stores no logs (``--no-logs``), else 0 (u8), fixed by the first sync."""
META_EXACT_FIRST = "exact-first"
"""First section with exact-index records (u64): sections ``exact-first .. sections - 1``
have them. Absent in a headers-only directory (no index) and before the first sync."""
META_EXACT_PURGE = "exact-purge"
"""Present while format-3 exact-index keys are left to delete after a migration from schema
version 3: the last one deleted (empty before the first batch)."""

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_BLOOM_BITS_KEY = struct.Struct(">cHQ32s")
_BLOCK_REF = struct.Struct(">Q32s")
_HEADER_KEY = struct.Struct(">cQ32s")


def encode_u64(value: int) -> bytes:
    """Big-endian 8 bytes."""
    return _U64.pack(value)


def decode_u64(data: bytes) -> int:
    """Inverse of :func:`encode_u64`; a value of the wrong size is corrupt data."""
    if len(data) != 8:
        raise CorruptDataError(f"expected an 8-byte integer, found {len(data)} bytes")
    value: int = _U64.unpack(data)[0]
    return value


def encode_block_ref(number: int, block_hash: bytes) -> bytes:
    """A block's number and hash as one value (u64 BE · 32 bytes)."""
    return _BLOCK_REF.pack(number, block_hash)


def decode_block_ref(data: bytes) -> tuple[BlockNumber, Hash32]:
    """Inverse of :func:`encode_block_ref`; a value of the wrong size is corrupt data."""
    if len(data) != _BLOCK_REF.size:
        raise CorruptDataError(f"expected a 40-byte block reference, found {len(data)} bytes")
    number, block_hash = _BLOCK_REF.unpack(data)
    return BlockNumber(number), Hash32(block_hash)


def meta_key(name: str) -> bytes:
    """Key of a setting or progress marker."""
    return META_PREFIX + name.encode()


def bloom_bits_key(bit: int, section: int, head: Hash32) -> bytes:
    """Key of the compressed vector of bloom bit ``bit`` in ``section`` with head ``head``."""
    return _BLOOM_BITS_KEY.pack(BLOOM_BITS_PREFIX, bit, section, head)


def bloom_bits_range(bit: int, first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys covering bit ``bit`` of sections ``first..last`` (inclusive)."""
    return _bit_range(BLOOM_BITS_PREFIX, bit, first, last)


def bloom_row_key(bit: int, group: int, head: Hash32) -> bytes:
    """Key of the row of bloom bit ``bit`` for section group ``group``, whose last section
    has head ``head``."""
    return _BLOOM_BITS_KEY.pack(BLOOM_ROWS_PREFIX, bit, group, head)


def bloom_rows_range(bit: int, first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys covering bit ``bit`` of groups ``first..last`` (inclusive)."""
    return _bit_range(BLOOM_ROWS_PREFIX, bit, first, last)


def _bit_range(prefix: bytes, bit: int, first: int, last: int) -> tuple[bytes, bytes]:
    start = prefix + _U16.pack(bit)
    return start + _U64.pack(first), start + _U64.pack(last + 1)


def parse_bloom_bits_key(key: bytes, prefix: bytes = BLOOM_BITS_PREFIX) -> tuple[int, int, Hash32]:
    """``(bit, section, head)`` of a bloom-bits key (``(bit, group, head)`` of a row key with
    ``prefix=BLOOM_ROWS_PREFIX``)."""
    if len(key) != _BLOOM_BITS_KEY.size or key[:1] != prefix:
        raise CorruptDataError(f"malformed bloom-bits key {key.hex()}")
    _, bit, section, head = _BLOOM_BITS_KEY.unpack(key)
    return bit, section, Hash32(head)


_BLOOM_BITS_KEY_DTYPE = np.dtype(
    [("prefix", "S1"), ("bit", ">u2"), ("section", ">u8"), ("head", "u1", (32,))]
)

_KeyArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8]]


def parse_bloom_bits_keys(keys: Sequence[bytes], prefix: bytes = BLOOM_BITS_PREFIX) -> _KeyArrays:
    """:func:`parse_bloom_bits_key` of many keys at once: ``(bits, sections, heads)`` arrays,
    the heads as an ``(n, 32)`` byte matrix."""
    joined = b"".join(keys)
    if len(joined) != len(keys) * _BLOOM_BITS_KEY.size:
        for key in keys:
            parse_bloom_bits_key(key, prefix)  # names the malformed key
    parsed = np.frombuffer(joined, dtype=_BLOOM_BITS_KEY_DTYPE)
    if (parsed["prefix"] != prefix).any():
        parse_bloom_bits_key(keys[int(np.argmax(parsed["prefix"] != prefix))], prefix)
    return (
        parsed["bit"].astype(np.int64),
        parsed["section"].astype(np.int64),
        np.ascontiguousarray(parsed["head"]),
    )


def parse_bloom_row_keys(keys: Sequence[bytes]) -> _KeyArrays:
    """``(bits, groups, heads)`` of many row keys."""
    return parse_bloom_bits_keys(keys, BLOOM_ROWS_PREFIX)


def section_head_key(section: int) -> bytes:
    """Key of the head hash of a stored section."""
    return SECTION_HEAD_PREFIX + _U64.pack(section)


def header_key(number: BlockNumber, block_hash: Hash32) -> bytes:
    """Key of a header record."""
    return HEADER_PREFIX + _U64.pack(number) + block_hash


def header_range(first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys covering the header records of heights ``first..last``."""
    return HEADER_PREFIX + _U64.pack(first), HEADER_PREFIX + _U64.pack(last + 1)


def parse_header_key(key: bytes) -> tuple[BlockNumber, Hash32]:
    """``(number, hash)`` of a header key."""
    if len(key) != _HEADER_KEY.size or key[:1] != HEADER_PREFIX:
        raise CorruptDataError(f"malformed header key {key.hex()}")
    _, number, block_hash = _HEADER_KEY.unpack(key)
    return BlockNumber(number), Hash32(block_hash)


def canonical_hash_key(number: BlockNumber) -> bytes:
    """Key of the canonical hash at a height."""
    return CANONICAL_PREFIX + _U64.pack(number)


def hash_to_number_key(block_hash: Hash32) -> bytes:
    """Key of the number of a block, by hash."""
    return HASH_TO_NUMBER_PREFIX + block_hash


def logs_key(number: BlockNumber, block_hash: Hash32) -> bytes:
    """Key of a block's encoded logs."""
    return LOGS_PREFIX + _U64.pack(number) + block_hash


def logs_range(first: int, last: int) -> tuple[bytes, bytes]:
    """``[start, stop)`` keys covering the logs records of heights ``first..last`` (only
    canonical blocks are stored: a scan yields each height's record once)."""
    return LOGS_PREFIX + _U64.pack(first), LOGS_PREFIX + _U64.pack(last + 1)


def parse_logs_key(key: bytes) -> tuple[BlockNumber, Hash32]:
    """``(number, hash)`` of a logs key."""
    if len(key) != _HEADER_KEY.size or key[:1] != LOGS_PREFIX:
        raise CorruptDataError(f"malformed logs key {key.hex()}")
    _, number, block_hash = _HEADER_KEY.unpack(key)
    return BlockNumber(number), Hash32(block_hash)


def check_schema(
    store: KeyValueStore,
    where: str,
    migrations: Mapping[int, Sequence[MigrationStep]] | None = None,
) -> int:
    """Stamp an empty store with :data:`SCHEMA_VERSION`, or check the version it has,
    migrating an older one that ``migrations`` knows (version → the steps that take a
    directory of that version to the next; every step from the stored version up runs, all
    in the one batch that restamps it). Returns the version found (that of an empty store:
    :data:`SCHEMA_VERSION`).

    ``where`` names the store in error messages (usually the data directory).
    """
    raw = store.get(SCHEMA_KEY)
    if raw is None:
        if next(iter(store.iterate(b"")), None) is not None:
            raise ForeignDataError(
                f"{where} holds a database that logfilter did not write (no schema version); "
                "point --datadir at an empty or logfilter directory"
            )
        with store.batch() as batch:
            batch.put(SCHEMA_KEY, _U32.pack(SCHEMA_VERSION))
        return SCHEMA_VERSION
    if len(raw) != _U32.size:
        raise CorruptDataError(f"{where}: malformed schema version record {raw.hex()}")
    version: int = _U32.unpack(raw)[0]
    known = migrations or {}
    if version < SCHEMA_VERSION and all(v in known for v in range(version, SCHEMA_VERSION)):
        with store.batch() as batch:
            for step_version in range(version, SCHEMA_VERSION):
                for step in known[step_version]:
                    step(store, batch)
            batch.put(SCHEMA_KEY, _U32.pack(SCHEMA_VERSION))
        log.warning("%s: migrated from schema version %d to %d", where, version, SCHEMA_VERSION)
        return version
    if version != SCHEMA_VERSION:
        raise IncompatibleSchemaError(
            f"{where} was written by schema version {version}; this logfilter reads version "
            f"{SCHEMA_VERSION}: rebuild it with `logfilter sync` into a new data directory"
        )
    return version
