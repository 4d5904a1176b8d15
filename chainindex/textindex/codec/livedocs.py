"""Live docs: which documents of a segment are not deleted (Lucene's ``.liv``).

Segments never change; deleting documents writes a new generation of the segment's live-docs
file, named ``<segment>_<generation>.liv``, referenced by the next commit. The file is a
bitset (1 = live) with a header and a checksum, written to a temporary name, fsynced and
renamed, so a reader sees either no file or a whole one.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

from chainindex.textindex.arrays import Mask
from chainindex.textindex.errors import IndexCorruptError

__all__ = ["read_live_docs", "write_live_docs"]

_MAGIC = b"LFTILIV\x01"
_HEAD = struct.Struct("<8sQ")
_CRC = struct.Struct("<I")


def write_live_docs(path: Path, live: Mask) -> None:
    """Write a live-docs bitset durably under ``path``."""
    body = _HEAD.pack(_MAGIC, len(live)) + np.packbits(live).tobytes()
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(body + _CRC.pack(zlib.crc32(body)))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_live_docs(path: Path, max_doc: int) -> Mask:
    """Read a live-docs bitset, checking it belongs to a segment of ``max_doc`` documents."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IndexCorruptError(f"{path}: live-docs file missing") from None
    if len(raw) < _HEAD.size + _CRC.size or zlib.crc32(raw[:-4]) != _CRC.unpack(raw[-4:])[0]:
        raise IndexCorruptError(f"{path}: damaged live-docs file")
    magic, count = _HEAD.unpack_from(raw, 0)
    if magic != _MAGIC or count != max_doc:
        raise IndexCorruptError(f"{path}: live-docs file does not fit its segment")
    bits = np.frombuffer(raw, dtype=np.uint8, offset=_HEAD.size, count=len(raw) - 4 - _HEAD.size)
    return np.unpackbits(bits, count=max_doc).astype(bool)
