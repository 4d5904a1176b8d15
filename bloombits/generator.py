"""The section ``Generator``: rotates a section's header blooms into per-bit vectors.

A section of ``section_size`` blocks becomes 2048 bit-vectors of ``section_size // 8`` bytes.
Vector ``bit`` has, for the block at offset ``k`` in the section, bit ``7 - k % 8`` of byte
``k // 8`` set when that block's bloom has bloom bit ``bit`` set (go-ethereum's layout).

Rotation is a transpose of a ``section_size x 2048`` bit matrix. It is done eight blocks by
eight bloom bits at a time: the 8x8 bit block is loaded into one ``uint64`` and transposed
with three rounds of masked shifts (Hacker's Delight, "transpose8"), vectorized over every
block of the section with numpy. No Python loop touches individual bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bloombits.arrays import U8
from bloombits.bloom import BLOOM_BIT_LENGTH, BLOOM_BYTE_LENGTH
from bloombits.errors import GeneratorError

__all__ = ["Generator", "rotate"]


# (shift, mask) of the three rounds of an 8x8 bit-matrix transpose held in a uint64 where
# bit 8*row + col is element (row, col).
_TRANSPOSE_ROUNDS = (
    (7, np.uint64(0x00AA00AA00AA00AA)),
    (14, np.uint64(0x0000CCCC0000CCCC)),
    (28, np.uint64(0x00000000F0F0F0F0)),
)


def rotate(blooms: U8) -> U8:
    """Rotate ``(n, 256)`` blooms (``n`` a multiple of 8) into ``(2048, n // 8)`` vectors."""
    n = blooms.shape[0]
    if blooms.ndim != 2 or blooms.shape[1] != BLOOM_BYTE_LENGTH or n % 8:
        raise GeneratorError(f"expected (8k, {BLOOM_BYTE_LENGTH}) blooms, got {blooms.shape}")
    groups = n // 8
    # blocks[g, r, j]: block 8g + r, bloom byte j. Reverse the byte axis so that byte j holds
    # bloom bits 8j..8j+7 (bit c at mask 1 << c), and the row axis so that block 8g + r lands
    # at row 7 - r: after the transpose it is then bit 7 - r of the output byte (MSB first).
    blocks = blooms.reshape(groups, 8, BLOOM_BYTE_LENGTH)[:, ::-1, ::-1]
    words = np.ascontiguousarray(blocks.transpose(0, 2, 1)).view(np.uint64)[..., 0]
    for shift, mask in _TRANSPOSE_ROUNDS:
        s = np.uint64(shift)
        t = (words ^ (words >> s)) & mask
        words ^= t ^ (t << s)
    # words[g, j] now holds, in byte c, the 8 blocks of group g for bloom bit 8j + c.
    out = words.view(np.uint8).reshape(groups, BLOOM_BYTE_LENGTH, 8).transpose(1, 2, 0)
    return np.ascontiguousarray(out).reshape(BLOOM_BIT_LENGTH, groups)


class Generator:
    """Collects the blooms of one section, in block order, and yields its rotated bit-vectors.

    Mirrors go-ethereum's ``bloombits.Generator``: blooms must arrive in order starting at
    index 0, at most ``section_size`` of them, and :meth:`bitset` is available only once the
    section is complete.
    """

    def __init__(self, section_size: int) -> None:
        if section_size <= 0 or section_size % 8:
            raise GeneratorError(f"section size {section_size} is not a positive multiple of 8")
        self.section_size = section_size
        """Number of blocks in the section."""
        self._blooms: U8 = np.zeros((section_size, BLOOM_BYTE_LENGTH), dtype=np.uint8)
        """Header blooms received so far, one row per block offset."""
        self._next = 0
        """Offset of the next bloom expected."""
        self._vectors: U8 | None = None
        """The rotated vectors, computed once when first asked for."""

    @property
    def complete(self) -> bool:
        """Whether every bloom of the section has been added."""
        return self._next == self.section_size

    def add_bloom(self, index: int, bloom: bytes) -> None:
        """Add the bloom of the block at offset ``index``; offsets must come in order."""
        self._check_next(index, 1)
        if len(bloom) != BLOOM_BYTE_LENGTH:
            raise GeneratorError(f"bloom of {len(bloom)} bytes, expected {BLOOM_BYTE_LENGTH}")
        self._blooms[index] = np.frombuffer(bloom, dtype=np.uint8)
        self._next += 1

    def add_blooms(self, first_index: int, blooms: U8 | Sequence[bytes]) -> None:
        """Add consecutive blooms starting at offset ``first_index`` (vectorized).

        ``blooms`` is an ``(m, 256)`` uint8 array or a sequence of 256-byte strings.
        """
        if not isinstance(blooms, np.ndarray):
            if any(len(b) != BLOOM_BYTE_LENGTH for b in blooms):
                raise GeneratorError(f"every bloom must be {BLOOM_BYTE_LENGTH} bytes")
            blooms = np.frombuffer(b"".join(blooms), dtype=np.uint8).reshape(-1, BLOOM_BYTE_LENGTH)
        if blooms.ndim != 2 or blooms.shape[1] != BLOOM_BYTE_LENGTH:
            raise GeneratorError(f"expected (m, {BLOOM_BYTE_LENGTH}) blooms, got {blooms.shape}")
        count = blooms.shape[0]
        self._check_next(first_index, count)
        self._blooms[first_index : first_index + count] = blooms
        self._next += count

    def _check_next(self, index: int, count: int) -> None:
        if self._next >= self.section_size or index + count > self.section_size:
            raise GeneratorError(
                f"section out of bounds: blooms {index}..{index + count - 1} "
                f"in a section of {self.section_size}"
            )
        if index != self._next:
            raise GeneratorError(f"bloom filter with unexpected index {index}, want {self._next}")

    def vectors(self) -> U8:
        """All 2048 bit-vectors as a ``(2048, section_size // 8)`` array (read-only)."""
        if not self.complete:
            raise GeneratorError(
                f"bloom not fully generated yet: {self._next} of {self.section_size} blooms"
            )
        if self._vectors is None:
            self._vectors = rotate(self._blooms)
            self._vectors.flags.writeable = False
        return self._vectors

    def bitset(self, bit: int) -> bytes:
        """The bit-vector of bloom bit ``bit`` (0..2047) once the section is complete."""
        if not 0 <= bit < BLOOM_BIT_LENGTH:
            raise GeneratorError(f"bloom bit {bit} out of range 0..{BLOOM_BIT_LENGTH - 1}")
        return bytes(self.vectors()[bit])
