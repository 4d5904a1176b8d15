"""Ethereum log blooms: the three bloom bits of a value, and blooms of whole log sets.

A bloom is 256 bytes holding 2048 bits. Bloom bit ``b`` lives in byte ``255 - b // 8`` under
mask ``1 << (b % 8)``, which is exactly bit ``b`` of the bloom read as a big-endian integer;
this module uses that view for speed. A value (an address or a topic) sets three bits derived
from ``keccak256(value)``: for i in 0..2, ``((h[2i] << 8) & 2047) | h[2i+1]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bloombits.errors import BloombitsArgumentError
from bloombits.keccak import keccak256

__all__ = [
    "BLOOM_BIT_LENGTH",
    "BLOOM_BYTE_LENGTH",
    "MASK_CACHE_SIZE",
    "BloomIndexes",
    "bloom_contains",
    "bloom_indexes",
    "bloom_mask",
    "blooms_contain",
    "logs_bloom",
]

BLOOM_BYTE_LENGTH = 256
"""Size of a logs bloom in bytes."""

BLOOM_BIT_LENGTH = 2048
"""Size of a logs bloom in bits."""

BloomIndexes = tuple[int, int, int]
"""The three bloom bits (0..2047) a value sets; they may repeat."""

_INDEX_CACHE_SIZE = 1 << 17

MASK_CACHE_SIZE = 1 << 15
"""Values whose :func:`bloom_mask` is kept. An entry costs about 450 bytes (the 2048-bit
integer, the cache's link, the value kept alive): 131,072 entries held about 55 MiB of a
saturated sync (tracemalloc); 32,768 keep the values that recur (the popular contracts,
holders and event signatures) in about 14 MiB, and a miss costs one keccak256 (about 1 µs)."""


@lru_cache(maxsize=_INDEX_CACHE_SIZE)
def bloom_indexes(value: bytes) -> BloomIndexes:
    """Return the three bloom bits that ``value`` sets (geth's ``calcBloomIndexes``).

    Results are cached: addresses and topics repeat heavily on a real chain.
    """
    h = keccak256(bytes(value))
    return (
        ((h[0] << 8) & 2047) | h[1],
        ((h[2] << 8) & 2047) | h[3],
        ((h[4] << 8) & 2047) | h[5],
    )


@lru_cache(maxsize=MASK_CACHE_SIZE)
def bloom_mask(value: bytes) -> int:
    """The bloom of ``value`` alone, as a big-endian integer (bit ``b`` = bloom bit ``b``).

    Computed from the hash directly rather than through :func:`bloom_indexes`, so that a value
    seen for the first time costs one cache entry, not two (sync meets many such values).
    """
    h = keccak256(bytes(value))
    return (
        (1 << (((h[0] << 8) & 2047) | h[1]))
        | (1 << (((h[2] << 8) & 2047) | h[3]))
        | (1 << (((h[4] << 8) & 2047) | h[5]))
    )


def logs_bloom(logs: Iterable[tuple[bytes, Sequence[bytes]]]) -> bytes:
    """The 256-byte bloom of ``(address, topics)`` pairs, as a block or receipt header holds it."""
    bits = 0
    for address, topics in logs:
        bits |= bloom_mask(address)
        for topic in topics:
            bits |= bloom_mask(topic)
    return bits.to_bytes(BLOOM_BYTE_LENGTH, "big")


def bloom_contains(bloom: bytes, value: bytes) -> bool:
    """Whether all three bloom bits of ``value`` are set in ``bloom`` (it *may* contain it)."""
    if len(bloom) != BLOOM_BYTE_LENGTH:
        raise BloombitsArgumentError(f"a bloom is {BLOOM_BYTE_LENGTH} bytes, got {len(bloom)}")
    for bit in bloom_indexes(value):
        if not bloom[BLOOM_BYTE_LENGTH - 1 - bit // 8] & (1 << (bit % 8)):
            return False
    return True


def blooms_contain(blooms: npt.NDArray[np.uint8], value: bytes) -> npt.NDArray[np.bool_]:
    """Vectorized :func:`bloom_contains` over a ``(n, 256)`` array of blooms."""
    if blooms.ndim != 2 or blooms.shape[1] != BLOOM_BYTE_LENGTH:
        raise BloombitsArgumentError(
            f"expected an (n, {BLOOM_BYTE_LENGTH}) array, got {blooms.shape}"
        )
    result = np.ones(blooms.shape[0], dtype=np.bool_)
    for bit in bloom_indexes(value):
        column = blooms[:, BLOOM_BYTE_LENGTH - 1 - bit // 8]
        result &= (column & np.uint8(1 << (bit % 8))) != 0
    return result
