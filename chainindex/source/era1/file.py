"""One era1 file, read through its block index (go-ethereum's ``internal/era/onedb``).

Layout (go-ethereum's ``internal/era/builder.go``; spec: ``eth-clients/e2store-format-specs``
``formats/era1.md``)::

    Version | (CompressedHeader | CompressedBody | CompressedReceipts | TotalDifficulty)*
            | Accumulator | BlockIndex

The ``BlockIndex`` record is last: ``starting-number | offset* | count``, each int64
little-endian, an offset being the position of a block's ``CompressedHeader`` record
relative to the start of the ``BlockIndex`` record (so negative).

:meth:`Era1File.verify` checks the whole file before any of its blocks is served: every
record's framing and type in order, the offsets of the index, every snappy frame, the total
difficulties (each the previous plus the block's difficulty), and the accumulator root
recomputed over ``(keccak256(header), total difficulty)`` against the ``Accumulator``
record. A corrupt file thus yields no block at all. What differs from go-ethereum: that
whole-file check (go-ethereum's reader trusts the file until a record fails to decode).
"""

from __future__ import annotations

import itertools
import struct
import threading
from pathlib import Path
from typing import BinaryIO

import cramjam

from bloombits.keccak import keccak256
from chainindex.errors import Era1Error, RlpDecodingError
from chainindex.source.era1 import e2store
from chainindex.source.era1.accumulator import MAX_ERA1_SIZE, accumulator_root
from chainindex.source.era1.rlpdecode import decode, decode_int

__all__ = ["Era1File", "Era1Tuple", "snappy_decode"]

_I64 = struct.Struct("<q")

Era1Tuple = tuple[bytes, bytes, bytes, int]
"""One block of an era1 file: header RLP, body RLP, receipts RLP, total difficulty."""


def snappy_decode(data: bytes, what: str) -> bytes:
    """The content of a snappy-framed stream; Era1Error naming ``what`` when it is not one."""
    try:
        return bytes(cramjam.snappy.decompress(data))
    except Exception as err:  # cramjam raises its own DecompressionError
        raise Era1Error(f"{what}: bad snappy data ({err})") from None


class Era1File:
    """An era1 file opened on its block index (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        """Open ``path`` and read its block index (not yet :meth:`verify`)."""
        self.path = Path(path)
        """The file."""
        self.name = str(self.path)
        """The file, for messages."""
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        try:
            self.size = self._open().seek(0, 2)
            """Bytes in the file."""
            self.start, self.offsets, self.index_offset = self._read_index()
        finally:
            self.close()  # reopened on use: a directory holds ~1900 files for mainnet
        self.verified = False
        """Whether :meth:`verify` has passed."""
        self.hashes: list[bytes] = []
        """Block hashes, in order (after :meth:`verify`)."""
        self.initial_td = 0
        """Total difficulty before the file's first block (after :meth:`verify`)."""
        self.final_td = 0
        """Total difficulty after its last block (after :meth:`verify`)."""
        self.linked = False
        """Whether the file's total difficulty was found to go on from the file before it
        (set by :class:`~chainindex.source.era1.source.Era1Source`)."""

    def _open(self) -> BinaryIO:
        """The open file (opened again after :meth:`close`)."""
        if self._file is None:
            try:
                self._file = self.path.open("rb")
            except OSError as err:
                raise Era1Error(
                    f"cannot read era1 file {self.path}: {err.strerror or err}"
                ) from None
        return self._file

    @property
    def count(self) -> int:
        """Blocks in the file."""
        return len(self.offsets)

    @property
    def last(self) -> int:
        """Number of the file's last block."""
        return self.start + self.count - 1

    def _read_index(self) -> tuple[int, list[int], int]:
        """``(starting number, absolute offset of each block, offset of the index record)``."""
        f, size = self._open(), self.size
        if size < 8 + 8 + 16:
            raise Era1Error(f"{self.name}: {size} bytes is too short for an era1 file")
        f.seek(size - 8)
        (count,) = _I64.unpack(f.read(8))
        if not 0 < count <= MAX_ERA1_SIZE:
            raise Era1Error(f"{self.name}: block index count {count} (truncated or not era1?)")
        index_offset = size - 8 * (count + 2) - e2store.HEADER_SIZE
        kind, length = e2store.read_header(f, index_offset, size, self.name)
        if kind != e2store.BLOCK_INDEX or length != 8 * (count + 2):
            raise Era1Error(f"{self.name}: no block index at the end (truncated or not era1?)")
        words = [_I64.unpack(f.read(8))[0] for _ in range(count + 1)]
        start = words[0]
        if start < 0:
            raise Era1Error(f"{self.name}: negative starting block number {start}")
        offsets = [index_offset + relative for relative in words[1:]]
        if offsets[0] != e2store.HEADER_SIZE or any(
            not a < b for a, b in itertools.pairwise(offsets)
        ):
            raise Era1Error(f"{self.name}: the block index offsets are not in file order")
        if offsets[-1] >= index_offset:
            raise Era1Error(f"{self.name}: a block index offset points past the blocks")
        return start, offsets, index_offset

    def _tuple_at(self, offset: int, number: int) -> tuple[Era1Tuple, int]:
        """The block tuple whose header record is at ``offset`` and the offset after it."""
        f, size, name = self._open(), self.size, self.name
        where = f"{name}: block {number}"
        _, header, at = e2store.read_record(f, offset, size, name, e2store.COMPRESSED_HEADER)
        _, body, at = e2store.read_record(f, at, size, name, e2store.COMPRESSED_BODY)
        _, receipts, at = e2store.read_record(f, at, size, name, e2store.COMPRESSED_RECEIPTS)
        _, td, at = e2store.read_record(f, at, size, name, e2store.TOTAL_DIFFICULTY)
        if len(td) != 32:
            raise Era1Error(f"{where}: total difficulty of {len(td)} bytes, not 32")
        return (
            snappy_decode(header, f"{where} header"),
            snappy_decode(body, f"{where} body"),
            snappy_decode(receipts, f"{where} receipts"),
            int.from_bytes(td, "little"),
        ), at

    def verify(self) -> None:
        """Check the whole file (module docstring); Era1Error naming the first defect."""
        if self.verified:
            return
        with self._lock:
            f, name = self._open(), self.name
            kind, length = e2store.read_header(f, 0, self.size, name)
            if kind != e2store.VERSION or length != 0:
                raise Era1Error(f"{name}: does not start with an e2store Version record")
            at = e2store.HEADER_SIZE
            hashes: list[bytes] = []
            tds: list[int] = []
            for i, offset in enumerate(self.offsets):
                number = self.start + i
                if offset != at:
                    raise Era1Error(f"{name}: block index offset of block {number} is wrong")
                (header, _, _, td), at = self._tuple_at(offset, number)
                difficulty = self._difficulty(header, number)
                if tds and td != tds[-1] + difficulty:
                    raise Era1Error(
                        f"{name}: block {number}: total difficulty {td} is not the previous "
                        f"one plus the block's difficulty {difficulty}"
                    )
                if not tds:
                    self.initial_td = td - difficulty
                hashes.append(keccak256(header))
                tds.append(td)
            _, root, at = e2store.read_record(f, at, self.size, name, e2store.ACCUMULATOR)
            if at != self.index_offset:
                raise Era1Error(f"{name}: records between the accumulator and the block index")
            computed = accumulator_root(hashes, tds)
            if root != computed:
                raise Era1Error(
                    f"{name}: accumulator 0x{root.hex()} is not the root of the file's headers "
                    f"(0x{computed.hex()})"
                )
            self.hashes = hashes
            self.final_td = tds[-1]
            self.verified = True

    def _difficulty(self, header: bytes, number: int) -> int:
        try:
            fields = decode(header)
            if not isinstance(fields, list) or len(fields) < 15:
                raise RlpDecodingError("RLP: not a header")
            declared = decode_int(fields[8], "number")
            if declared != number:
                raise Era1Error(f"{self.name}: the header of block {number} says {declared}")
            return decode_int(fields[7], "difficulty")
        except RlpDecodingError as err:
            raise Era1Error(f"{self.name}: block {number}: {err}") from None

    def read(self, number: int) -> Era1Tuple:
        """Block ``number``'s tuple (the file is verified first)."""
        self.verify()
        if not self.start <= number <= self.last:
            raise Era1Error(f"{self.name}: holds blocks {self.start}..{self.last}, not {number}")
        with self._lock:
            return self._tuple_at(self.offsets[number - self.start], number)[0]

    def close(self) -> None:
        """Close the file (a later read opens it again)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
