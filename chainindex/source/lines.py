"""Where a chain archive's lines are: one line per block, found by block number.

:class:`ArchiveLines` seeks to block ``n``'s line of an archive file (one record per line,
consecutive blocks, :mod:`chainindex.source.archive`) without reading the file whole: it
remembers the offset of every :data:`CHECKPOINT_EVERY`-th line it passes and where the last
read stopped, and scans forward from the nearest of them. A seek further than that from
every known line bisects the file on block numbers first (``O(log n)`` probes: a backfill
worker starting at its segment no longer reads every line before it). Lines found by
bisection get their line number from their block number (line ``n - first + 1``, what a
well-formed archive has); such numbers are marked *assumed*, and the caller reads again with
``counted=True`` (a forward scan from counted lines only, as before bisection existed) when
it has to name a bad line. go-ethereum's freezer tables keep a separate index file of
offsets; an archive is a plain JSON-lines export with none, hence bisection on its content.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import orjson

from chainindex.errors import ArchiveError, HexError, MissingBlockError
from chainindex.hexutil import decode_quantity

__all__ = ["CHECKPOINT_EVERY", "ArchiveLines", "last_lines", "line_number"]

CHECKPOINT_EVERY = 256
"""Lines between two remembered file offsets; a seek further than this from every line known
bisects the file first."""
_BISECT_DONE = 16
"""A bisection stops this many lines or fewer before the line sought (then scans)."""
_CHUNK = 1 << 16


def last_lines(f: BinaryIO, count: int, name: object) -> list[tuple[int, bytes]]:
    """``(offset, line)`` of the last ``count`` non-empty lines of ``f``, the last first
    (read backwards from the end); :class:`ArchiveError` naming ``name`` when it has none."""
    end = f.seek(0, os.SEEK_END)
    tail = b""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
        stripped = tail.rstrip()
        if stripped.count(b"\n") >= count or pos == 0:
            out = []
            cut = len(stripped)
            for _ in range(count):
                start = stripped.rfind(b"\n", 0, cut) + 1
                if start == 0 and pos > 0:
                    break
                if stripped[start:cut].strip():
                    out.append((pos + start, stripped[start:cut]))
                if start == 0:
                    break
                cut = start - 1
            if out:
                return out
    raise ArchiveError(f"{name}: empty archive")


def line_number(f: BinaryIO, offset: int) -> int:
    """1-based number of the line starting at ``offset`` (counts the newlines before it)."""
    f.seek(0)
    newlines = 0
    while f.tell() < offset:
        newlines += f.read(min(_CHUNK, offset - f.tell())).count(b"\n")
    return newlines + 1


def _block_number(line: bytes) -> int | None:
    """The block number of an archive line, None when it is not a readable record."""
    try:
        record = orjson.loads(line)
        return decode_quantity(record["block"]["number"], "number")
    except (orjson.JSONDecodeError, HexError, KeyError, TypeError):
        return None


class ArchiveLines:
    """The lines of an archive file by block number (see the module docstring). Not
    thread-safe: the archive source calls it under its lock."""

    def __init__(self, file: BinaryIO, first: int) -> None:
        """``file``: the archive, open for binary reading; ``first``: its first block."""
        self.file = file
        """The archive file."""
        self.first = first
        """The block on the first line."""
        self._checkpoints: dict[int, tuple[int, int]] = {first: (0, 1)}
        """Block number -> (file offset, counted line number) of some lines."""
        self._cursor: tuple[int, int, int, bool] = (first, 0, 1, True)
        """Where the last read stopped: block number, offset, line number, and whether that
        number was counted (else assumed from a bisection)."""

    def read(
        self, first: int, last: int, *, counted: bool = False
    ) -> tuple[list[tuple[int, bytes]], bool]:
        """``(line number, line)`` of blocks ``first..last``, each line as read (``b"\\n"``
        for an empty one; ``b""`` where the file ends, the last one then), and whether the
        line numbers were counted. ``counted``: never bisect nor start from an assumed line.
        :class:`~chainindex.errors.MissingBlockError` when the file ends before ``first``."""
        line_no, exact = self._seek(first, counted)
        f = self.file
        out: list[tuple[int, bytes]] = []
        for number in range(first, last + 1):
            line = f.readline()
            out.append((line_no, line))
            if not line:
                return out, exact
            line_no += 1
            if exact and (number + 1 - self.first) % CHECKPOINT_EVERY == 0:
                self._checkpoints[number + 1] = (f.tell(), line_no)
        self._cursor = (last + 1, f.tell(), line_no, exact)
        return out, exact

    def _seek(self, number: int, counted: bool) -> tuple[int, bool]:
        """Put the file at block ``number``'s line; its line number and whether it was
        counted. Scans forward from the nearest line known, bisecting first when that is
        more than :data:`CHECKPOINT_EVERY` lines away (unless ``counted``)."""
        start, offset, line_no, exact = self._cursor
        if start > number or (counted and not exact):
            start, offset, line_no, exact = self.first, 0, 1, True
        base = max(n for n in self._checkpoints if n <= number)
        if base > start:
            start, exact = base, True
            offset, line_no = self._checkpoints[base]
        if not counted and number - start > CHECKPOINT_EVERY:
            found = self._bisect(number, start, offset)
            if found is not None:
                start, offset = found
                line_no, exact = start - self.first + 1, False
        f = self.file
        f.seek(offset)
        while start < number:
            if not f.readline():
                raise MissingBlockError(number)
            start += 1
            line_no += 1
            if exact and (start - self.first) % CHECKPOINT_EVERY == 0:
                self._checkpoints[start] = (f.tell(), line_no)
        return line_no, exact

    def _bisect(self, number: int, low: int, offset: int) -> tuple[int, int] | None:
        """A line at or before block ``number``'s and close to it, ``(block, offset)``,
        found by bisecting the bytes after ``offset`` (block ``low``'s line) on the block
        numbers of the lines probed; None when no probe got closer. A probe that meets a
        line it cannot read (damage, a cut-off end) looks no further that way: the forward
        scan from the line found reaches that line, and its reader reports it."""
        f = self.file
        high = os.fstat(f.fileno()).st_size
        best: tuple[int, int] | None = None
        while number - low > _BISECT_DONE and high - offset > 1:
            middle = (offset + high) // 2
            f.seek(middle)
            f.readline()  # the rest of the line the probe fell in
            start = f.tell()
            found = _block_number(f.readline()) if start < high else None
            if found is None or found > number or found <= low:
                high = middle
            else:
                low, offset = found, start
                best = (found, start)
        return best
