"""Postings: which documents hold a term, how often, at which positions (Lucene's .doc/.pos,
``Lucene90PostingsFormat``).

Layout, per field of a segment:

- A term with one posting of frequency one (most hashes and addresses) is **inlined** in its
  term metadata: no block at all (Lucene's "pulsing").
- Every other term has its postings cut into **blocks of** :data:`BLOCK_SIZE` documents. A block
  stores doc-id deltas (``doc - previous doc - 1``, the first relative to the last doc of the
  previous block) and ``frequency - 1``, each as fixed-width little-endian integers whose
  width (0..4 bytes) is chosen per block; width 0 means all zero (a run of consecutive
  documents, or all frequencies one) and takes no byte at all.
- The **block table** (one row per block, see :data:`BLOCK_DTYPE`) is the skip data: the last
  doc of each block lets
  :meth:`~chainindex.textindex.fieldreader.TermPostings.restrict` skip blocks without
  decoding them (Lucene's skip list, ``Lucene90SkipWriter``), and the
  whole table lets a set of blocks be decoded together in one vectorized pass.
- **Positions** of all postings of a field form one stream of deltas (first position of a
  posting absolute), at one width per field; a term's positions start at its ``pos`` entry and
  a block's at ``pos + fbase`` (the frequencies before it in the term).

Decoding never loops in Python over documents: blocks are gathered by width class, combined
with ``view``, and turned into doc ids by a segmented cumulative sum (the inverse of the
delta coding of ``Lucene90PostingsFormat``'s doc blocks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainindex.textindex.arrays import I64, U8, Records
from chainindex.textindex.packed import ragged_ranges

__all__ = [
    "BLOCK_DTYPE",
    "BLOCK_SIZE",
    "EncodedPostings",
    "decode_blocks",
    "encode_postings",
    "segmented_cumsum",
    "widths_of",
]


BLOCK_SIZE = 128
"""Documents per postings block (Lucene's block size)."""

BLOCK_DTYPE = np.dtype(
    [
        ("last", "<i4"),
        ("base", "<i4"),
        ("offset", "<u4"),
        ("fbase", "<u4"),
        ("count", "u1"),
        ("dw", "u1"),
        ("fw", "u1"),
        ("pad", "u1"),
    ]
)
"""One row of the block table: last doc of the block; doc before its first (-1 at a term's
start); byte offset of its data; frequencies of the term before it; documents in it (1..128);
byte widths of its deltas and of its frequencies."""


def widths_of(max_values: I64) -> U8:
    """Vectorized byte width (0..4) for values up to ``max_values`` (each < 2**32)."""
    return np.select(
        [max_values == 0, max_values < 1 << 8, max_values < 1 << 16, max_values < 1 << 24],
        [0, 1, 2, 3],
        4,
    ).astype(np.uint8)


def segmented_cumsum(values: I64, counts: I64) -> I64:
    """Cumulative sums restarting at each segment (segments of the given lengths)."""
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    nonempty = counts > 0
    before = np.zeros(len(counts), dtype=np.int64)
    before[nonempty] = total[starts[nonempty]] - values[starts[nonempty]]
    return total - np.repeat(before, counts)


@dataclass(frozen=True, slots=True)
class EncodedPostings:
    """The postings of one field, encoded."""

    df: I64
    """Per term: number of documents."""
    ttf: I64
    """Per term: total frequency (sum over its documents)."""
    first: I64
    """Per term: index of its first block, or its only doc when inlined (df 1, ttf 1)."""
    pos: I64
    """Per term: index of its first entry in the field's positions stream."""
    blocks: Records
    """The block table (rows of :data:`BLOCK_DTYPE`)."""
    data: bytes
    """The block data (deltas then frequencies of each block)."""


def _scatter_values(out: U8, dest: I64, values: I64, widths: I64) -> None:
    """Write each value little-endian at ``dest`` with its own byte width."""
    raw = values.astype("<u8").view(np.uint8).reshape(-1, 8)
    for width in (1, 2, 3, 4):
        sel = np.flatnonzero(widths == width)
        if len(sel) == 0:
            continue
        where = (dest[sel][:, None] + np.arange(width, dtype=np.int64)).ravel()
        out[where] = raw[sel, :width].ravel()


def encode_postings(terms: I64, docs: I64, freqs: I64, n_terms: int) -> EncodedPostings:
    """Encode postings given term-major: ``terms`` non-decreasing term ordinals (every ordinal
    below ``n_terms`` present), ``docs`` ascending within a term, ``freqs`` >= 1."""
    n = len(docs)
    df = np.bincount(terms, minlength=n_terms).astype(np.int64)
    term_start = np.cumsum(df) - df
    freq_sum = np.cumsum(freqs)
    ttf = np.zeros(n_terms, dtype=np.int64)
    present = df > 0
    ttf[present] = freq_sum[term_start[present] + df[present] - 1] - (
        freq_sum[term_start[present]] - freqs[term_start[present]]
    )
    pos = np.cumsum(ttf) - ttf
    inlined = (df == 1) & (ttf == 1)
    blocked = ~inlined

    prev = np.empty(n, dtype=np.int64)
    prev[0:1] = -1
    prev[1:] = docs[:-1]
    prev[term_start[present]] = -1
    deltas = docs - prev - 1
    index_in_term = np.arange(n, dtype=np.int64) - np.repeat(term_start, df)

    blocks_per_term = np.where(blocked, (df + BLOCK_SIZE - 1) // BLOCK_SIZE, 0)
    first_block = np.cumsum(blocks_per_term) - blocks_per_term
    first = np.where(inlined, 0, first_block)
    if inlined.any():
        first[inlined] = docs[term_start[inlined]]

    in_block = np.repeat(blocked, df)
    sel = np.flatnonzero(in_block)
    n_blocks = int(blocks_per_term.sum())
    blocks = np.zeros(n_blocks, dtype=BLOCK_DTYPE)
    if n_blocks == 0:
        return EncodedPostings(df, ttf, first, pos, blocks, b"")
    term_of = terms[sel]
    block_of = first_block[term_of] + index_in_term[sel] // BLOCK_SIZE
    counts = np.bincount(block_of, minlength=n_blocks).astype(np.int64)
    block_first = np.cumsum(counts) - counts  # index into sel
    d_sel, f_sel = deltas[sel], freqs[sel] - 1
    dw = widths_of(np.maximum.reduceat(d_sel, block_first)).astype(np.int64)
    fw = widths_of(np.maximum.reduceat(f_sel, block_first)).astype(np.int64)
    sizes = counts * (dw + fw)
    offsets = np.cumsum(sizes) - sizes
    if int(offsets[-1] + sizes[-1]) >= 1 << 32:
        raise ValueError("postings of one field exceed 4 GiB in one segment")

    first_posting = sel[block_first]
    term_cum_before = (freq_sum - freqs)[first_posting] - (freq_sum - freqs)[
        term_start[term_of[block_first]]
    ]
    blocks["last"] = docs[sel[block_first + counts - 1]]
    blocks["base"] = prev[first_posting]
    blocks["offset"] = offsets
    blocks["fbase"] = term_cum_before
    blocks["count"] = counts
    blocks["dw"] = dw
    blocks["fw"] = fw

    data = np.zeros(int(offsets[-1] + sizes[-1]), dtype=np.uint8)
    slot = np.arange(len(sel), dtype=np.int64) - np.repeat(block_first, counts)
    b_dw, b_fw = dw[block_of], fw[block_of]
    _scatter_values(data, offsets[block_of] + slot * b_dw, d_sel, b_dw)
    _scatter_values(data, offsets[block_of] + counts[block_of] * b_dw + slot * b_fw, f_sel, b_fw)
    return EncodedPostings(df, ttf, first, pos, blocks, data.tobytes())


def _gather(
    data: U8,
    starts: I64,
    counts: I64,
    widths: I64,
    out_starts: I64,
    out: I64,
) -> None:
    """Decode, for each block, ``counts`` values of ``widths`` bytes at ``starts`` into ``out``
    at ``out_starts``; width-0 blocks are left as they are (zeros)."""
    for width in (1, 2, 3, 4):
        sel = np.flatnonzero(widths == width)
        if len(sel) == 0:
            continue
        src = ragged_ranges(starts[sel], counts[sel] * width)
        raw = np.ascontiguousarray(data[src])
        if width == 1:
            values = raw.astype(np.int64)
        elif width == 2:
            values = raw.view("<u2").astype(np.int64)
        elif width == 4:
            values = raw.view("<u4").astype(np.int64)
        else:
            g = raw.reshape(-1, 3).astype(np.int64)
            values = g[:, 0] | (g[:, 1] << 8) | (g[:, 2] << 16)
        out[ragged_ranges(out_starts[sel], counts[sel])] = values


def decode_blocks(table: Records, data: U8, block_ids: I64) -> tuple[I64, I64]:
    """Doc ids and frequencies of the given blocks, concatenated in the order given."""
    rows = table[block_ids]
    counts = rows["count"].astype(np.int64)
    total = int(counts.sum())
    out_starts = np.cumsum(counts) - counts
    offsets = rows["offset"].astype(np.int64)
    dw = rows["dw"].astype(np.int64)
    fw = rows["fw"].astype(np.int64)
    deltas = np.zeros(total, dtype=np.int64)
    _gather(data, offsets, counts, dw, out_starts, deltas)
    docs = segmented_cumsum(deltas + 1, counts) + np.repeat(rows["base"].astype(np.int64), counts)
    freqs = np.zeros(total, dtype=np.int64)
    if (fw > 0).any():
        _gather(data, offsets + counts * dw, counts, fw, out_starts, freqs)
    return docs, freqs + 1
