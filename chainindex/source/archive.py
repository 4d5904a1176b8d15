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
a sparse index of one offset every :data:`~chainindex.source.lines.CHECKPOINT_EVERY` lines,
and a read far from every line known so far (a backfill worker's first read, at its
segment) bisects the file on block numbers (:class:`~chainindex.source.lines.ArchiveLines`).
A read that meets a bad line after a bisection is done again counting lines, so that every
error names the true line. :func:`write_archive`
writes one from any source, atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import asyncio
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
from chainindex.source.lines import CHECKPOINT_EVERY, ArchiveLines, last_lines, line_number
from chainindex.source.parse import check_links, parse_block, parse_header
from chainindex.source.wire import ArchiveRecord
from chainindex.store.atomicfile import atomic_write
from chainindex.types import Block, ChainLog, Header

__all__ = ["CHECKPOINT_EVERY", "ArchiveSource", "write_archive"]


class _RecountError(Exception):
    """A bad line met after a bisection: read again counting lines, to name the line."""


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
        self._lines = ArchiveLines(self._file, self.first)

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
        lines = last_lines(self._file, 2, self.path)
        (offset, line), *before = lines
        try:
            return parse_header(self._load(line, -1)["block"], verify=self.verify)
        except (ArchiveError, InvalidBlockError):
            pass
        line_no = line_number(self._file, offset)  # only now: it reads the file up to the line
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

    def _read(
        self, first: int, last: int, *, counted: bool = False
    ) -> tuple[list[tuple[int, dict[str, Any]]], ArchiveError | None, bool]:
        """``(line number, record)`` of blocks ``first..last``, up to the first bad line, the
        error of that line (None when all are good), and whether the line numbers were
        counted (:meth:`ArchiveLines.read <chainindex.source.lines.ArchiveLines.read>`)."""
        if first < self.first:
            raise ArchiveError(
                f"the archive {self.path} starts at block {self.first}, not {first} "
                f"(use --from-block {self.first})"
            )
        if last > self.last:
            raise MissingBlockError(self.last + 1)
        with self._lock:
            lines, exact = self._lines.read(first, last, counted=counted)
        out: list[tuple[int, dict[str, Any]]] = []
        for number, (line_no, line) in zip(range(first, last + 1), lines, strict=False):
            if not line.strip():
                return out, self._empty_line(line_no, number), exact
            try:
                out.append((line_no, self._load(line, line_no)))
            except ArchiveError as err:
                return out, err, exact
        return out, None, exact

    def _empty_line(self, line_no: int, number: int) -> ArchiveError:
        return ArchiveError(f"{self.path}:{line_no}: empty line where block {number} belongs")

    def _parse(self, first: int, last: int, with_logs: bool) -> tuple[list[Block], list[Any]]:
        """Blocks and records ``first..last``; a bad line is an :class:`ArchiveError` that
        carries the good blocks before it (:attr:`ArchiveError.good`), naming the line as
        counted from the start of the file (a read after a bisection is done again)."""
        blocks, records, error, exact = self._parse_lines(first, last, with_logs, counted=False)
        if error is not None and not exact:
            blocks, records, error, _ = self._parse_lines(first, last, with_logs, counted=True)
        if error is None and last == self.last and self.defect is not None:
            error = self.defect
        if error is not None:
            raise ArchiveError(str(error), blocks)
        return blocks, records

    def _parse_lines(
        self, first: int, last: int, with_logs: bool, *, counted: bool
    ) -> tuple[list[Block], list[Any], ArchiveError | None, bool]:
        """Blocks and records up to the first bad line, its error, and whether the line
        numbers were counted."""
        blocks: list[Block] = []
        records = []
        read, error, exact = self._read(first, last, counted=counted)
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
        return blocks, records, error, exact

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
        def read(counted: bool) -> tuple[ChainLog, ...]:
            read, error, exact = self._read(header.number, header.number, counted=counted)
            if error is not None:
                raise error if exact else _RecountError()
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
                if not exact:
                    raise _RecountError() from None
                raise ArchiveError(f"{self.path}:{line_no}: {err}") from None
            if block.header.hash != header.hash:
                raise LogsUnavailableError(
                    f"block {header.number}: the archive holds another block at this height"
                )
            assert block.logs is not None
            return block.logs

        def read_counted() -> tuple[ChainLog, ...]:
            try:
                return read(counted=False)
            except _RecountError:
                return read(counted=True)

        return await asyncio.to_thread(read_counted)

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
