"""Norms: the length (number of terms) of a field in each document, for BM25.

Lucene encodes a length lossily in one byte; here lengths are exact, packed at the width the
longest needs. A field whose documents all have length one (single-valued keywords) stores
only which documents have it (a bitset), or nothing at all when every document does: a
length is only ever read for a document that matched a term of the field, so "1" suffices.
The same data give the statistics BM25 needs over the live documents: how many have the
field and the sum of their lengths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainindex.textindex.arrays import I64, U8, Mask
from chainindex.textindex.packed import pack, unpack, width_for

__all__ = ["NormsReader", "encode_norms"]


def encode_norms(lengths: I64) -> tuple[dict[str, Any], bytes]:
    """``(meta, bytes)`` for the lengths of one field over every document of a segment."""
    top = int(lengths.max()) if len(lengths) else 0
    if top <= 1:
        if bool((lengths == 1).all()):
            return {"kind": "all"}, b""
        return {"kind": "presence"}, np.packbits(lengths.astype(bool)).tobytes()
    width = width_for(top)
    return {"kind": "packed", "width": width}, pack(lengths, width)


class NormsReader:
    """Lengths of one field per document, and the field's statistics."""

    def __init__(self, meta: dict[str, Any], data: U8, max_doc: int) -> None:
        self._kind = str(meta["kind"])
        self._max_doc = max_doc
        self._lengths: I64 | None = None
        if self._kind == "packed":
            self._lengths = unpack(data, 0, max_doc, int(meta["width"]))
        elif self._kind == "presence":
            bits = np.unpackbits(data, count=max_doc)
            self._lengths = bits.astype(np.int64)

    def lengths(self, docs: I64) -> I64:
        """Lengths of matched documents (documents that have the field)."""
        if self._kind == "packed":
            assert self._lengths is not None
            return self._lengths[docs]
        return np.ones(len(docs), dtype=np.int64)

    def all_lengths(self) -> I64:
        """The length of every document (0 where the field is absent)."""
        if self._lengths is None:
            return np.ones(self._max_doc, dtype=np.int64)
        return self._lengths

    def present(self) -> Mask:
        """Per document: whether it has the field."""
        if self._lengths is None:
            return np.ones(self._max_doc, dtype=bool)
        mask: Mask = self._lengths > 0
        return mask

    def stats(self, live: Mask | None) -> tuple[int, int]:
        """``(documents with the field, sum of their lengths)`` over the live documents."""
        if self._kind == "all":
            count = self._max_doc if live is None else int(np.count_nonzero(live))
            return count, count
        assert self._lengths is not None
        lengths = self._lengths if live is None else self._lengths[live]
        return int(np.count_nonzero(lengths)), int(lengths.sum())
