"""Opening one segment file: its fields, points, doc values and stored records.

A segment never changes once written; its deletions live beside it (see
:mod:`~chainindex.textindex.codec.livedocs`) and are held by the index reader, so one
:class:`SegmentReader` serves every snapshot that contains the segment.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from chainindex.textindex.arrays import I64
from chainindex.textindex.codec.compound import CompoundReader
from chainindex.textindex.codec.docvalues import read_doc_values
from chainindex.textindex.codec.points import KEY_BYTES, PointsReader
from chainindex.textindex.codec.storedfields import StoredFieldsReader
from chainindex.textindex.errors import IndexCorruptError
from chainindex.textindex.fieldreader import FieldReader
from chainindex.textindex.segmentwriter import FORMAT

__all__ = ["SegmentReader"]

_SERIAL = itertools.count(1)


class SegmentReader:
    """Read access to one immutable segment."""

    def __init__(self, path: Path, name: str) -> None:
        self.file = CompoundReader(path)
        """The mapped segment file."""
        meta = self.file.meta
        try:
            if meta["format"] != FORMAT:
                raise IndexCorruptError(f"{path}: segment format {meta['format']} is unknown")
            if meta["name"] != name:
                raise IndexCorruptError(f"{path}: holds segment {meta['name']!r}, not {name!r}")
            self.max_doc = int(meta["max_doc"])
            """Documents in the segment (deleted ones included)."""
            self._field_meta: dict[str, Any] = dict(meta["fields"])
            self._points_meta: dict[str, Any] = dict(meta["points"])
            self._dv_meta: dict[str, Any] = dict(meta["doc_values"])
        except (KeyError, TypeError, ValueError):
            raise IndexCorruptError(f"{path}: unreadable segment metadata") from None
        self.name = name
        """Segment name."""
        self.core_key = next(_SERIAL)
        """Unique in the process: keys caches of this segment's data."""
        self._field_index = {f: i for i, f in enumerate(sorted(self._field_meta))}
        self._point_index = {f: i for i, f in enumerate(sorted(self._points_meta))}
        self._dv_index = {f: i for i, f in enumerate(sorted(self._dv_meta))}
        self._fields: dict[str, FieldReader] = {}
        self._points: dict[str, PointsReader] = {}
        self._doc_values: dict[str, I64] = {}
        self._stored: StoredFieldsReader | None = None

    @property
    def field_names(self) -> list[str]:
        """Term fields, sorted."""
        return list(self._field_index)

    @property
    def doc_value_names(self) -> list[str]:
        """Doc-value columns, sorted."""
        return list(self._dv_index)

    @property
    def point_names(self) -> list[str]:
        """Point fields, sorted."""
        return list(self._point_index)

    def field_info(self, name: str) -> dict[str, Any] | None:
        """The stored metadata of a term field (``tokenized``, statistics...)."""
        return self._field_meta.get(name)

    def field(self, name: str) -> FieldReader | None:
        """A term field, or ``None`` when no document of the segment has it."""
        reader = self._fields.get(name)
        if reader is None:
            index = self._field_index.get(name)
            if index is None:
                return None
            reader = FieldReader(self.file, index, name, self._field_meta[name])
            self._fields[name] = reader
        return reader

    def points(self, name: str) -> PointsReader | None:
        """A point field, or ``None``."""
        reader = self._points.get(name)
        if reader is None:
            index = self._point_index.get(name)
            if index is None:
                return None
            encoding = self._points_meta[name]["encoding"]
            dtype = "<i8" if encoding == "i64" else f"S{KEY_BYTES}"
            values = self.file.array(f"p.{index}.v", dtype)
            docs = self.file.array(f"p.{index}.d", "<i4")
            if len(values) != len(docs):
                raise IndexCorruptError(f"{self.file.path}: point field {name!r} is damaged")
            reader = self._points[name] = PointsReader(encoding, values, docs)
        return reader

    def point_column(self, name: str) -> I64 | None:
        """The doc-values column of the same name when it mirrors the points (checked when
        the segment was written: every document has at most one point, and the column holds
        it): a point range can then test candidates by lookup instead of set intersection."""
        meta = self._points_meta.get(name)
        if meta is None or not meta.get("mirrored"):
            return None
        return self.doc_values(name)

    def doc_values(self, name: str) -> I64 | None:
        """A doc-values column (one int per document), or ``None``."""
        column = self._doc_values.get(name)
        if column is None:
            index = self._dv_index.get(name)
            if index is None:
                return None
            try:
                column = read_doc_values(
                    self._dv_meta[name], self.file.part(f"v.{index}"), self.max_doc
                )
            except ValueError:
                raise IndexCorruptError(f"{self.file.path}: column {name!r} is damaged") from None
            self._doc_values[name] = column
        return column

    def stored(self, doc: int) -> bytes:
        """The stored bytes of a document."""
        if self._stored is None:
            self._stored = StoredFieldsReader(
                self.file.part("s.data"),
                self.file.array("s.first", "<i8"),
                self.file.array("s.off", "<i8"),
                self.max_doc,
            )
        return self._stored.get(doc)

    def size_bytes(self) -> int:
        """Size of the segment file."""
        return self.file.size()
