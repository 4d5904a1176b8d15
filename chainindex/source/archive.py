"""A chain archive file as a :class:`~chainindex.source.base.ChainSource`.

A chain archive holds one JSON object per line, consecutive blocks in order::

    {"chainId": <eth_chainId>, "block": <eth_getBlockByNumber(n, false) result>,
     "receipts": <eth_getBlockReceipts(n)>}

(the shape of ``tests/data/CHAINS.md``). A headers-only archive leaves out ``receipts``; it can only
be synced with ``--no-logs``. ``chainId`` is in every record (each line stays a whole block
record, and any run of lines still names its chain); the first record's is the archive's
chain id, and a later record naming another chain is an error. Archives written before it
existed have none: their chain id is unknown (``sync --chain-id`` gives it). Records get
exactly the checks an upstream answer gets (:mod:`chainindex.source.parse`), and a bad record
is an :class:`~chainindex.errors.ArchiveError` naming the file and line (1-based): an archive
does not get better by asking again. The error carries the good blocks of the run before the
bad line, which sync commits before it stops; an archive cut off mid-line serves every block
before its last line, then fails with that line (:attr:`ArchiveSource.defect`).

The file is read line by line, never whole: memory stays bounded by the largest record plus
a sparse index of one offset every :data:`CHECKPOINT_EVERY` lines. :func:`write_archive`
writes one from any source, atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from chainindex.errors import (
    ArchiveError,
    HexError,
    InvalidBlockError,
    LogsUnavailableError,
    MissingBlockError,
)
from chainindex.hexutil import decode_quantity, encode_quantity
from chainindex.source.base import ChainSource, HeadCallback
from chainindex.source.parse import check_links, parse_block, parse_header
from chainindex.source.wire import ArchiveRecord
from chainindex.store.atomicfile import atomic_write
from chainindex.types import Block, ChainLog, Header

__all__ = ["CHECKPOINT_EVERY", "ArchiveSource", "write_archive"]

CHECKPOINT_EVERY = 256
"""Lines between two remembered file offsets (seeking scans at most this many lines)."""

_TAIL_CHUNK = 1 << 16


class ArchiveSource:
    """Blocks read from a chain archive file (see the module docstring)."""

    finite = True
    """An archive holds what it holds: sync stops at its last block."""

    def __init__(self, path: str | Path, *, verify: bool = True) -> None:
        """Open the archive and read its first and last records; ``verify``: check each
        block's hash and receipts root (:mod:`chainindex.source.verify`)."""
        self.path = Path(path)
        """The archive file."""
        self.verify = verify
        """Whether blocks are checked against their hash and receipts root."""
        try:
            self._file: BinaryIO = self.path.open("rb")
        except OSError as err:
            raise ArchiveError(f"cannot read archive {path}: {err.strerror or err}") from None
        self._lock = threading.Lock()
        self.defect: ArchiveError | None = None
        """The unreadable last line of a cut-off archive, if any: blocks before it are
        served, and the sync fails with it once they are all delivered."""
        try:
            first_line = self._file.readline()
            if not first_line.strip():
                raise ArchiveError(f"{self.path}: empty archive")
            try:
                first_record = self._load(first_line, 1)
                self.first: int = parse_header(first_record["block"], verify=verify).number
                """Number of the first block in the archive."""
            except InvalidBlockError as err:
                raise ArchiveError(f"{self.path}:1: {err}") from None
            self._chain_id_hex: object = first_record.get("chainId")
            self._chain_id = self._decode_chain_id(self._chain_id_hex, 1)
            self._head = self._read_last_header()
        except InvalidBlockError as err:
            self._file.close()
            raise ArchiveError(f"{self.path}: {err}") from None
        except BaseException:
            self._file.close()
            raise
        self._checkpoints: dict[int, tuple[int, int]] = {self.first: (0, 1)}
        """Block number -> (file offset, line number) of some lines, for seeking."""
        self._cursor: tuple[int, int, int] = (self.first, 0, 1)
        """Where the next sequential read starts: block number, offset, line number."""

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def last(self) -> int:
        """Number of the last block in the archive."""
        return self._head.number

    def _load(self, line: bytes, line_no: int) -> dict[str, Any]:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise ArchiveError(f"{self.path}:{line_no}: not JSON ({err})") from None
        if not isinstance(record, dict) or not isinstance(record.get("block"), dict):
            raise ArchiveError(f"{self.path}:{line_no}: not a chain-archive record (no 'block')")
        return record

    def _check_chain_id(self, chain: object, line_no: int) -> None:
        """A record's ``chainId`` must be the first record's (when it has one)."""
        if (
            chain is not None
            and chain != self._chain_id_hex
            and self._decode_chain_id(chain, line_no) != self._chain_id
        ):
            raise ArchiveError(
                f"{self.path}:{line_no}: chainId {chain}, but the archive's first "
                f"record says {self._chain_id_hex}"
            )

    def _decode_chain_id(self, value: object, line_no: int) -> int | None:
        if value is None:
            return None
        try:
            return decode_quantity(value, "chainId", bits=64)
        except HexError as err:
            raise ArchiveError(f"{self.path}:{line_no}: {err}") from None

    def _read_last_header(self) -> Header:
        """Parse the last non-empty line (read backwards from the end of the file). When it
        is not a record (a file cut off mid-line), the line before it is the head and the
        bad line becomes :attr:`defect`, raised once every block before it is delivered."""
        lines = self._last_lines(2)
        (offset, line), *before = lines
        try:
            return parse_header(self._load(line, -1)["block"], verify=self.verify)
        except (ArchiveError, InvalidBlockError):
            pass
        line_no = self._line_number(offset)  # only now: it reads the file up to the line
        try:
            parse_header(self._load(line, line_no)["block"], verify=self.verify)
        except ArchiveError as err:
            self.defect = err
        except InvalidBlockError as err:
            self.defect = ArchiveError(f"{self.path}:{line_no}: {err}")
        if not before or self.defect is None:
            raise self.defect or ArchiveError(f"{self.path}:{line_no}: unreadable")
        offset, line = before[0]
        try:
            return parse_header(self._load(line, line_no - 1)["block"], verify=self.verify)
        except InvalidBlockError as err:
            raise ArchiveError(f"{self.path}:{line_no - 1}: {err}") from None

    def _last_lines(self, count: int) -> list[tuple[int, bytes]]:
        """``(offset, line)`` of the last ``count`` non-empty lines, the last first."""
        f = self._file
        end = f.seek(0, os.SEEK_END)
        tail = b""
        pos = end
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
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
        raise ArchiveError(f"{self.path}: empty archive")

    def _line_number(self, offset: int) -> int:
        """1-based number of the line starting at ``offset`` (counts the newlines before it)."""
        f = self._file
        f.seek(0)
        newlines = 0
        while f.tell() < offset:
            newlines += f.read(min(_TAIL_CHUNK, offset - f.tell())).count(b"\n")
        return newlines + 1

    def _seek(self, number: int) -> tuple[int, int]:
        """File offset and line number of block ``number`` (scans forward from the nearest
        known line)."""
        start_number, offset, line_no = self._cursor
        if start_number > number:
            base = max(n for n in self._checkpoints if n <= number)
            start_number = base
            offset, line_no = self._checkpoints[base]
        f = self._file
        f.seek(offset)
        while start_number < number:
            if not f.readline():
                raise MissingBlockError(number)
            start_number += 1
            line_no += 1
            if (start_number - self.first) % CHECKPOINT_EVERY == 0:
                self._checkpoints[start_number] = (f.tell(), line_no)
        return f.tell(), line_no

    def _read(
        self, first: int, last: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], ArchiveError | None]:
        """``(line number, record)`` of blocks ``first..last``, up to the first bad line, and
        the error of that line (None when all are good)."""
        if first < self.first:
            raise ArchiveError(
                f"the archive {self.path} starts at block {self.first}, not {first} "
                f"(use --from-block {self.first})"
            )
        if last > self.last:
            raise MissingBlockError(self.last + 1)
        with self._lock:
            _, line_no = self._seek(first)
            out: list[tuple[int, dict[str, Any]]] = []
            for number in range(first, last + 1):
                line = self._file.readline()
                if not line.strip():
                    return out, ArchiveError(
                        f"{self.path}:{line_no}: empty line where block {number} belongs"
                    )
                try:
                    out.append((line_no, self._load(line, line_no)))
                except ArchiveError as err:
                    return out, err
                line_no += 1
                if (number + 1 - self.first) % CHECKPOINT_EVERY == 0:
                    self._checkpoints[number + 1] = (self._file.tell(), line_no)
            self._cursor = (last + 1, self._file.tell(), line_no)
            return out, None

    def _parse(self, first: int, last: int, with_logs: bool) -> tuple[list[Block], list[Any]]:
        """Blocks and records ``first..last``; a bad line is an :class:`ArchiveError` that
        carries the good blocks before it (:attr:`ArchiveError.good`)."""
        blocks: list[Block] = []
        records = []
        read, error = self._read(first, last)
        for (line_no, record), number in zip(read, range(first, last + 1), strict=False):
            try:
                if not with_logs:
                    block = Block(parse_header(record["block"], number, verify=self.verify), None)
                elif "receipts" not in record:
                    raise ArchiveError(
                        f"{self.path}:{line_no}: block {number} has no receipts (a headers-only "
                        "archive): sync it with --no-logs"
                    )
                else:
                    block = parse_block(
                        record["block"], record["receipts"], number, verify=self.verify
                    )
                check_links([b.header for b in blocks[-1:]] + [block.header], None)
                self._check_chain_id(record.get("chainId"), line_no)
            except ArchiveError as err:
                error = err
                break
            except InvalidBlockError as err:
                error = ArchiveError(f"{self.path}:{line_no}: {err}")
                break
            except MissingBlockError:
                error = ArchiveError(f"{self.path}:{line_no}: block {number} is missing")
                break
            blocks.append(block)
            records.append(record if with_logs else {"block": record["block"]})
        if error is None and last == self.last and self.defect is not None:
            error = self.defect
        if error is not None:
            raise ArchiveError(str(error), blocks)
        return blocks, records

    async def chain_id(self) -> int | None:
        """The chain id its first record names, or None (an archive written without)."""
        return self._chain_id

    async def latest(self) -> Header:
        return self._head

    async def header_at(self, number: int) -> Header | None:
        if not self.first <= number <= self.last:
            return None
        try:
            blocks = await self.blocks(number, number, with_logs=False)
        except ArchiveError as err:
            if not err.good:  # the block's own line is bad (else: the defect after it)
                raise
            blocks = list(err.good)
        return blocks[0].header

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        return (await asyncio.to_thread(self._parse, first, last, with_logs))[0]

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        return (await asyncio.to_thread(self._parse, first, last, with_logs))[1]

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        def read() -> tuple[ChainLog, ...]:
            read, error = self._read(header.number, header.number)
            if error is not None:
                raise error
            ((line_no, record),) = read
            if "receipts" not in record:
                raise LogsUnavailableError(
                    f"block {header.number}: the archive {self.path} has no receipts for it"
                )
            try:
                block = parse_block(
                    record["block"], record["receipts"], header.number, verify=self.verify
                )
            except InvalidBlockError as err:
                raise ArchiveError(f"{self.path}:{line_no}: {err}") from None
            if block.header.hash != header.hash:
                raise LogsUnavailableError(
                    f"block {header.number}: the archive holds another block at this height"
                )
            assert block.logs is not None
            return block.logs

        return await asyncio.to_thread(read)

    async def watch_heads(self, on_head: HeadCallback) -> None:
        return None

    async def aclose(self) -> None:
        self._file.close()


async def write_archive(
    source: ChainSource,
    first: int,
    last: int,
    out: str | Path,
    *,
    with_logs: bool = True,
    chunk: int = 32,
) -> int:
    """Write blocks ``first..last`` of ``source`` to the archive ``out``; returns the number
    of blocks written.

    The file appears complete or not at all (:func:`~chainindex.store.atomicfile.atomic_write`).
    Every record names the source's chain id when it has one.
    """
    chain = await source.chain_id()
    tag = {} if chain is None else {"chainId": encode_quantity(chain)}
    written = 0
    with atomic_write(out, kind="archive") as f:
        parent = None
        for start in range(first, last + 1, chunk):
            end = min(last, start + chunk - 1)
            records = await source.records(start, end, with_logs=with_logs)
            headers = [
                parse_header(r["block"], n, verify=False)  # the source checked them
                for r, n in zip(records, range(start, end + 1), strict=True)
            ]
            check_links(headers, parent)
            parent = headers[-1].hash
            f.write(b"".join(orjson.dumps({**r, **tag}) + b"\n" for r in records))
            written += len(records)
    return written
