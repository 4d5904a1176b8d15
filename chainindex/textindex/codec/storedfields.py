"""Stored fields: each document's stored bytes, compressed in chunks (Lucene's .fdt/.fdx).

Records are grouped into chunks of about :data:`CHUNK_BYTES` (Lucene compresses 16 KiB
chunks with LZ4; here zlib at level 1 from the standard library). A chunk is
``count u32 · count+1 record offsets u32 · records``, compressed. The index holds each
chunk's first document and byte offset, so a document is found by binary search and one
decompression; the last chunk decompressed is kept (hits of one page are often neighbours).
"""

from __future__ import annotations

import zlib

import numpy as np

from chainindex.textindex.arrays import I64, U8
from chainindex.textindex.errors import IndexCorruptError

__all__ = ["CHUNK_BYTES", "StoredFieldsReader", "StoredFieldsWriter"]

CHUNK_BYTES = 16 * 1024
"""Uncompressed bytes per chunk (a chunk closes once it holds at least this much)."""
_LEVEL = 1


class StoredFieldsWriter:
    """Collects records in document order and compresses them chunk by chunk."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._chunks: list[bytes] = []
        self._first_docs: list[int] = []
        self.count = 0
        """Records added."""

    def add(self, record: bytes) -> None:
        """Append the next document's record."""
        self._pending.append(record)
        self._pending_bytes += len(record)
        self.count += 1
        if self._pending_bytes >= CHUNK_BYTES:
            self._close_chunk()

    def _close_chunk(self) -> None:
        if not self._pending:
            return
        lengths = np.fromiter((len(r) for r in self._pending), dtype=np.int64)
        offsets = np.zeros(len(lengths) + 1, dtype="<u4")
        offsets[1:] = np.cumsum(lengths)
        header = np.array([len(self._pending)], dtype="<u4").tobytes() + offsets.tobytes()
        self._chunks.append(zlib.compress(header + b"".join(self._pending), _LEVEL))
        self._first_docs.append(self.count - len(self._pending))
        self._pending = []
        self._pending_bytes = 0

    def finish(self) -> tuple[bytes, I64, I64]:
        """``(data, chunk first docs, chunk offsets + end)``."""
        self._close_chunk()
        offsets = np.zeros(len(self._chunks) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(c) for c in self._chunks])
        return b"".join(self._chunks), np.array(self._first_docs, dtype=np.int64), offsets


class StoredFieldsReader:
    """Random access to stored records by document."""

    def __init__(
        self,
        data: U8,
        first_docs: I64,
        offsets: I64,
        max_doc: int,
    ) -> None:
        self._data = data
        self._first_docs = first_docs
        self._offsets = offsets
        self._max_doc = max_doc
        self._last: tuple[int, list[bytes]] = (-1, [])

    def _load(self, chunk: int) -> list[bytes]:
        last_chunk, last_records = self._last
        if chunk == last_chunk:
            return last_records
        raw = self._data[int(self._offsets[chunk]) : int(self._offsets[chunk + 1])].tobytes()
        try:
            payload = zlib.decompress(raw)
            count = int(np.frombuffer(payload, dtype="<u4", count=1)[0])
            bounds = np.frombuffer(payload, dtype="<u4", count=count + 1, offset=4)
        except (zlib.error, ValueError):
            raise IndexCorruptError("damaged stored-fields chunk") from None
        body = 4 * (count + 2)
        ends = bounds.tolist()
        if body + ends[-1] != len(payload):
            raise IndexCorruptError("damaged stored-fields chunk")
        records = [payload[body + ends[i] : body + ends[i + 1]] for i in range(count)]
        self._last = (chunk, records)  # one assignment: safe for concurrent readers
        return records

    def get(self, doc: int) -> bytes:
        """The stored record of ``doc``."""
        if not 0 <= doc < self._max_doc:
            raise IndexError(doc)
        chunk = int(np.searchsorted(self._first_docs, doc, side="right")) - 1
        return self._load(chunk)[doc - int(self._first_docs[chunk])]
