"""What a segment is written from: postings grouped by term, points, columns, stored records.

Both a flush (from the in-memory buffer) and a merge (from the decoded postings of the merged
segments) produce these, and :func:`chainindex.textindex.segmentwriter.write_segment` encodes
them, so the two paths share one writer.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.textindex.arrays import I64

__all__ = ["FieldInput", "SegmentInputs", "StoredInput"]

StoredInput = tuple[bytes, I64, I64]
"""Stored records as the stored-fields writer finished them: data, chunk docs, offsets."""


@dataclass(slots=True)
class FieldInput:
    """The postings of one term field."""

    terms: list[bytes]
    """Distinct terms, sorted (UTF-8)."""
    term_ids: I64
    """Per posting: the index of its term in ``terms`` (non-decreasing)."""
    docs: I64
    """Per posting: the document (ascending within a term)."""
    freqs: I64
    """Per posting: occurrences of the term in the document (>= 1)."""
    positions: I64
    """Per posting, its ``freq`` positions in ascending order, concatenated."""
    lengths: I64
    """Per document of the segment: number of terms of the field (0 = field absent)."""
    tokenized: bool
    """True when some value of the field was analyzed text (the query analyzer then is too)."""


@dataclass(slots=True)
class SegmentInputs:
    """Everything a segment file is written from."""

    max_doc: int
    """Documents in the segment."""
    fields: dict[str, FieldInput]
    """Term fields by name."""
    points: dict[str, tuple[list[int], I64]]
    """Point fields: values and their documents."""
    doc_values: dict[str, I64]
    """Doc-value columns (one value per document)."""
    stored: StoredInput
    """Stored records."""
