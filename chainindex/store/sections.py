"""Bloom sections on disk: bit-vectors, section heads and the section count.

Sections are stored in order, each in the caller's atomic batch together with whatever else
that commit writes, so that the count, the heads and the vectors can never disagree. Vectors
are keyed by the section's head hash (geth's layout): a vector whose head is not the stored
head of its section belongs to a block range since reorganised away and is never returned.

A section's vectors are first stored one per bit (``B`` records, compressed as go-ethereum
does). The section that completes a *group* (``group_size`` aligned sections, all at or
above the first stored one) is written together with the move of the whole group into one
row per bit (``R`` records, :mod:`chainindex.store.rows`), keyed by the head of the group's
last section (a block hash commits to its ancestors, so that head vouches for every section
of the row). Both moves happen inside one batch: a section is always in exactly one of the
two forms. The move reads, decodes and encodes :data:`GROUP_MOVE_BITS` bits at a time, so
that only the batch holds the whole group. :meth:`SectionStore.truncate` undoes rows reaching
above the new count, putting the sections it keeps of a partial group back as ``B`` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import numpy as np
import numpy.typing as npt
from eth_typing import Hash32

from bloombits.arrays import U8
from bloombits.bitutil import compress_many, decompress_many
from bloombits.bloom import BLOOM_BIT_LENGTH
from bloombits.errors import CompressionError
from chainindex.errors import ConfigMismatchError, CorruptDataError
from chainindex.store import schema
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch
from chainindex.store.rows import decode_row, decode_rows, encode_rows

__all__ = ["DEFAULT_GROUP_SIZE", "GROUP_MOVE_BITS", "SectionStore"]

Heads = Sequence[Hash32 | None] | U8
"""Section heads as :meth:`SectionStore.heads` returns them, or (all stored) as a
``(count, 32)`` byte matrix."""

DEFAULT_GROUP_SIZE = 64
"""Sections per row unless the directory says otherwise (64 × 4096 blocks, rows of 32 KiB)."""

GROUP_MOVE_BITS = 64
"""Bits moved into rows at a time when a group completes: the group's vectors are read,
decoded and encoded a slice at a time (2 MiB for groups of 64 sections of 4096 blocks), never
all at once (measured: a headers-only sync's peak RSS, BENCHMARKS.md)."""

_HASH_LENGTH = 32
_first = itemgetter(0)
_NO_HEAD = bytes(_HASH_LENGTH)
"""Stands in for the head of a section not stored (such a section's vectors are ignored)."""


class SectionStore:
    """Reads and writes bloom sections of a fixed size in a key-value store."""

    def __init__(
        self, kv: KeyValueStore, section_size: int, *, group_size: int | None = None
    ) -> None:
        """Bind to ``kv``, fixing its section size on first use and checking it afterwards;
        likewise its group size (None: the stored one, else :data:`DEFAULT_GROUP_SIZE`)."""
        if section_size <= 0 or section_size % 8:
            raise ValueError(f"section size {section_size} is not a positive multiple of 8")
        self.kv = kv
        """The underlying store."""
        self.section_size = section_size
        """Blocks per section."""
        key = schema.meta_key(schema.META_SECTION_SIZE)
        stored = kv.get(key)
        if stored is None:
            with kv.batch() as batch:
                batch.put(key, schema.encode_u64(section_size))
        elif (existing := schema.decode_u64(stored)) != section_size:
            raise ConfigMismatchError(
                f"the data directory was built with section size {existing}, not {section_size}"
            )
        if group_size is not None and group_size < 1:
            raise ValueError(f"group size {group_size} is not positive")
        key = schema.meta_key(schema.META_SECTION_GROUP)
        stored = kv.get(key)
        if stored is None:
            self.group_size = group_size or DEFAULT_GROUP_SIZE
            """Sections per ``R`` row."""
            with kv.batch() as batch:
                batch.put(key, schema.encode_u64(self.group_size))
        else:
            self.group_size = schema.decode_u64(stored)
            if group_size is not None and group_size != self.group_size:
                raise ConfigMismatchError(
                    f"the data directory groups {self.group_size} sections per row, "
                    f"not {group_size}"
                )
        self.width = section_size // 8
        """Bytes per vector."""

    def first(self, reader: KeyValueReader | None = None) -> int:
        """First section stored (0 unless sync started above block 0): sections below it do
        not exist, and the blocks of this section below the first synced block count as
        empty. Fixed by the first sync."""
        raw = (reader or self.kv).get(schema.meta_key(schema.META_SECTION_FIRST))
        return 0 if raw is None else schema.decode_u64(raw)

    def count(self, reader: KeyValueReader | None = None) -> int:
        """Index of the next section to store: sections ``first() .. count - 1`` are stored
        (``0 .. count - 1`` for a chain synced from genesis)."""
        raw = (reader or self.kv).get(schema.meta_key(schema.META_SECTION_COUNT))
        return 0 if raw is None else schema.decode_u64(raw)

    def heads(
        self, first: int, last: int, reader: KeyValueReader | None = None
    ) -> list[Hash32 | None]:
        """Head hashes of sections ``first..last`` (None where not stored), one range scan."""
        heads: list[Hash32 | None] = [None] * (last - first + 1)
        start, stop = schema.section_head_key(first), schema.section_head_key(last + 1)
        for key, value in (reader or self.kv).iterate(start, stop):
            if len(value) != _HASH_LENGTH:
                raise CorruptDataError(f"malformed section head record under {key.hex()}")
            heads[schema.decode_u64(key[1:]) - first] = Hash32(value)
        return heads

    def head(self, section: int, reader: KeyValueReader | None = None) -> Hash32 | None:
        """Head hash of one stored section, or None (a point read)."""
        key = schema.section_head_key(section)
        value = (reader or self.kv).get(key)
        if value is None:
            return None
        if len(value) != _HASH_LENGTH:
            raise CorruptDataError(f"malformed section head record under {key.hex()}")
        return Hash32(value)

    def write_section(
        self, batch: WriteBatch, section: int, head: Hash32, vectors: npt.NDArray[np.uint8]
    ) -> None:
        """Add the next section to ``batch``: its 2048 vectors (compressed), head and count;
        when it completes a group, the move of the group into rows (see the module).

        ``section`` must be the current count: sections are stored in order, and the ones
        before it are committed (a group's earlier sections are read back from the store).
        """
        if vectors.shape != (BLOOM_BIT_LENGTH, self.width):
            raise ValueError(f"expected vectors of shape (2048, {self.width})")
        if len(head) != _HASH_LENGTH:
            raise ValueError("a section head is a 32-byte hash")
        if section != (count := self.count()):
            raise ValueError(f"section {section} written out of order: {count} stored")
        group_first = section + 1 - self.group_size
        if (section + 1) % self.group_size == 0 and group_first >= self.first():
            self._write_group(batch, section, head, vectors)
        else:
            for bit, blob in enumerate(compress_many(vectors)):
                batch.put(schema.bloom_bits_key(bit, section, head), blob)
        batch.put(schema.section_head_key(section), head)
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(section + 1))

    def _write_group(self, batch: WriteBatch, last: int, head: Hash32, vectors: U8) -> None:
        """Rows for the group ending with section ``last`` (whose vectors are given), and
        the removal of its earlier sections' ``B`` records, :data:`GROUP_MOVE_BITS` bits at a
        time: only the batch holds the whole group (its rows, what it must write anyway)."""
        size = self.group_size
        first = last + 1 - size
        group = last // size
        expected: U8 | None = None
        if size > 1:
            heads = self.heads(first, last - 1)
            if None in heads:
                raise CorruptDataError(f"section {first + heads.index(None)} has no head")
            expected = _head_matrix(heads)[0]
        with self.kv.snapshot() as snapshot:
            for lo in range(0, BLOOM_BIT_LENGTH, GROUP_MOVE_BITS):
                hi = min(BLOOM_BIT_LENGTH, lo + GROUP_MOVE_BITS)
                rows = np.empty((hi - lo, size, self.width), dtype=np.uint8)
                rows[:, size - 1] = vectors[lo:hi]
                if expected is not None:
                    keys, earlier = self._read_group(snapshot, lo, hi, first, expected)
                    rows[:, : size - 1] = earlier
                    for key in keys:
                        batch.delete(key)
                values = encode_rows(rows.reshape(hi - lo, -1))
                for bit, value in enumerate(values, start=lo):
                    batch.put(schema.bloom_row_key(bit, group, head), value)

    def _read_group(
        self, snapshot: KeyValueReader, lo: int, hi: int, first: int, expected: U8
    ) -> tuple[list[bytes], U8]:
        """The ``B`` keys of bits ``lo..hi - 1`` of the stored sections ``first ..`` (whose
        heads are the rows of ``expected``) and their vectors as a ``(bits, count, width)``
        array: one range scan per bit (a scan across bits would step over every deleted
        record of the groups below), one decompression for all."""
        count = len(expected)
        last = first + count - 1
        keys: list[bytes] = []
        blobs: list[bytes] = []
        for bit in range(lo, hi):
            for key, value in snapshot.iterate(*schema.bloom_bits_range(bit, first, last)):
                keys.append(key)
                blobs.append(value)
        bits, sections, found_heads = schema.parse_bloom_bits_keys(keys)
        if len(keys) != (hi - lo) * count or not (
            (found_heads == expected[sections - first]).all()
        ):
            raise CorruptDataError(
                f"sections {first}..{last} do not have exactly one current vector per bit"
            )
        try:
            decoded = decompress_many(blobs, self.width, copy=False)
        except CompressionError as err:
            raise CorruptDataError(f"a vector of sections {first}..{last}: {err}") from None
        out = np.empty((hi - lo, count, self.width), dtype=np.uint8)
        out[bits - lo, sections - first] = decoded
        return keys, out

    def truncate(self, batch: WriteBatch, count: int) -> None:
        """Add to ``batch`` the removal of every section from ``count`` on (the rows of the
        groups they belong to included; the sections kept of such a group go back to ``B``
        records)."""
        stored = self.count()
        if count >= stored:
            return
        heads = self.heads(count, stored - 1)
        for section, head in enumerate(heads, start=count):
            if head is None:
                raise CorruptDataError(f"section {section} is counted but has no head")
            for bit in range(BLOOM_BIT_LENGTH):
                batch.delete(schema.bloom_bits_key(bit, section, head))
            batch.delete(schema.section_head_key(section))
        size = self.group_size
        for group in range(count // size, stored // size):
            group_head = heads[group * size + size - 1 - count]
            assert group_head is not None
            if self.kv.get(schema.bloom_row_key(0, group, group_head)) is None:
                continue  # not moved into rows (it holds sections below the first one)
            kept = count - group * size
            kept_heads = self.heads(group * size, count - 1) if kept > 0 else []
            for bit in range(BLOOM_BIT_LENGTH):
                key = schema.bloom_row_key(bit, group, group_head)
                if kept > 0:
                    value = self.kv.get(key)
                    if value is None:
                        raise CorruptDataError(f"group {group} has no row for bit {bit}")
                    row = decode_row(value, size, self.width, f"row {key.hex()}")
                    blobs = compress_many(np.ascontiguousarray(row[:kept]))
                    for section, (head, blob) in enumerate(
                        zip(kept_heads, blobs, strict=True), start=group * size
                    ):
                        assert head is not None
                        batch.put(schema.bloom_bits_key(bit, section, head), blob)
                batch.delete(key)
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(count))

    def read_vectors(
        self,
        bit: int,
        first: int,
        last: int,
        reader: KeyValueReader | None = None,
        *,
        heads: Heads | None = None,
    ) -> tuple[U8, npt.NDArray[np.bool_]]:
        """The vectors of bloom bit ``bit`` for sections ``first..last``, decoded, as a
        ``(count, width)`` array, and which of them were found (a section not stored, or whose
        vector is only under a stale head, is all zero and not found).

        One range scan over the bit's rows and, for the sections no current row covers, one
        over its ``B`` records (and one over the heads, unless the caller passes ``heads``:
        the heads of ``first..last`` read from the same state of the store). A malformed
        vector or row is :class:`~chainindex.errors.CorruptDataError`.
        """
        if not 0 <= bit < BLOOM_BIT_LENGTH:
            raise ValueError(f"bloom bit {bit} out of range")
        count = max(0, last - first + 1)
        vectors = np.zeros((count, self.width), dtype=np.uint8)
        found = np.zeros(count, dtype=np.bool_)
        if not count:
            return vectors, found
        reader = reader or self.kv
        if heads is None:
            heads = self.heads(first, last, reader)
        elif len(heads) != count:
            raise ValueError(f"expected {count} heads, got {len(heads)}")
        expected, stored = _head_matrix(heads)
        self._read_rows(bit, first, last, reader, expected, stored, vectors, found)
        wanted = stored & ~found
        if wanted.any():
            lo, hi = np.flatnonzero(wanted)[[0, -1]].tolist()
            start, stop = schema.bloom_bits_range(bit, first + lo, first + hi)
            items = list(reader.iterate(start, stop))
            if items:
                _, sections, found_heads = schema.parse_bloom_bits_keys(list(map(_first, items)))
                offsets = sections - first
                current = (found_heads == expected[offsets]).all(axis=1) & wanted[offsets]
                blobs = [items[i][1] for i in np.flatnonzero(current).tolist()]
                try:
                    decoded = decompress_many(blobs, self.width, copy=False)
                except CompressionError as err:
                    raise CorruptDataError(
                        f"a stored vector of bloom bit {bit} in sections {first}..{last} is "
                        f"malformed ({err})"
                    ) from None
                vectors[offsets[current]] = decoded
                found[offsets[current]] = True
        return vectors, found

    def _read_rows(
        self,
        bit: int,
        first: int,
        last: int,
        reader: KeyValueReader,
        expected: U8,
        stored: npt.NDArray[np.bool_],
        vectors: U8,
        found: npt.NDArray[np.bool_],
    ) -> None:
        """Fill ``vectors``/``found`` from the current rows of ``bit`` covering the range."""
        size = self.group_size
        start, stop = schema.bloom_rows_range(bit, first // size, last // size)
        items = list(reader.iterate(start, stop))
        if not items:
            return
        _, groups, row_heads = schema.parse_bloom_row_keys(list(map(_first, items)))
        current: list[tuple[int, bytes]] = []
        for (_, value), group, row_head in zip(items, groups.tolist(), row_heads, strict=True):
            group_last = group * size + size - 1
            if group_last <= last:
                if not stored[group_last - first]:
                    continue
                head: bytes | None = expected[group_last - first].tobytes()
            else:  # the range ends inside the group: its head is beyond the heads given
                head = self.head(group_last, reader)
            if head == row_head.tobytes():  # else a row of sections since reorganised away
                current.append((group, value))
        if not current:
            return
        where = f"bloom bit {bit}, rows of sections {first}..{last}"
        rows = decode_rows([value for _, value in current], size, self.width, where)
        for (group, _), row in zip(current, rows, strict=True):
            group_first = group * size
            lo, hi = max(group_first, first), min(group_first + size - 1, last)
            vectors[lo - first : hi - first + 1] = row[lo - group_first : hi - group_first + 1]
            found[lo - first : hi - first + 1] = stored[lo - first : hi - first + 1]


def _head_matrix(heads: Heads) -> tuple[U8, npt.NDArray[np.bool_]]:
    """Heads as a ``(count, 32)`` byte matrix (zeros where not stored), and which are."""
    if isinstance(heads, np.ndarray):
        return heads, np.ones(len(heads), dtype=np.bool_)
    matrix = np.frombuffer(
        b"".join([h if h is not None else _NO_HEAD for h in heads]), dtype=np.uint8
    ).reshape(-1, _HASH_LENGTH)
    return matrix, np.array([h is not None for h in heads], dtype=np.bool_)
