"""A directory of era1 files as a :class:`~chainindex.source.base.ChainSource`
(``--upstream era1:DIR``).

go-ethereum prunes pre-merge history (EIP-4444) and distributes it as era1 files
(``internal/era``; ``geth import-history`` reads them). This source serves those blocks to
sync as an archive would: every ``*.era1`` file of the directory is opened on its block
index, the files ordered by their first block and required to follow each other without a
gap or overlap. A file is checked whole (:meth:`Era1File.verify`: framing, snappy, total
difficulties, accumulator root) the first time one of its blocks is asked for, and each
block then goes through the checks a node's answer gets (:mod:`chainindex.source.parse`:
header hash, receipts root, blooms, links). Any defect is one
:class:`~chainindex.errors.Era1Error` naming the file and block, carrying no block of the run
(nothing of a bad file is stored).

era1 files name no chain: the chain id is the one the user gives (``--chain-id``), required
by :func:`chainindex.source.open_source`. What differs from go-ethereum's ``ReadDir``: the
file names are not parsed (any ``*.era1`` name is accepted, the block index says what a file
holds); a file's total difficulty must go on from the file before it when that one was read
first (as in a sync from the start), unchecked otherwise.
"""

from __future__ import annotations

import asyncio
import bisect
from pathlib import Path

from chainindex.errors import (
    Era1Error,
    InvalidBlockError,
    LogsUnavailableError,
    MissingBlockError,
    RlpDecodingError,
)
from chainindex.source.base import ERA1_PREFIX, HeadCallback
from chainindex.source.era1.block import decode_block
from chainindex.source.era1.file import Era1File
from chainindex.source.parse import check_links, parse_block, parse_header
from chainindex.source.wire import ArchiveRecord
from chainindex.types import Block, ChainLog, Header

__all__ = ["ERA1_PREFIX", "Era1Source", "is_era1"]


def is_era1(target: str) -> bool:
    """Whether ``--upstream`` names a directory of era1 files (``era1:DIR``)."""
    return target.startswith(ERA1_PREFIX)


class Era1Source:
    """Blocks read from the era1 files of a directory (see the module docstring)."""

    finite = True
    """The files hold what they hold: sync stops at their last block."""

    def __init__(self, directory: str | Path, *, chain_id: int | None, verify: bool = True) -> None:
        """Open every era1 file of ``directory`` on its index; ``verify``: the consensus checks
        of each block (the file checks are always made)."""
        self.directory = Path(directory)
        """The directory of era1 files."""
        self.verify = verify
        """Whether blocks are checked against their hash and receipts root."""
        self._chain_id = chain_id
        if not self.directory.is_dir():
            raise Era1Error(f"{self.directory}: not a directory of era1 files")
        self._files: list[Era1File] = []
        try:
            for path in sorted(self.directory.glob("*.era1")):
                self._files.append(Era1File(path))
            if not self._files:
                raise Era1Error(f"{self.directory}: no .era1 files")
            self._files.sort(key=lambda f: f.start)
            for before, after in zip(self._files, self._files[1:], strict=False):
                if after.start != before.last + 1:
                    raise Era1Error(
                        f"{after.name} starts at block {after.start}, but {before.name} ends "
                        f"at {before.last}: the era1 files must follow each other"
                    )
        except BaseException:
            for f in self._files:
                f.close()
            raise
        self._starts = [f.start for f in self._files]
        self._head: Header | None = None
        self._current: Era1File | None = None

    @property
    def name(self) -> str:
        return f"era1:{self.directory}"

    @property
    def first(self) -> int:
        """Number of the first block of the files."""
        return self._files[0].start

    @property
    def last(self) -> int:
        """Number of the last block of the files."""
        return self._files[-1].last

    def _record(self, number: int, with_logs: bool) -> tuple[Era1File, ArchiveRecord]:
        at = bisect.bisect_right(self._starts, number) - 1
        f = self._files[at]
        previous, self._current = self._current, f
        if previous is not None and previous is not f:
            previous.close()  # one file open at a time (it reopens if read again)
        header, body, receipts, _ = f.read(number)
        if at and self._files[at - 1].verified and not f.linked:
            before = self._files[at - 1]
            if before.final_td != f.initial_td:
                raise Era1Error(
                    f"{f.name}: starts from total difficulty {f.initial_td}, but {before.name} "
                    f"ends at {before.final_td}"
                )
            f.linked = True
        try:
            return f, decode_block(header, body, receipts if with_logs else None)
        except (RlpDecodingError, InvalidBlockError) as err:
            raise Era1Error(f"{f.name}: block {number}: {err}") from None

    def _parse(
        self, first: int, last: int, with_logs: bool
    ) -> tuple[list[Block], list[ArchiveRecord]]:
        if first < self.first:
            raise Era1Error(
                f"the era1 files of {self.directory} start at block {self.first}, not {first} "
                f"(use --from-block {self.first})"
            )
        if last > self.last:
            raise MissingBlockError(self.last + 1)
        blocks: list[Block] = []
        records: list[ArchiveRecord] = []
        for number in range(first, last + 1):
            f, record = self._record(number, with_logs)
            try:
                if with_logs:
                    block = parse_block(
                        record["block"], record["receipts"], number, verify=self.verify
                    )
                else:
                    block = Block(parse_header(record["block"], number, verify=self.verify), None)
                check_links([b.header for b in blocks[-1:]] + [block.header], None)
            except InvalidBlockError as err:
                raise Era1Error(f"{f.name}: {err}") from None
            blocks.append(block)
            records.append(record)
        return blocks, records

    async def chain_id(self) -> int | None:
        """The chain id given with ``--chain-id`` (era1 files name none)."""
        return self._chain_id

    async def latest(self) -> Header:
        if self._head is None:
            self._head = (await self.blocks(self.last, self.last, with_logs=False))[0].header
        return self._head

    async def header_at(self, number: int) -> Header | None:
        if not self.first <= number <= self.last:
            return None
        return (await self.blocks(number, number, with_logs=False))[0].header

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        return (await asyncio.to_thread(self._parse, first, last, with_logs))[0]

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        return (await asyncio.to_thread(self._parse, first, last, with_logs))[1]

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        if not self.first <= header.number <= self.last:
            raise LogsUnavailableError(f"block {header.number}: not in the era1 files")
        (block,) = await self.blocks(header.number, header.number, with_logs=True)
        if block.header.hash != header.hash:
            raise LogsUnavailableError(
                f"block {header.number}: the era1 files hold another block at this height"
            )
        assert block.logs is not None
        return block.logs

    async def watch_heads(self, on_head: HeadCallback) -> None:
        return None

    async def aclose(self) -> None:
        for f in self._files:
            f.close()
