"""Writing one segment file from :class:`~chainindex.textindex.segmentdata.SegmentInputs`.

The part names inside the compound file (``t.<i>.*`` for term field ``i`` in name order,
``n.<i>`` its norms, ``p.<j>.*`` points, ``v.<k>`` doc values, ``s.*`` stored records) and
the metadata in its table of contents are read back by
:class:`~chainindex.textindex.segmentreader.SegmentReader`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chainindex.textindex.arrays import I32, Values
from chainindex.textindex.codec.compound import CompoundWriter
from chainindex.textindex.codec.docvalues import encode_doc_values
from chainindex.textindex.codec.norms import encode_norms
from chainindex.textindex.codec.points import encode_points
from chainindex.textindex.codec.positions import encode_positions
from chainindex.textindex.codec.postings import encode_postings
from chainindex.textindex.codec.termdict import encode_terms
from chainindex.textindex.packed import PackedInts
from chainindex.textindex.segmentdata import FieldInput, SegmentInputs

__all__ = ["FORMAT", "write_segment"]

FORMAT = 1
"""Segment format version (in every segment's metadata)."""

TERM_META_COLUMNS = ("df", "ttf", "first", "pos")
"""The packed per-term columns, in the order they are stored."""


def _write_field(out: CompoundWriter, i: int, field: FieldInput) -> dict[str, Any]:
    n_terms = len(field.terms)
    encoded = encode_postings(field.term_ids, field.docs, field.freqs, n_terms)
    terms = encode_terms(field.terms)
    pos_width, pos_bytes = encode_positions(field.positions, field.freqs)
    widths = []
    columns = []
    for column in (encoded.df, encoded.ttf, encoded.first, encoded.pos):
        width, raw = PackedInts.encode(column)
        widths.append(width)
        columns.append(raw)
    norms_meta, norms_bytes = encode_norms(field.lengths)
    prefix = f"t.{i}."
    out.add(prefix + "tim", terms.blocks)
    out.add(prefix + "tibo", terms.offsets.astype("<i8"))
    out.add(prefix + "tifo", terms.first_ords.astype("<i8"))
    out.add(prefix + "tipb", terms.index_blob)
    out.add(prefix + "tipo", terms.index_offsets.astype("<i8"))
    out.add(prefix + "meta", b"".join(columns))
    out.add(prefix + "blk", encoded.blocks)
    out.add(prefix + "doc", encoded.data)
    out.add(prefix + "pos", pos_bytes)
    out.add(f"n.{i}", norms_bytes)
    return {
        "terms": n_terms,
        "blocks": len(encoded.blocks),
        "doc_count": int(np.count_nonzero(field.lengths)),
        "sum_ttf": int(field.lengths.sum()),
        "tokenized": field.tokenized,
        "meta_widths": dict(zip(TERM_META_COLUMNS, widths, strict=True)),
        "pos_width": pos_width,
        "norms": norms_meta,
    }


EncodedPoints = dict[str, tuple[str, Values, I32]]


def write_segment(
    path: Path, name: str, inputs: SegmentInputs, encoded_points: EncodedPoints | None = None
) -> dict[str, Any]:
    """Write the segment file durably; returns its metadata (also in its table of contents).

    ``encoded_points`` gives point fields already sorted and encoded (a merge has them so),
    in addition to the raw ``inputs.points``.
    """
    out = CompoundWriter(path)
    try:
        fields_meta: dict[str, Any] = {}
        for i, field_name in enumerate(sorted(inputs.fields)):
            fields_meta[field_name] = _write_field(out, i, inputs.fields[field_name])
        points = dict(encoded_points or {})
        for field_name, (values, docs) in inputs.points.items():
            points[field_name] = encode_points(values, docs)
        points_meta: dict[str, Any] = {}
        for j, field_name in enumerate(sorted(points)):
            encoding, sorted_values, sorted_docs = points[field_name]
            out.add(f"p.{j}.v", sorted_values.astype("<i8") if encoding == "i64" else sorted_values)
            out.add(f"p.{j}.d", sorted_docs.astype("<i4"))
            column = inputs.doc_values.get(field_name)
            mirrored = (
                encoding == "i64"
                and column is not None
                and len(np.unique(sorted_docs)) == len(sorted_docs)
                and bool(np.array_equal(column[sorted_docs], sorted_values))
            )
            points_meta[field_name] = {
                "encoding": encoding,
                "count": len(sorted_values),
                "mirrored": mirrored,
            }
        dv_meta: dict[str, Any] = {}
        for k, field_name in enumerate(sorted(inputs.doc_values)):
            meta, raw = encode_doc_values(inputs.doc_values[field_name])
            out.add(f"v.{k}", raw)
            dv_meta[field_name] = meta
        data, first_docs, offsets = inputs.stored
        out.add("s.data", data)
        out.add("s.first", first_docs.astype("<i8"))
        out.add("s.off", offsets.astype("<i8"))
        meta = {
            "format": FORMAT,
            "name": name,
            "max_doc": inputs.max_doc,
            "fields": fields_meta,
            "points": points_meta,
            "doc_values": dv_meta,
        }
        out.finish(meta)
    except BaseException:
        out.abort()
        raise
    return meta
