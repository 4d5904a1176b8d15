"""A generated chain as a :class:`~chainindex.source.base.ChainSource`: :class:`SyntheticSource`.

It follows :class:`~chainindex.source.archive.ArchiveSource`, with the file taken out: the
records :class:`~chainindex.synthetic.ChainGenerator` would write into a chain archive are
generated when sync asks for them and handed, as the same wire dicts, to the same checks
(:func:`~chainindex.source.parse.parse_block`, :func:`~chainindex.source.parse.check_links`).
A saturated chain's archive takes about 380 KB per block; this source takes no disk, so
benchmarks can sync 100k+ saturated blocks with their logs.

What differs from an archive: a block's hash commits to every block before it, so block
``n`` can only be generated after the hashes up to ``n - 1`` are known. The source remembers
the parent hash at the start of every generator batch it has passed (32 bytes per batch of
32 blocks at saturated fill, 512 at sparse fill); reaching an unseen height means generating
the headers up to it first. The head (:meth:`SyntheticSource.latest`) is therefore known only
after one headers-only pass over the whole chain, run on the first call (about 290 blocks/s
saturated on one core, measured in CPU time: each batch's receipts are drawn for their root),
which also leaves every later seek cheap. Headers-only
requests use a headers-only generator (whose headers equal the full chain's); full requests
a full one; each keeps its place, so sync's consecutive runs never regenerate a block.

**Spec** (``--upstream``)::

    synthetic:FILL[?key=value&key=value...]

``FILL`` is ``saturated`` (the default when empty), ``sparse`` or a fraction (``0.3``,
``30%``) of the 2048 bloom bits set per block. Keys: ``blocks`` (required: how many blocks),
``seed`` (default 0), ``first`` (height of the first block, default 0), ``logs-per-block``
(a mean log count instead of ``FILL``), ``contracts``, ``holders`` (the population, as
``logfilter generate``'s flags). For example::

    logfilter sync --upstream 'synthetic:saturated?blocks=100000&seed=1' --datadir d --no-follow

gives the chain of ``logfilter generate --fill saturated --blocks 100000 --seed 1``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import parse_qsl

import numpy as np
from eth_typing import Hash32

from chainindex.errors import (
    ArchiveError,
    ChainIndexError,
    ConfigError,
    LogsUnavailableError,
    MissingBlockError,
    SyntheticChainError,
)
from chainindex.source.base import SYNTHETIC_SCHEME, HeadCallback
from chainindex.source.parse import check_links, parse_block, parse_header
from chainindex.source.wire import ArchiveRecord
from chainindex.synthetic import ChainGenerator, ChainShape, GeneratedRecord, parse_fill
from chainindex.types import Block, ChainLog, Header

__all__ = ["SCHEME", "SyntheticSource", "is_synthetic"]

SCHEME = SYNTHETIC_SCHEME
"""How an ``--upstream`` names a generated chain."""

log = logging.getLogger(__name__)

_INT_KEYS = ("blocks", "seed", "first", "contracts", "holders")
_KEYS = (*_INT_KEYS, "logs-per-block")


def is_synthetic(target: str) -> bool:
    """Whether ``target`` is a synthetic-chain spec."""
    return target.lower().startswith(SCHEME)


class _StoppedError(ChainIndexError):
    """The source was closed while a generation ran in its thread."""


class SyntheticSource:
    """The blocks of a generated chain, validated as an archive's (see the module)."""

    finite = True
    """The chain has the blocks asked for: sync stops at its last block."""

    def __init__(self, shape: ChainShape, seed: int, blocks: int, *, first_block: int = 0) -> None:
        """Blocks ``first_block .. first_block + blocks - 1`` of the chain (shape, seed)."""
        if blocks < 1:
            raise SyntheticChainError(f"a synthetic chain needs at least 1 block, got {blocks}")
        self.shape = shape
        """The chain's parameters."""
        self.seed = seed
        """Its seed."""
        self._headers = ChainGenerator(shape, seed, first_block=first_block, headers_only=True)
        self._full: ChainGenerator | None = None
        self.first = first_block
        """Number of the first block."""
        self.last = first_block + blocks - 1
        """Number of the last block."""
        self._start = (first_block, Hash32(self._headers.parent_hash))
        self._batch = self._headers.batch_size
        self._first_batch = first_block // self._batch
        slots = self.last // self._batch - self._first_batch + 1
        self._parents = np.zeros((slots, 32), dtype=np.uint8)
        """Per generator batch from the first: the hash of the block before the batch."""
        self._known = np.zeros(slots, dtype=np.bool_)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._head: Header | None = None
        self.spec = ""
        """The spec it was made from (empty when built directly)."""

    @classmethod
    def from_spec(cls, spec: str) -> SyntheticSource:
        """The source a ``synthetic:`` spec names (see the module); a bad spec is one
        :class:`~chainindex.errors.ConfigError`."""
        body = spec[len(SCHEME) :]
        fill_text, _, query = body.partition("?")
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
        except ValueError:
            raise ConfigError(f"{spec}: expected key=value pairs joined by '&'") from None
        values: dict[str, str] = {}
        for key, value in pairs:
            if key not in _KEYS:
                raise ConfigError(f"{spec}: unknown key {key!r} (known: {', '.join(_KEYS)})")
            if key in values:
                raise ConfigError(f"{spec}: {key!r} given twice")
            values[key] = value
        if "blocks" not in values:
            raise ConfigError(f"{spec}: say how many blocks, e.g. {SCHEME}saturated?blocks=1000")
        ints: dict[str, int] = {}
        for key in _INT_KEYS:
            if key in values:
                try:
                    ints[key] = int(values[key], 0)
                except ValueError:
                    raise ConfigError(f"{spec}: {key} must be a whole number") from None
                if ints[key] < 0:
                    raise ConfigError(f"{spec}: {key} must not be negative")
        try:
            logs_per_block = None
            if "logs-per-block" in values:
                logs_per_block = float(values["logs-per-block"])
            fill = None if logs_per_block is not None else parse_fill(fill_text or "saturated")
            defaults = ChainShape()
            shape = ChainShape(
                fill=fill,
                logs_per_block=logs_per_block,
                contracts=ints.get("contracts", defaults.contracts),
                holders=ints.get("holders", defaults.holders),
            )
            source = cls(
                shape, ints.get("seed", 0), ints["blocks"], first_block=ints.get("first", 0)
            )
        except (SyntheticChainError, ValueError) as err:
            raise ConfigError(f"{spec}: {err}") from None
        source.spec = spec
        return source

    @property
    def name(self) -> str:
        return self.spec or f"synthetic chain (seed {self.seed}, {self.first}..{self.last})"

    # --- generation (in a worker thread, under the lock) -------------------------------------

    def _slot(self, number: int) -> int:
        return number // self._batch - self._first_batch

    def _track(self, generator: ChainGenerator) -> None:
        """Remember the parent hash of the block the generator makes next, if it starts a
        batch."""
        number = generator.next_block
        if number % self._batch == 0 and number <= self.last:
            slot = self._slot(number)
            if not self._known[slot]:
                self._parents[slot] = np.frombuffer(generator.parent_hash, dtype=np.uint8)
                self._known[slot] = True

    def _produce(self, generator: ChainGenerator, count: int) -> list[GeneratedRecord]:
        """The generator's next ``count`` records."""
        out = []
        for record in generator.records(count):
            if self._stop.is_set():
                raise _StoppedError
            out.append(record)
            self._track(generator)
        return out

    def _skip(self, generator: ChainGenerator, count: int) -> None:
        """Move the generator ``count`` blocks on, keeping no record (memory stays that of
        one generator batch however far it walks)."""
        for _ in generator.records(count):
            if self._stop.is_set():
                raise _StoppedError
            self._track(generator)

    def _base(self, slot: int) -> tuple[int, Hash32]:
        """The first block of batch ``slot`` that is in the chain, and its parent's hash."""
        if slot == 0:
            return self._start
        return (slot + self._first_batch) * self._batch, Hash32(self._parents[slot].tobytes())

    def _place(self, generator: ChainGenerator, number: int) -> None:
        """Make ``number`` the generator's next block."""
        if generator.next_block == number:
            return
        slot = self._slot(number)
        if slot > 0 and not self._known[slot]:
            # The hashes up to the batch of ``number`` are not known yet: walk the headers
            # there from the last batch whose parent is known (the first one always is).
            known = np.flatnonzero(self._known[:slot])
            walker = self._headers
            start = self._base(int(known[-1]) if known.size else 0)
            target = self._base(slot)[0]
            if not start[0] <= walker.next_block <= target:
                walker.next_block, walker.parent_hash = start
            log.info("synthetic chain: generating headers %d..%d", walker.next_block, target - 1)
            self._skip(walker, target - walker.next_block)
        base, parent = self._base(slot)
        if not base <= generator.next_block <= number:
            generator.next_block, generator.parent_hash = base, parent
        self._skip(generator, number - generator.next_block)

    def _generator(self, first: int, last: int, with_logs: bool) -> ChainGenerator:
        """The generator for ``first..last`` (checked), placed at ``first``; under the lock."""
        if first < self.first:
            raise ArchiveError(
                f"{self.name} starts at block {self.first}, not {first} "
                f"(use --from-block {self.first})"
            )
        if last > self.last:
            raise MissingBlockError(self.last + 1)
        if with_logs:
            if self._full is None:
                self._full = ChainGenerator(self.shape, self.seed, first_block=self.first)
            generator = self._full
        else:
            generator = self._headers
        self._place(generator, first)
        return generator

    def _generate(self, first: int, last: int, with_logs: bool) -> list[GeneratedRecord]:
        with self._lock:
            return self._produce(self._generator(first, last, with_logs), last - first + 1)

    def _parse(self, first: int, last: int, with_logs: bool) -> tuple[list[Block], list[Any]]:
        """Blocks ``first..last``, each parsed as soon as it is generated and its record
        dropped: a run holds one record's JSON at a time, not the run's (about 1.3 KB a log)."""
        blocks = []
        with self._lock:
            generator = self._generator(first, last, with_logs)
            for number, record in enumerate(generator.records(last - first + 1), start=first):
                if self._stop.is_set():
                    raise _StoppedError
                self._track(generator)
                if with_logs:
                    blocks.append(parse_block(record["block"], record["receipts"], number))
                else:
                    blocks.append(Block(parse_header(record["block"], number), None))
        check_links([b.header for b in blocks], None)
        return blocks, []

    def _parse_records(
        self, first: int, last: int, with_logs: bool
    ) -> tuple[list[Block], list[Any]]:
        """Blocks ``first..last`` and the records they were parsed from."""
        records = self._generate(first, last, with_logs)
        blocks = []
        for number, record in enumerate(records, start=first):
            if with_logs:
                blocks.append(parse_block(record["block"], record["receipts"], number))
            else:
                blocks.append(Block(parse_header(record["block"], number), None))
        check_links([b.header for b in blocks], None)
        return blocks, records

    async def _run(
        self, work: Callable[[int, int, bool], tuple[list[Block], list[Any]]], *args: Any
    ) -> tuple[list[Block], list[Any]]:
        try:
            return await asyncio.to_thread(work, *args)
        except _StoppedError:
            raise asyncio.CancelledError from None

    # --- the ChainSource protocol ------------------------------------------------------------

    async def chain_id(self) -> int | None:
        """The chain id the generator writes into its records (as ``generate`` does)."""
        return self._headers.chain_id

    async def latest(self) -> Header:
        if self._head is None:
            self._head = (await self._run(self._parse, self.last, self.last, False))[0][0].header
        return self._head

    async def header_at(self, number: int) -> Header | None:
        if not self.first <= number <= self.last:
            return None
        return (await self._run(self._parse, number, number, False))[0][0].header

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        return (await self._run(self._parse, first, last, with_logs))[0]

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        records = (await self._run(self._parse_records, first, last, with_logs))[1]
        if not with_logs:  # as an archive's: the header alone
            records = [{"block": record["block"]} for record in records]
        return cast(list[ArchiveRecord], records)

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        if not self.first <= header.number <= self.last:
            raise LogsUnavailableError(f"block {header.number}: not in {self.name}")
        (block,) = await self.blocks(header.number, header.number, with_logs=True)
        if block.header.hash != header.hash:
            raise LogsUnavailableError(
                f"block {header.number}: {self.name} holds another block at this height"
            )
        assert block.logs is not None
        return block.logs

    async def watch_heads(self, on_head: HeadCallback) -> None:
        return None

    async def aclose(self) -> None:
        """Stop a generation running in the worker thread (at its next block)."""
        self._stop.set()
