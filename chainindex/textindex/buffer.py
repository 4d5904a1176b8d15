"""The in-memory buffer of documents not yet flushed (Lucene's DocumentsWriterPerThread).

Adding a document appends, for every term occurrence, ``(term id, doc, position)`` to flat
integer arrays of its field, and records points, doc values and the stored bytes. Nothing is
sorted or grouped per term while documents arrive: at flush, numpy sorts the occurrences by
term (stably, so documents and positions stay in order) and groups them into postings in a
few vectorized passes (:meth:`SegmentBuffer.to_inputs`).

Positions: within a document, a field's tokens are numbered from 0 across all its values,
with a gap of :data:`POSITION_GAP` between consecutive values so that a phrase never matches
across two values of a multi-valued field (Elasticsearch's ``position_increment_gap``).
"""

from __future__ import annotations

from array import array

import numpy as np

from chainindex.textindex.analysis import STANDARD
from chainindex.textindex.codec.storedfields import StoredFieldsWriter
from chainindex.textindex.document import POINT_MAX, POINT_MIN, Document
from chainindex.textindex.errors import TextIndexError
from chainindex.textindex.segmentdata import FieldInput, SegmentInputs

__all__ = ["MAX_KEYWORD_LENGTH", "POSITION_GAP", "SegmentBuffer"]

POSITION_GAP = 100
"""Positions skipped between two values of the same field in one document."""
MAX_KEYWORD_LENGTH = 4096
"""Longer keyword values are not indexed (the terms dictionary stores suffixes of up to
65,535 bytes; four UTF-8 bytes per character at most)."""
_TERM_BYTES_OVERHEAD = 80
"""Approximate bytes a distinct term costs in the buffer (dict entry and string)."""


class _FieldBuffer:
    """Occurrences of one field's terms."""

    __slots__ = ("docs", "positions", "term_ids", "terms", "tokenized")

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}
        self.term_ids = array("i")
        self.docs = array("i")
        self.positions = array("i")
        self.tokenized = False


class SegmentBuffer:
    """Documents added since the last flush, inverted in memory."""

    def __init__(self) -> None:
        self._fields: dict[str, _FieldBuffer] = {}
        self._point_docs: dict[str, array[int]] = {}
        self._point_values: dict[str, list[int]] = {}
        self._doc_values: dict[str, array[int]] = {}
        self._stored = StoredFieldsWriter()
        self._term_bytes = 0
        self.num_docs = 0
        """Documents in the buffer."""

    def ram_bytes(self) -> int:
        """An estimate of the memory the buffer holds."""
        occurrences = sum(len(f.docs) for f in self._fields.values())
        points = sum(len(d) for d in self._point_docs.values())
        return occurrences * 12 + points * 40 + self._term_bytes + self._stored_bytes()

    def _stored_bytes(self) -> int:
        return self.num_docs * 64

    def _field(self, name: str) -> _FieldBuffer:
        field = self._fields.get(name)
        if field is None:
            field = self._fields[name] = _FieldBuffer()
        return field

    def add(self, doc: Document) -> int:
        """Invert one document; returns its id within the buffer."""
        d = self.num_docs
        next_pos: dict[str, int] = {}
        for name, value in doc.keywords:
            if len(value) > MAX_KEYWORD_LENGTH:
                continue  # stored with the document, not indexed (as Lucene refuses immense terms)
            field = self._fields.get(name) or self._field(name)
            term = value.lower()
            tid = field.terms.get(term)
            if tid is None:
                tid = field.terms[term] = len(field.terms)
                self._term_bytes += _TERM_BYTES_OVERHEAD + len(term)
            pos = next_pos.get(name, 0)
            field.term_ids.append(tid)
            field.docs.append(d)
            field.positions.append(pos)
            next_pos[name] = pos + 1 + POSITION_GAP
        for name, value in doc.texts:
            terms = STANDARD.terms(value)
            if not terms:
                continue
            field = self._fields.get(name) or self._field(name)
            field.tokenized = True
            pos = next_pos.get(name, 0)
            known = field.terms
            for term in terms:
                tid = known.get(term)
                if tid is None:
                    tid = known[term] = len(known)
                    self._term_bytes += _TERM_BYTES_OVERHEAD + len(term)
                field.term_ids.append(tid)
                field.docs.append(d)
                field.positions.append(pos)
                pos += 1
            next_pos[name] = pos + POSITION_GAP
        for name, number in doc.points:
            if not POINT_MIN <= number <= POINT_MAX:
                raise TextIndexError(f"point {name}={number} is outside int256/uint256")
            docs = self._point_docs.get(name)
            if docs is None:
                docs = self._point_docs[name] = array("i")
                self._point_values[name] = []
            docs.append(d)
            self._point_values[name].append(number)
        for name in doc.doc_values:
            if name not in self._doc_values:
                self._doc_values[name] = array("q", bytes(8 * d))
        for name, column in self._doc_values.items():
            column.append(doc.doc_values.get(name, 0))
        self._stored.add(doc.stored)
        self.num_docs = d + 1
        return d

    def to_inputs(self) -> SegmentInputs:
        """Group the buffer into postings, points and columns, ready to be written."""
        max_doc = self.num_docs
        fields: dict[str, FieldInput] = {}
        for name, field in self._fields.items():
            fields[name] = _field_input(field, max_doc)
        points = {
            name: (self._point_values[name], np.frombuffer(docs, dtype=np.int32).astype(np.int64))
            for name, docs in self._point_docs.items()
        }
        doc_values = {
            name: np.frombuffer(column, dtype=np.int64).copy()
            for name, column in self._doc_values.items()
        }
        return SegmentInputs(max_doc, fields, points, doc_values, self._stored.finish())


def _field_input(field: _FieldBuffer, max_doc: int) -> FieldInput:
    by_id = list(field.terms)
    order = sorted(range(len(by_id)), key=by_id.__getitem__)
    rank = np.empty(len(by_id), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(by_id), dtype=np.int64)
    term_of = rank[np.frombuffer(field.term_ids, dtype=np.int32)]
    docs = np.frombuffer(field.docs, dtype=np.int32).astype(np.int64)
    positions = np.frombuffer(field.positions, dtype=np.int32).astype(np.int64)
    sort = np.argsort(term_of, kind="stable")
    t, d, p = term_of[sort], docs[sort], positions[sort]
    starts = np.flatnonzero(np.r_[True, (t[1:] != t[:-1]) | (d[1:] != d[:-1])])
    freqs = np.diff(np.r_[starts, len(t)])
    return FieldInput(
        terms=[by_id[i].encode("utf-8", "surrogatepass") for i in order],
        term_ids=t[starts],
        docs=d[starts],
        freqs=freqs,
        positions=p,
        lengths=np.bincount(docs, minlength=max_doc).astype(np.int64),
        tokenized=field.tokenized,
    )
