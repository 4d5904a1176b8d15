"""The era1 accumulator: the SSZ ``hash_tree_root`` of a file's header records.

As go-ethereum's ``internal/era/accumulator.go`` (``ComputeAccumulator``) and the Portal
network's header accumulator: each ``header-record {block-hash: Bytes32, total-difficulty:
uint256}`` hashes to sha256(hash ‖ td as 32 bytes little-endian); the list of them is
merkleized as an SSZ ``List[header-record, 8192]`` (padded with zero-subtree hashes to 8192
leaves, depth 13) and its length mixed in: sha256(root ‖ length as 32 bytes little-endian).
What differs: plain :mod:`hashlib` instead of a general SSZ library.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Final

__all__ = ["MAX_ERA1_SIZE", "accumulator_root", "header_record_root"]

MAX_ERA1_SIZE: Final = 8192
"""Most blocks in one era1 file (the SSZ list limit of the accumulator)."""
_DEPTH: Final = 13  # 2**13 == MAX_ERA1_SIZE


def _zero_hashes() -> list[bytes]:
    out = [bytes(32)]
    for _ in range(_DEPTH):
        out.append(sha256(out[-1] + out[-1]).digest())
    return out


_ZERO: Final = _zero_hashes()


def header_record_root(block_hash: bytes, total_difficulty: int) -> bytes:
    """``hash_tree_root`` of one header record."""
    return sha256(block_hash + total_difficulty.to_bytes(32, "little")).digest()


def accumulator_root(hashes: Sequence[bytes], total_difficulties: Sequence[int]) -> bytes:
    """The accumulator root of the records ``(hashes[i], total_difficulties[i])``."""
    if len(hashes) != len(total_difficulties) or len(hashes) > MAX_ERA1_SIZE:
        raise ValueError(f"{len(hashes)} hashes, {len(total_difficulties)} total difficulties")
    layer = [header_record_root(h, td) for h, td in zip(hashes, total_difficulties, strict=True)]
    for depth in range(_DEPTH):
        if len(layer) % 2:
            layer.append(_ZERO[depth])
        layer = [sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    root = layer[0] if layer else _ZERO[_DEPTH]
    return sha256(root + len(hashes).to_bytes(32, "little")).digest()
