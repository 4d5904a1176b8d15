"""``--checkpoint NUMBER:HASH``: refuse a chain that does not contain a block known out of band.

Light clients start from a trusted block hash (go-ethereum's ``--beacon.checkpoint``, and the
weak-subjectivity checkpoints of the consensus specs); the chain they follow must contain it.
Here the checkpoint is checked at start against the data directory's block at that height
(:func:`check_stored`), and then against every header the source hands out at that height
(:class:`CheckpointedSource`: blocks of a fetch, a reorg's branch, ``header_at``, the head),
before anything of it is stored. A mismatch is a
:class:`~chainindex.errors.CheckpointMismatchError`, not retried: the upstream serves another
chain. What differs from a light client: the chain before the checkpoint is still synced and
checked block by block; the checkpoint only pins which chain that is.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import Hash32

from chainindex.errors import CheckpointMismatchError, ConfigError
from chainindex.source.base import ChainSource, HeadCallback
from chainindex.source.wire import ArchiveRecord
from chainindex.store.writer import ChainWriter
from chainindex.types import Block, ChainLog, Header

__all__ = ["Checkpoint", "CheckpointedSource", "check_stored", "guard_source"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A block the chain must contain: its number and hash."""

    number: int
    """Height of the block."""
    hash: Hash32
    """Its hash."""

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """``NUMBER:HASH`` (decimal number, 0x-prefixed 32-byte hash); ConfigError otherwise."""
        number_text, _, hash_text = text.partition(":")
        try:
            number = int(number_text, 10)
            if number < 0 or not hash_text.startswith(("0x", "0X")) or len(hash_text) != 66:
                raise ValueError
            block_hash = bytes.fromhex(hash_text[2:])
        except ValueError:
            raise ConfigError(
                f"--checkpoint {text!r} is not NUMBER:HASH (a block number and its 0x hash)"
            ) from None
        return cls(number, Hash32(block_hash))

    def check(self, header: Header, where: str) -> None:
        """CheckpointMismatchError when ``header`` is at the checkpoint's height with another
        hash."""
        if header.number == self.number and header.hash != self.hash:
            raise CheckpointMismatchError(
                f"{where} has block {self.number} with hash 0x{header.hash.hex()}, not the "
                f"checkpoint's 0x{self.hash.hex()}: it is another chain (--checkpoint)"
            )


def check_stored(writer: ChainWriter, checkpoint: Checkpoint) -> None:
    """CheckpointMismatchError when the data directory holds another block at the height."""
    stored = writer.header(checkpoint.number)
    if stored is not None:
        checkpoint.check(stored, "the data directory")


class CheckpointedSource:
    """A :class:`ChainSource` whose headers at the checkpoint's height are checked."""

    def __init__(self, source: ChainSource, checkpoint: Checkpoint) -> None:
        self.inner = source
        """The source checked."""
        self.checkpoint = checkpoint
        """The block its chain must contain."""

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def finite(self) -> bool:
        return self.inner.finite

    async def chain_id(self) -> int | None:
        return await self.inner.chain_id()

    async def latest(self) -> Header:
        header = await self.inner.latest()
        self.checkpoint.check(header, self.name)
        return header

    async def header_at(self, number: int) -> Header | None:
        header = await self.inner.header_at(number)
        if header is not None:
            self.checkpoint.check(header, self.name)
        return header

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        blocks = await self.inner.blocks(first, last, with_logs=with_logs)
        if first <= self.checkpoint.number <= last:
            for block in blocks:
                self.checkpoint.check(block.header, self.name)
        return blocks

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        return await self.inner.records(first, last, with_logs=with_logs)

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        return await self.inner.block_logs(header)

    async def watch_heads(self, on_head: HeadCallback) -> None:
        await self.inner.watch_heads(on_head)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guard_source(
    source: ChainSource, checkpoint: Checkpoint | None, writer: ChainWriter
) -> ChainSource:
    """``source`` checked against ``checkpoint`` (unchanged without one), after checking the
    data directory's block at that height."""
    if checkpoint is None:
        return source
    check_stored(writer, checkpoint)
    return CheckpointedSource(source, checkpoint)
