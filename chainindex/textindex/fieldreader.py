"""Reading one term field of one segment: its dictionary, term metadata, postings, positions.

:class:`TermPostings` is one term's postings with the bulk operations the scorers use:

- :meth:`~TermPostings.read`: every posting (all blocks decoded in one vectorized pass);
- :meth:`~TermPostings.restrict`: only the postings of given candidate documents, decoding
  only the blocks whose skip entry (last doc) says they can hold a candidate: the bulk form
  of Lucene's ``PostingsEnum.advance`` over its skip list;
- :meth:`~TermPostings.positions`: the positions of chosen postings.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chainindex.textindex.arrays import I64, U8, Records
from chainindex.textindex.codec.compound import CompoundReader
from chainindex.textindex.codec.norms import NormsReader
from chainindex.textindex.codec.positions import decode_positions
from chainindex.textindex.codec.postings import BLOCK_DTYPE, BLOCK_SIZE, decode_blocks
from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.errors import IndexCorruptError
from chainindex.textindex.packed import PackedInts, ragged_ranges

__all__ = ["TERM_LIST_LIMIT", "FieldReader", "Postings", "TermPostings"]

TERM_LIST_LIMIT = 200_000
"""Fields with at most this many terms may keep them all in memory as strings."""


class Postings(NamedTuple):
    """Decoded postings of one term (aligned arrays)."""

    docs: I64
    """Documents, ascending."""
    freqs: I64
    """Occurrences in each document."""
    starts: I64
    """Index of each posting's first position in the field's positions stream."""


_EMPTY = Postings(*(np.zeros(0, dtype=np.int64) for _ in range(3)))


class FieldReader:
    """One term field of a segment."""

    def __init__(self, file: CompoundReader, index: int, name: str, meta: dict[str, Any]) -> None:
        self.name = name
        """Field name."""
        self.max_doc = int(file.meta["max_doc"])
        """Documents in the segment."""
        self.term_count = int(meta["terms"])
        """Distinct terms."""
        self.doc_count = int(meta["doc_count"])
        """Documents that have the field (deleted ones included)."""
        self.sum_ttf = int(meta["sum_ttf"])
        """Total terms of the field over all documents (deleted ones included)."""
        self.tokenized = bool(meta["tokenized"])
        """True when some value was analyzed text."""
        prefix = f"t.{index}."
        self._file = file
        self._prefix = prefix
        self._norms_meta = meta["norms"]
        self._norms_part = f"n.{index}"
        self._norms: NormsReader | None = None
        self._dict: TermDictionary | None = None
        self._term_list: list[str] | None = None
        widths = meta["meta_widths"]
        raw = file.part(prefix + "meta")
        columns: list[PackedInts] = []
        at = 0
        try:
            for column in ("df", "ttf", "first", "pos"):
                width = int(widths[column])
                columns.append(PackedInts(raw, at, self.term_count, width))
                at += width * self.term_count
        except ValueError as err:
            raise IndexCorruptError(f"{file.path}: field {name!r}: {err}") from None
        self.df, self.ttf, self.first, self.pos = columns
        self.blocks: Records = file.part(prefix + "blk").view(BLOCK_DTYPE)
        """The block table (skip data)."""
        self.doc_data = file.part(prefix + "doc")
        """Block data."""
        self.pos_data = file.part(prefix + "pos")
        """The positions stream."""
        self.pos_width = int(meta["pos_width"])
        """Byte width of the positions stream."""
        if len(self.blocks) != int(meta["blocks"]):
            raise IndexCorruptError(f"{file.path}: field {name!r}: block table size mismatch")

    @property
    def terms(self) -> TermDictionary:
        """The terms dictionary (its block index is loaded on first use)."""
        if self._dict is None:
            f, p = self._file, self._prefix
            self._dict = TermDictionary(
                f.part(p + "tim"),
                f.array(p + "tibo", "<i8"),
                f.array(p + "tifo", "<i8"),
                f.part(p + "tipb"),
                f.array(p + "tipo", "<i8"),
            )
        return self._dict

    @property
    def norms(self) -> NormsReader:
        """Field lengths per document."""
        if self._norms is None:
            self._norms = NormsReader(
                self._norms_meta, self._file.part(self._norms_part), self.max_doc
            )
        return self._norms

    def term_list(self) -> list[str] | None:
        """Every term as a string, in order, decoded once and kept (for term walks that skip
        a lot, such as fuzzy expansion); ``None`` for fields with more than
        :data:`TERM_LIST_LIMIT` terms (those are walked block by block)."""
        if self._term_list is None and self.term_count <= TERM_LIST_LIMIT:
            self._term_list = [t.decode("utf-8", "surrogatepass") for t, _ in self.terms.iterate()]
        return self._term_list

    def lookup(self, term: bytes) -> int:
        """Ordinal of a term, or -1."""
        return self.terms.lookup(term)

    def postings(self, ordinal: int) -> TermPostings:
        """The postings of the term with this ordinal."""
        return TermPostings(self, ordinal)

    def docs_of_terms(self, ordinals: I64) -> I64:
        """Documents of every posting of the given terms (unsorted, with repeats): the union
        of many terms' postings in one vectorized decode."""
        df = self.df.take(ordinals)
        ttf = self.ttf.take(ordinals)
        first = self.first.take(ordinals)
        inlined = (df == 1) & (ttf == 1)
        blocked = ~inlined
        ids = ragged_ranges(first[blocked], (df[blocked] + BLOCK_SIZE - 1) // BLOCK_SIZE)
        docs, _ = decode_blocks(self.blocks, self.doc_data, ids)
        return np.concatenate([first[inlined], docs])

    def positions(self, starts: I64, counts: I64) -> I64:
        """Positions of postings (their stream starts and frequencies), concatenated."""
        return decode_positions(self.pos_data, self.pos_width, starts, counts)


_VIEW = {1: "<u1", 2: "<u2", 4: "<u4"}


def _run(data: U8, start: int, count: int, width: int) -> I64 | None:
    """``count`` values of ``width`` bytes at ``start`` (``None`` for width 3)."""
    if width == 0:
        return np.zeros(count, dtype=np.int64)
    dtype = _VIEW.get(width)
    if dtype is None:
        return None
    return data[start : start + count * width].view(dtype).astype(np.int64)


def _contiguous(table: Records, data: U8, first: int, n: int) -> tuple[I64, I64] | None:
    """Docs and frequencies of ``n`` consecutive blocks of one term whose widths are all the
    same, decoded as whole runs (every block but the last holds 128 documents, so the blocks'
    bytes form a matrix): the common case, a few numpy calls whatever the length. ``None``
    when the blocks do not have that shape (the general decoder handles them)."""
    rows = table[first : first + n]
    dw, fw = int(rows["dw"][0]), int(rows["fw"][0])
    if n > 1 and ((rows["dw"] != dw).any() or (rows["fw"] != fw).any()):
        return None
    last = int(rows["count"][-1])
    start = int(rows["offset"][0])
    full = BLOCK_SIZE * (dw + fw)
    head = n - 1
    parts_d = []
    parts_f = []
    if head:
        matrix = data[start : start + head * full].reshape(head, full)
        d = _run(
            np.ascontiguousarray(matrix[:, : BLOCK_SIZE * dw]).reshape(-1), 0, head * BLOCK_SIZE, dw
        )
        f = _run(
            np.ascontiguousarray(matrix[:, BLOCK_SIZE * dw :]).reshape(-1), 0, head * BLOCK_SIZE, fw
        )
        if d is None or f is None:
            return None
        parts_d.append(d)
        parts_f.append(f)
    tail = start + head * full
    d = _run(data, tail, last, dw)
    f = _run(data, tail + last * dw, last, fw)
    if d is None or f is None:
        return None
    parts_d.append(d)
    parts_f.append(f)
    deltas = parts_d[0] if len(parts_d) == 1 else np.concatenate(parts_d)
    freqs = parts_f[0] if len(parts_f) == 1 else np.concatenate(parts_f)
    docs = int(rows["base"][0]) + np.cumsum(deltas + 1)
    return docs, freqs + 1


class TermPostings:
    """One term's postings in one segment."""

    __slots__ = ("df", "field", "first", "ordinal", "pos", "ttf")

    def __init__(self, field: FieldReader, ordinal: int) -> None:
        self.field = field
        """The field."""
        self.ordinal = ordinal
        """The term's ordinal."""
        self.df = field.df.get(ordinal)
        """Documents holding the term."""
        self.ttf = field.ttf.get(ordinal)
        """Total occurrences."""
        self.first = field.first.get(ordinal)
        """First block, or the only document when inlined."""
        self.pos = field.pos.get(ordinal)
        """First entry in the positions stream."""

    @property
    def inlined(self) -> bool:
        """True for a single posting of frequency one (kept in the term metadata)."""
        return self.df == 1 and self.ttf == 1

    @property
    def block_count(self) -> int:
        """Blocks of the term (0 when inlined)."""
        return 0 if self.inlined else (self.df + BLOCK_SIZE - 1) // BLOCK_SIZE

    def last_docs(self) -> I64:
        """Skip data: the last document of each of the term's blocks."""
        if self.inlined:
            return np.array([self.first], dtype=np.int64)
        table = self.field.blocks
        return table["last"][self.first : self.first + self.block_count].astype(np.int64)

    def read_blocks(self, local: I64) -> Postings:
        """The postings in the term's blocks number ``local`` (ascending)."""
        if self.inlined:
            one = np.array([self.first], dtype=np.int64)
            return Postings(one, np.ones(1, dtype=np.int64), np.array([self.pos], dtype=np.int64))
        ids = self.first + local
        table = self.field.blocks
        if len(ids) and ids[-1] - ids[0] == len(ids) - 1:
            fast = _contiguous(table, self.field.doc_data, int(ids[0]), len(ids))
            if fast is not None:
                docs, freqs = fast
                before = int(table["fbase"][ids[0]])
                starts = self.pos + before + np.cumsum(freqs) - freqs
                return Postings(docs, freqs, starts)
        docs, freqs = decode_blocks(table, self.field.doc_data, ids)
        counts = table["count"][ids].astype(np.int64)
        fbase = self.field.blocks["fbase"][ids].astype(np.int64)
        within = np.cumsum(freqs) - freqs
        block_start = np.cumsum(counts) - counts
        within -= np.repeat(within[block_start], counts)
        starts = self.pos + np.repeat(fbase, counts) + within
        return Postings(docs, freqs, starts)

    def read(self) -> Postings:
        """Every posting of the term."""
        return self.read_blocks(np.arange(self.block_count, dtype=np.int64))

    def restrict(self, candidates: I64) -> Postings:
        """The postings whose document is in ``candidates`` (sorted, distinct)."""
        if len(candidates) == 0:
            return _EMPTY
        last = self.last_docs()
        where = np.searchsorted(last, candidates, side="left")
        needed = np.unique(where[where < len(last)])
        if len(needed) == 0:
            return _EMPTY
        got = self.read_blocks(needed)
        at = np.searchsorted(candidates, got.docs)
        at[at == len(candidates)] = 0
        keep = candidates[at] == got.docs
        return Postings(got.docs[keep], got.freqs[keep], got.starts[keep])

    def positions(self, postings: Postings) -> I64:
        """The positions of the given postings, concatenated (``freqs`` each)."""
        return self.field.positions(postings.starts, postings.freqs)
