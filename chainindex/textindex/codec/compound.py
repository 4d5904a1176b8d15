"""The compound segment file: every part of a segment in one immutable file.

Lucene writes a segment as many files (``.tim``, ``.tip``, ``.doc``, ``.pos``, ``.fdt``, ...)
or packs them into one compound file (``.cfs``). Here every segment is one compound file::

    header   magic "LFTISEG\\x01", 8 bytes
    parts    raw bytes, each starting on an 8-byte boundary (numpy views need no copy)
    toc      JSON: {"parts": {name: [offset, length]}, "meta": {...segment metadata...}}
    footer   toc offset u64 · toc length u32 · crc32(toc) u32 · crc32(header+parts) u32 ·
             magic "LFTIEND\\x01"

The reader maps the file and hands out zero-copy numpy views of the parts. Opening checks the
header, footer and table of contents (cheap); :meth:`CompoundReader.verify` checks the
checksum of the whole body (Lucene's ``checkIntegrity``), done before a merge reads a segment.
The writer fsyncs before it returns: a segment is referenced by a commit only once durable.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import orjson

from chainindex.textindex.arrays import U8
from chainindex.textindex.errors import IndexCorruptError

__all__ = ["CompoundReader", "CompoundWriter"]

_HEADER = b"LFTISEG\x01"
_MAGIC_END = b"LFTIEND\x01"
_FOOTER = struct.Struct("<QIII8s")
_ALIGN = 8


class CompoundWriter:
    """Writes the parts of one segment, then its table of contents."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """The file being written."""
        self._file: BinaryIO = path.open("xb")
        self._crc = 0
        self._offset = 0
        self._parts: dict[str, list[int]] = {}
        self._write(_HEADER)

    def _write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self._crc = zlib.crc32(data, self._crc)
        self._offset += len(data)

    def add(self, name: str, data: bytes | bytearray | npt.NDArray[Any]) -> None:
        """Append a part (raw bytes, or a numpy array written in its own byte order)."""
        if name in self._parts:
            raise ValueError(f"part {name!r} written twice")
        pad = -self._offset % _ALIGN
        if pad:
            self._write(b"\x00" * pad)
        if isinstance(data, np.ndarray):
            raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8).data
        else:
            raw = memoryview(data)
        self._parts[name] = [self._offset, len(raw)]
        self._write(raw)

    def finish(self, meta: dict[str, Any]) -> int:
        """Write the table of contents and footer, fsync and close; returns the file size."""
        toc = orjson.dumps({"parts": self._parts, "meta": meta})
        toc_offset = self._offset
        body_crc = self._crc
        self._file.write(toc)
        self._file.write(_FOOTER.pack(toc_offset, len(toc), zlib.crc32(toc), body_crc, _MAGIC_END))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return toc_offset + len(toc) + _FOOTER.size

    def abort(self) -> None:
        """Close and delete the partial file."""
        self._file.close()
        self.path.unlink(missing_ok=True)


class CompoundReader:
    """A mapped compound file: its metadata and zero-copy views of its parts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """The segment file."""
        try:
            with path.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < len(_HEADER) + _FOOTER.size:
                    raise IndexCorruptError(f"{path}: truncated segment file ({size} bytes)")
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise IndexCorruptError(f"{path}: segment file missing") from None
        self.buffer: U8 = np.frombuffer(self._map, dtype=np.uint8)
        """The whole file."""
        if bytes(self.buffer[: len(_HEADER)]) != _HEADER:
            raise IndexCorruptError(f"{path}: not a text-index segment file")
        toc_offset, toc_len, toc_crc, self._body_crc, magic = _FOOTER.unpack(
            self._map[size - _FOOTER.size :]
        )
        if magic != _MAGIC_END or toc_offset + toc_len + _FOOTER.size != size:
            raise IndexCorruptError(f"{path}: damaged segment footer")
        toc = self._map[toc_offset : toc_offset + toc_len]
        if zlib.crc32(toc) != toc_crc:
            raise IndexCorruptError(f"{path}: damaged segment table of contents")
        self._toc_offset = toc_offset
        try:
            decoded = orjson.loads(toc)
            self.parts: dict[str, tuple[int, int]] = {
                name: (int(at), int(length)) for name, (at, length) in decoded["parts"].items()
            }
            self.meta: dict[str, Any] = decoded["meta"]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise IndexCorruptError(f"{path}: unreadable segment table of contents") from None
        for name, (at, length) in self.parts.items():
            if at < len(_HEADER) or at + length > toc_offset:
                raise IndexCorruptError(f"{path}: part {name!r} lies outside the file")

    def has(self, name: str) -> bool:
        """True when the segment has a part of this name."""
        return name in self.parts

    def part(self, name: str) -> U8:
        """The bytes of a part, as a read-only uint8 view."""
        try:
            at, length = self.parts[name]
        except KeyError:
            raise IndexCorruptError(f"{self.path}: part {name!r} missing") from None
        return self.buffer[at : at + length]

    def array(self, name: str, dtype: str) -> npt.NDArray[Any]:
        """A part viewed as an array of ``dtype`` (for example ``"<i4"``)."""
        raw = self.part(name)
        itemsize = np.dtype(dtype).itemsize
        if len(raw) % itemsize:
            raise IndexCorruptError(f"{self.path}: part {name!r} has a partial item")
        return raw.view(dtype)

    def verify(self) -> None:
        """Check the checksum of the whole body; raises when the file is damaged."""
        if zlib.crc32(self._map[: self._toc_offset]) != self._body_crc:
            raise IndexCorruptError(f"{self.path}: checksum mismatch (damaged segment file)")

    def size(self) -> int:
        """Size of the file in bytes."""
        return len(self._map)
