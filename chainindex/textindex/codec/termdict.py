"""The terms dictionary: a field's sorted terms in prefix-sharing blocks (after
Lucene's ``BlockTreeTermsWriter``).

Lucene's BlockTreeTermsWriter groups consecutive terms that share a prefix into blocks of 25
to 48 entries (``minItemsInBlock``/``maxItemsInBlock``), writes each block as the shared
prefix once plus the suffixes (``.tim``), and keeps a small index over the blocks in memory
(``.tip``, an FST). The same idea here:

- blocks hold :data:`MIN_ITEMS`..:data:`MAX_ITEMS` terms; a block is cut, within that window,
  where the next term shares the shortest prefix with the previous one, so that blocks follow
  prefix boundaries (floor blocks of a long shared prefix fall out of the same rule);
- a block is ``count u8 · prefix length u8 · prefix · count × suffix length u16 · suffixes``;
- the in-memory index is each block's first term (binary-searched with :mod:`bisect`, a
  sorted array standing in for the FST) and the ordinal of its first term.

A term's **ordinal** (its rank in the field) addresses its metadata and postings. Lookups
decode one block; ordered enumeration (prefix, range, wildcard, regexp and fuzzy expansion)
walks blocks from a seek point, and :meth:`TermsEnum.seek_ceil` lets an enumeration skip over
whole subtrees of terms (the fuzzy walk prunes prefixes that cannot match).
"""

from __future__ import annotations

import struct
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import numpy as np

from chainindex.textindex.arrays import I64, U8
from chainindex.textindex.errors import IndexCorruptError

__all__ = ["MAX_ITEMS", "MIN_ITEMS", "EncodedTerms", "TermDictionary", "TermsEnum", "encode_terms"]

MIN_ITEMS = 25
"""Fewest terms in a block (except the last one)."""
MAX_ITEMS = 48
"""Most terms in a block."""
_LCP_CAP = 64
"""Shared prefixes are measured (and stored) up to this many bytes."""
_CACHE_BLOCKS = 512
"""Decoded blocks kept per field."""


class EncodedTerms:
    """A field's terms dictionary, encoded: blocks plus the block index."""

    __slots__ = ("blocks", "first_ords", "index_blob", "index_offsets", "offsets")

    def __init__(
        self,
        blocks: bytes,
        offsets: I64,
        first_ords: I64,
        index_blob: bytes,
        index_offsets: I64,
    ) -> None:
        self.blocks = blocks
        """All blocks, concatenated (``.tim``)."""
        self.offsets = offsets
        """Byte offset of each block, plus the end."""
        self.first_ords = first_ords
        """Ordinal of each block's first term, plus the term count."""
        self.index_blob = index_blob
        """First term of each block, concatenated (``.tip``)."""
        self.index_offsets = index_offsets
        """Offsets into ``index_blob``, plus the end."""


def _consecutive_lcp(terms: Sequence[bytes]) -> I64:
    """Length of the common prefix of each term and the next (capped at ``_LCP_CAP``)."""
    n = len(terms)
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    lengths = np.fromiter((len(t) for t in terms), dtype=np.int64, count=n)
    cut = [t[:_LCP_CAP] for t in terms]
    width = max(1, int(min(lengths.max(), _LCP_CAP)))
    matrix = np.zeros((n, width), dtype=np.uint8)
    flat = np.frombuffer(b"".join(c.ljust(width, b"\x00") for c in cut), dtype=np.uint8)
    matrix[:] = flat.reshape(n, width)
    differ = matrix[1:] != matrix[:-1]
    first_diff = np.where(differ.any(axis=1), differ.argmax(axis=1), width)
    return np.minimum(first_diff, np.minimum(lengths[1:], lengths[:-1])).astype(np.int64)


def encode_terms(terms: Sequence[bytes]) -> EncodedTerms:
    """Encode sorted, distinct terms (each at most 65535 bytes)."""
    n = len(terms)
    lcp = _consecutive_lcp(terms)
    out = bytearray()
    offsets = [0]
    first_ords = [0]
    index_parts: list[bytes] = []
    start = 0
    while start < n:
        if n - start <= MAX_ITEMS:
            end = n
        else:
            window = lcp[start + MIN_ITEMS - 1 : start + MAX_ITEMS]
            end = start + MIN_ITEMS + int(np.argmin(window))
        block = terms[start:end]
        prefix_len = int(lcp[start : end - 1].min()) if end - start > 1 else 0
        prefix = block[0][:prefix_len]
        suffixes = [t[prefix_len:] for t in block]
        out += struct.pack("<BB", end - start, prefix_len)
        out += prefix
        out += np.array([len(s) for s in suffixes], dtype="<u2").tobytes()
        out += b"".join(suffixes)
        offsets.append(len(out))
        first_ords.append(end)
        index_parts.append(block[0])
        start = end
    index_offsets = np.zeros(len(index_parts) + 1, dtype=np.int64)
    index_offsets[1:] = np.cumsum([len(p) for p in index_parts])
    return EncodedTerms(
        bytes(out),
        np.array(offsets, dtype=np.int64),
        np.array(first_ords, dtype=np.int64),
        b"".join(index_parts),
        index_offsets,
    )


class TermDictionary:
    """Reads one field's terms dictionary."""

    def __init__(
        self,
        blocks: U8,
        offsets: I64,
        first_ords: I64,
        index_blob: U8,
        index_offsets: I64,
    ) -> None:
        self._blocks = blocks
        self._offsets = offsets
        self._first_ords = first_ords
        blob = index_blob.tobytes()
        bounds = index_offsets.tolist()
        self._first_terms: list[bytes] = [
            blob[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)
        ]
        self._cache: OrderedDict[int, list[bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = int(first_ords[-1]) if len(first_ords) else 0
        """Number of terms."""
        if len(offsets) != len(self._first_terms) + 1 or len(first_ords) != len(offsets):
            raise IndexCorruptError("inconsistent terms dictionary index")

    @property
    def block_count(self) -> int:
        """Number of blocks."""
        return len(self._first_terms)

    def block(self, index: int) -> list[bytes]:
        """The terms of block ``index`` (decoded once, then cached)."""
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
        at = int(self._offsets[index])
        raw = self._blocks[at : int(self._offsets[index + 1])].tobytes()
        try:
            count, prefix_len = struct.unpack_from("<BB", raw, 0)
            prefix = raw[2 : 2 + prefix_len]
            lengths_at = 2 + prefix_len
            lengths = np.frombuffer(raw, dtype="<u2", count=count, offset=lengths_at).tolist()
        except (struct.error, ValueError):
            raise IndexCorruptError("damaged terms block") from None
        cursor = lengths_at + 2 * count
        terms = []
        for length in lengths:
            terms.append(prefix + raw[cursor : cursor + length])
            cursor += length
        if cursor != len(raw):
            raise IndexCorruptError("damaged terms block")
        with self._lock:
            self._cache[index] = terms
            if len(self._cache) > _CACHE_BLOCKS:
                self._cache.popitem(last=False)
        return terms

    def first_ord(self, block: int) -> int:
        """Ordinal of the first term of a block."""
        return int(self._first_ords[block])

    def lookup(self, term: bytes) -> int:
        """The ordinal of ``term``, or -1 when the field does not have it."""
        b = bisect_right(self._first_terms, term) - 1
        if b < 0:
            return -1
        terms = self.block(b)
        i = bisect_left(terms, term)
        if i < len(terms) and terms[i] == term:
            return self.first_ord(b) + i
        return -1

    def seek(self, term: bytes) -> tuple[int, int]:
        """``(block, index)`` of the first term >= ``term`` (block == count when none)."""
        b = max(0, bisect_right(self._first_terms, term) - 1)
        if b >= self.block_count:
            return self.block_count, 0
        terms = self.block(b)
        i = bisect_left(terms, term)
        if i == len(terms):
            return b + 1, 0
        return b, i

    def term(self, ordinal: int) -> bytes:
        """The term of an ordinal."""
        if not 0 <= ordinal < self.size:
            raise IndexError(ordinal)
        b = int(np.searchsorted(self._first_ords, ordinal, side="right")) - 1
        return self.block(b)[ordinal - self.first_ord(b)]

    def iterate(self, start: bytes = b"") -> Iterator[tuple[bytes, int]]:
        """``(term, ordinal)`` for every term >= ``start``, in order."""
        b, i = self.seek(start)
        while b < self.block_count:
            terms = self.block(b)
            base = self.first_ord(b)
            for j in range(i, len(terms)):
                yield terms[j], base + j
            b, i = b + 1, 0

    def enum(self) -> TermsEnum:
        """A seekable enumeration over the terms."""
        return TermsEnum(self)


class TermsEnum:
    """A cursor over a field's terms in order, which can jump forward with :meth:`seek_ceil`."""

    def __init__(self, terms: TermDictionary) -> None:
        self._dict = terms
        self._count = terms.block_count
        self._block = 0
        self._index = -1
        self._base = 0
        self._terms: list[bytes] = terms.block(0) if self._count else []
        self.term: bytes | None = None
        """The current term (``None`` before the first move and after the last term)."""
        self.ordinal = -1
        """The current term's ordinal."""

    def _load(self, block: int) -> None:
        self._block = block
        if block < self._count:
            self._terms = self._dict.block(block)
            self._base = self._dict.first_ord(block)

    def _settle(self) -> bytes | None:
        while self._block < self._count and self._index >= len(self._terms):
            self._load(self._block + 1)
            self._index = 0
        if self._block >= self._count:
            self.term, self.ordinal = None, -1
            return None
        self.term = self._terms[self._index]
        self.ordinal = self._base + self._index
        return self.term

    def next(self) -> bytes | None:
        """Move to the next term; ``None`` past the last."""
        self._index += 1
        if self._index < len(self._terms):
            self.term = self._terms[self._index]
            self.ordinal = self._base + self._index
            return self.term
        return self._settle()

    def seek_ceil(self, target: bytes) -> bytes | None:
        """Move to the first term >= ``target`` (never backwards); ``None`` if none."""
        if self.term is not None and target <= self.term:
            return self.term
        terms = self._terms
        if self.term is not None and terms and target <= terms[-1]:
            # Within the current block: a bisect, no index lookup.
            self._index = bisect_left(terms, target, self._index)
            return self._settle()
        block, self._index = self._dict.seek(target)
        self._load(block)
        return self._settle()
