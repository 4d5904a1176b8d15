"""Merging segments into one (Lucene's SegmentMerger: mergeFields, mergeTerms, mergeNorms).

Deleted documents are dropped and the survivors renumbered in order, segment after segment
(a doc map per source segment says where each document went, -1 for deleted). For each term
field, every source's postings are decoded in bulk, mapped through the doc maps, regrouped
under the merged (sorted, deduplicated) term list and written by the same encoder a flush
uses. Points, doc values, norms and stored records follow the same doc maps.

The merge can be aborted between steps (the writer closing): the partial file is removed and
nothing else has changed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from chainindex.textindex.arrays import I64, Mask
from chainindex.textindex.codec.points import merge_points
from chainindex.textindex.codec.postings import BLOCK_SIZE, decode_blocks
from chainindex.textindex.codec.storedfields import StoredFieldsWriter
from chainindex.textindex.errors import TextIndexError
from chainindex.textindex.fieldreader import FieldReader
from chainindex.textindex.packed import ragged_ranges
from chainindex.textindex.segmentdata import FieldInput, SegmentInputs
from chainindex.textindex.segmentreader import SegmentReader
from chainindex.textindex.segmentwriter import write_segment

__all__ = ["MergeAbortedError", "doc_maps", "merge_segments"]

Source = tuple[SegmentReader, Mask | None]


class MergeAbortedError(TextIndexError):
    """The merge was stopped before it finished (its partial output is gone)."""


def doc_maps(sources: list[Source]) -> tuple[list[I64], int]:
    """For each source, new number of each document (-1 if deleted); and the merged size."""
    maps = []
    base = 0
    for segment, live in sources:
        alive = np.ones(segment.max_doc, dtype=bool) if live is None else live
        new = np.where(alive, np.cumsum(alive) - 1 + base, -1).astype(np.int64)
        maps.append(new)
        base += int(np.count_nonzero(alive))
    return maps, base


def _all_postings(field: FieldReader) -> tuple[list[bytes], I64, I64, I64, I64]:
    """Every posting of a field: terms, and per posting term ordinal, doc, freq, start."""
    terms = [t for t, _ in field.terms.iterate()]
    n = len(terms)
    ords = np.arange(n, dtype=np.int64)
    df = field.df.take(ords)
    ttf = field.ttf.take(ords)
    first = field.first.take(ords)
    pos = field.pos.take(ords)
    inlined = (df == 1) & (ttf == 1)
    nblocks = np.where(inlined, 0, (df + BLOCK_SIZE - 1) // BLOCK_SIZE)
    ids = ragged_ranges(first[~inlined], nblocks[~inlined])
    docs_b, freqs_b = decode_blocks(field.blocks, field.doc_data, ids)
    term_of_block = np.repeat(ords[~inlined], nblocks[~inlined])
    counts = field.blocks["count"][ids].astype(np.int64)
    term_b = np.repeat(term_of_block, counts)
    # Postings in term order: inlined terms hold one posting, blocked terms df postings.
    term_all = np.concatenate([ords[inlined], term_b])
    docs_all = np.concatenate([first[inlined], docs_b])
    freqs_all = np.concatenate([np.ones(int(inlined.sum()), dtype=np.int64), freqs_b])
    order = np.argsort(term_all, kind="stable")
    term_all, docs_all, freqs_all = term_all[order], docs_all[order], freqs_all[order]
    term_start = np.cumsum(df) - df
    within = np.cumsum(freqs_all) - freqs_all
    within -= np.repeat(within[term_start[df > 0]], df[df > 0])
    starts = np.repeat(pos, df) + within
    return terms, term_all, docs_all, freqs_all, starts


def _merge_field(
    name: str, sources: list[Source], maps: list[I64], max_doc: int
) -> FieldInput | None:
    parts = []
    tokenized = False
    lengths = np.zeros(max_doc, dtype=np.int64)
    for (segment, _), doc_map in zip(sources, maps, strict=True):
        field = segment.field(name)
        if field is None:
            continue
        tokenized = tokenized or field.tokenized
        kept = doc_map >= 0
        lengths[doc_map[kept]] = field.norms.all_lengths()[kept]
        terms, term_ids, docs, freqs, starts = _all_postings(field)
        new_docs = doc_map[docs]
        live = new_docs >= 0
        positions = field.positions(starts[live], freqs[live])
        parts.append((terms, term_ids[live], new_docs[live], freqs[live], positions))
    if not parts:
        return None
    merged_terms = sorted(set().union(*(p[0] for p in parts)))
    index = {t: i for i, t in enumerate(merged_terms)}
    term_ids = np.concatenate(
        [np.array([index[t] for t in p[0]], dtype=np.int64)[p[1]] for p in parts]
    )
    docs = np.concatenate([p[2] for p in parts])
    freqs = np.concatenate([p[3] for p in parts])
    positions = np.concatenate([p[4] for p in parts])
    order = np.argsort(term_ids, kind="stable")
    offsets = np.cumsum(freqs) - freqs
    positions = positions[ragged_ranges(offsets[order], freqs[order])]
    term_ids, docs, freqs = term_ids[order], docs[order], freqs[order]
    present = np.unique(term_ids)
    if len(present) != len(merged_terms):  # terms whose every document was deleted
        remap = np.full(len(merged_terms), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        term_ids = remap[term_ids]
        merged_terms = [merged_terms[i] for i in present.tolist()]
    return FieldInput(merged_terms, term_ids, docs, freqs, positions, lengths, tokenized)


def _check(abort: threading.Event | None) -> None:
    if abort is not None and abort.is_set():
        raise MergeAbortedError("merge aborted")


def merge_segments(
    sources: list[Source], path: Path, name: str, abort: threading.Event | None = None
) -> tuple[dict[str, Any], list[I64]]:
    """Write the merge of ``sources`` (segments with their live docs) as segment ``name``."""
    maps, max_doc = doc_maps(sources)
    for segment, _ in sources:
        segment.file.verify()
    _check(abort)
    fields: dict[str, FieldInput] = {}
    for field_name in sorted({f for s, _ in sources for f in s.field_names}):
        merged = _merge_field(field_name, sources, maps, max_doc)
        if merged is not None:
            fields[field_name] = merged
        _check(abort)
    points = {}
    for point_name in sorted({p for s, _ in sources for p in s.point_names}):
        parts = []
        for (segment, _), doc_map in zip(sources, maps, strict=True):
            reader = segment.points(point_name)
            if reader is None:
                continue
            new_docs = doc_map[reader.docs.astype(np.int64)]
            keep = new_docs >= 0
            parts.append((reader.encoding, reader.values[keep], new_docs[keep]))
        if parts:
            points[point_name] = merge_points(parts)
    _check(abort)
    doc_values = {}
    for column_name in sorted({c for s, _ in sources for c in s.doc_value_names}):
        column = np.zeros(max_doc, dtype=np.int64)
        for (segment, _), doc_map in zip(sources, maps, strict=True):
            values = segment.doc_values(column_name)
            if values is not None:
                kept = doc_map >= 0
                column[doc_map[kept]] = values[kept]
        doc_values[column_name] = column
    stored = StoredFieldsWriter()
    for (segment, _), doc_map in zip(sources, maps, strict=True):
        for doc in np.flatnonzero(doc_map >= 0).tolist():
            stored.add(segment.stored(doc))
        _check(abort)
    inputs = SegmentInputs(max_doc, fields, {}, doc_values, stored.finish())
    meta = write_segment(path, name, inputs, encoded_points=points)
    return meta, maps
