"""Random chains of blooms for matcher tests, the brute-force reference, and in-memory
retrievers (plain, flaky, failing, slow) serving the chains' section vectors.

The reference answers a filter the slow, obvious way: block by block, ``bloom_contains`` of
each value in the block's bloom, groups ANDed, values ORed, empty groups skipped. Section
vectors come from the real :class:`~bloombits.Generator`, so the matcher is checked end to
end against blooms, not against vectors it could misread the same way twice.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bloombits.bloom import bloom_contains, logs_bloom
from bloombits.generator import Generator
from bloombits.retrieval import VectorBatch

Filters = list[list[bytes]]


@dataclass
class Chain:
    """``sections`` sections of ``section_size`` blocks: blooms and rotated vectors."""

    section_size: int
    blooms: list[bytes]
    """One 256-byte bloom per block."""
    vectors: list[np.ndarray] = field(default_factory=list)
    """Per section, the ``(2048, section_size // 8)`` vectors."""

    def __post_init__(self) -> None:
        if not self.vectors:
            for first in range(0, len(self.blooms), self.section_size):
                gen = Generator(self.section_size)
                gen.add_blooms(0, list(self.blooms[first : first + self.section_size]))
                self.vectors.append(gen.vectors())

    @property
    def blocks(self) -> int:
        return len(self.blooms)


def random_chain(
    rng: np.random.Generator,
    section_size: int,
    sections: int,
    pool: Sequence[bytes],
    *,
    rate: float = 0.1,
    noise: float = 0.0,
) -> Chain:
    """Blocks whose logs use each ``pool`` value with probability ``rate``, plus bloom bits
    set at random with probability ``noise``."""
    blooms = []
    for _ in range(section_size * sections):
        values = [v for v in pool if rng.random() < rate]
        bloom = int.from_bytes(logs_bloom((v, []) for v in values), "big")
        if noise:
            bits = np.packbits(rng.random(2048) < noise).tobytes()
            bloom |= int.from_bytes(bits, "big")
        blooms.append(bloom.to_bytes(256, "big"))
    return Chain(section_size, blooms)


def reference(chain: Chain, filters: Filters, begin: int, end: int) -> list[int]:
    """Block numbers in ``begin..end`` whose bloom may hold a log matching ``filters``."""
    return [
        number
        for number in range(begin, end + 1)
        if all(
            any(bloom_contains(chain.blooms[number], v) for v in group)
            for group in filters
            if group
        )
    ]


def random_values(count: int, rng: np.random.Generator) -> list[bytes]:
    """Addresses and topics (20 or 32 random bytes)."""
    return [rng.bytes(int(rng.choice([20, 32]))) for _ in range(count)]


class MemoryRetriever:
    """Serves a chain's vectors; counts every (bit, section) it is asked for."""

    def __init__(
        self,
        chain: Chain,
        *,
        as_arrays: bool = False,
        delay: float = 0.0,
        available: int | None = None,
    ) -> None:
        self.chain = chain
        self.as_arrays = as_arrays
        """Answer with a VectorBatch instead of a list of bytes."""
        self.delay = delay
        """Seconds each retrieval takes."""
        self.available = len(chain.vectors) if available is None else available
        """Sections below this are available; the others answer None."""
        self.asked: Counter[tuple[int, int]] = Counter()
        """(bit, section) -> times asked."""
        self.calls = 0

    def vector(self, bit: int, section: int) -> bytes | None:
        if section >= self.available:
            return None
        vector: bytes = self.chain.vectors[section][bit].tobytes()
        return vector

    async def retrieve(self, bit: int, sections: list[int]) -> Sequence[bytes | None] | VectorBatch:
        self.calls += 1
        assert sections == sorted(set(sections)), "sections must come ascending and distinct"
        self.asked.update((bit, s) for s in sections)
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = [self.vector(bit, s) for s in sections]
        if not self.as_arrays:
            return answer
        width = self.chain.section_size // 8
        vectors = np.zeros((len(sections), width), dtype=np.uint8)
        present = np.array([v is not None for v in answer], dtype=np.bool_)
        for i, v in enumerate(answer):
            if v is not None:
                vectors[i] = np.frombuffer(v, dtype=np.uint8)
        return VectorBatch(vectors, present)


class FlakyRetriever(MemoryRetriever):
    """Answers None for each (bit, section) the first ``misses`` times it is asked."""

    def __init__(self, chain: Chain, misses: int, **kwargs: object) -> None:
        super().__init__(chain, **kwargs)  # type: ignore[arg-type]
        self.misses = misses

    def vector(self, bit: int, section: int) -> bytes | None:
        if self.asked[(bit, section)] <= self.misses:
            return None
        return super().vector(bit, section)


class RetrievalFailedError(Exception):
    """What :class:`FailingRetriever` raises."""


class FailingRetriever(MemoryRetriever):
    """Raises :class:`RetrievalFailedError` when asked for ``section`` (any bit)."""

    def __init__(self, chain: Chain, section: int, **kwargs: object) -> None:
        super().__init__(chain, **kwargs)  # type: ignore[arg-type]
        self.section = section

    async def retrieve(self, bit: int, sections: list[int]) -> Sequence[bytes | None] | VectorBatch:
        if self.section in sections:
            raise RetrievalFailedError(f"disk on fire at section {self.section}")
        return await super().retrieve(bit, sections)


def fresh_value() -> bytes:
    """A value no chain in these tests contains (its bits may still be set by noise)."""
    return os.urandom(32)
