"""Bloom sections on disk: compressed bit-vectors, section heads and the section count.

Sections are stored in order, each in the caller's atomic batch together with whatever else
that commit writes, so that the count, the heads and the vectors can never disagree. Vectors
are keyed by the section's head hash (geth's layout): a vector whose head is not the stored
head of its section belongs to a block range since reorganised away and is never returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import numpy as np
import numpy.typing as npt
from eth_typing import Hash32

from bloombits.bitutil import compress_many
from bloombits.bloom import BLOOM_BIT_LENGTH
from chainindex.errors import ConfigMismatchError, CorruptDataError
from chainindex.store import schema
from chainindex.store.kv import KeyValueReader, KeyValueStore, WriteBatch

__all__ = ["SectionStore"]

_HASH_LENGTH = 32
_first, _second = itemgetter(0), itemgetter(1)
_NO_HEAD = bytes(_HASH_LENGTH)
"""Stands in for the head of a section not stored (such a section's vectors are ignored)."""


class SectionStore:
    """Reads and writes bloom sections of a fixed size in a key-value store."""

    def __init__(self, kv: KeyValueStore, section_size: int) -> None:
        """Bind to ``kv``, fixing its section size on first use and checking it afterwards."""
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
        """Add the next section to ``batch``: its 2048 vectors (compressed), head and count.

        ``section`` must be the current count: sections are stored in order.
        """
        if vectors.shape != (BLOOM_BIT_LENGTH, self.section_size // 8):
            raise ValueError(f"expected vectors of shape (2048, {self.section_size // 8})")
        if len(head) != _HASH_LENGTH:
            raise ValueError("a section head is a 32-byte hash")
        if section != (count := self.count()):
            raise ValueError(f"section {section} written out of order: {count} stored")
        for bit, blob in enumerate(compress_many(vectors)):
            batch.put(schema.bloom_bits_key(bit, section, head), blob)
        batch.put(schema.section_head_key(section), head)
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(section + 1))

    def truncate(self, batch: WriteBatch, count: int) -> None:
        """Add to ``batch`` the removal of every section from ``count`` on."""
        stored = self.count()
        if count >= stored:
            return
        for section, head in enumerate(self.heads(count, stored - 1), start=count):
            if head is None:
                raise CorruptDataError(f"section {section} is counted but has no head")
            for bit in range(BLOOM_BIT_LENGTH):
                batch.delete(schema.bloom_bits_key(bit, section, head))
            batch.delete(schema.section_head_key(section))
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(count))

    def read_bit_vectors(
        self,
        bit: int,
        first: int,
        last: int,
        reader: KeyValueReader | None = None,
        *,
        heads: Sequence[Hash32 | None] | npt.NDArray[np.uint8] | None = None,
    ) -> list[bytes | None]:
        """Compressed vectors of bloom bit ``bit`` for sections ``first..last``.

        One range scan over the vectors (and one over the heads, unless the caller passes
        ``heads``: the heads of ``first..last`` read from the same state of the store, as
        :meth:`heads` returns them or, when all those sections are stored, as a
        ``(count, 32)`` byte matrix). A section not stored, or whose only vector is under a
        stale head, gives None.
        """
        if not 0 <= bit < BLOOM_BIT_LENGTH:
            raise ValueError(f"bloom bit {bit} out of range")
        if last < first:
            return []
        reader = reader or self.kv
        if heads is None:
            heads = self.heads(first, last, reader)
        elif len(heads) != last - first + 1:
            raise ValueError(f"expected {last - first + 1} heads, got {len(heads)}")
        out: list[bytes | None] = [None] * (last - first + 1)
        start, stop = schema.bloom_bits_range(bit, first, last)
        items = list(reader.iterate(start, stop))
        if not items:
            return out
        values: list[bytes | None] = list(map(_second, items))
        _, found, found_heads = schema.parse_bloom_bits_keys(list(map(_first, items)))
        offsets = found - first
        if isinstance(heads, np.ndarray):
            current = (found_heads == heads[offsets]).all(axis=1)
        else:
            expected = np.frombuffer(
                b"".join([h if h is not None else _NO_HEAD for h in heads]), dtype=np.uint8
            ).reshape(-1, _HASH_LENGTH)
            stored = np.array([h is not None for h in heads], dtype=np.bool_)
            current = (found_heads == expected[offsets]).all(axis=1) & stored[offsets]
        if len(items) == len(out) and current.all():
            # Every section stored, each once, under its head: keys came in section order.
            return values
        indexes = np.flatnonzero(current).tolist()
        for index, offset in zip(indexes, offsets[current].tolist(), strict=True):
            out[offset] = values[index]
        return out
