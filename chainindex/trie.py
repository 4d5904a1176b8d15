"""RLP encoding and the root of an ordered Merkle-Patricia trie (``receiptsRoot``).

Follows go-ethereum: ``rlp`` (the encoding, Yellow Paper appendix B), ``core/types/hashing.go``
``DeriveSha`` (the trie of a block's list, keyed by ``rlp(index)``) and ``trie/stacktrie.go``
(hashing a trie whose keys arrive sorted in one pass, keeping only the path being built). What
differs: instead of inserting keys one at a time into a stack of open nodes, the sorted keys are
split recursively (common prefix → extension node, first differing nibble → branch node), which
visits every node once and hashes it as soon as its children are done, as the stack trie does;
keys are hex strings, one character per nibble. Node encoding and the "embed a node shorter
than 32 bytes, else reference its keccak256" rule are the trie's (``trie/hasher.go``); the root
is always hashed. Keys must be prefix-free (``rlp(index)`` keys are), so a branch never holds a
value of its own.

Only what block verification needs: byte strings, integers and lists of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bloombits.keccak import keccak256

__all__ = [
    "EMPTY_TRIE_ROOT",
    "encode_bytes",
    "encode_int",
    "encode_list",
    "index_key",
    "ordered_trie_root",
    "rlp",
]

EMPTY_TRIE_ROOT: Final = keccak256(b"\x80")
"""Root of an empty trie: keccak256 of the RLP of the empty string."""

RlpItem = bytes | int | Sequence["RlpItem"]
"""What :func:`rlp` encodes: byte strings, non-negative integers, and lists of them."""


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


def encode_bytes(item: bytes) -> bytes:
    """RLP of a byte string."""
    length = len(item)
    if length == 1 and item[0] < 0x80:
        return item
    if length < 56:
        return bytes((0x80 + length,)) + item
    if length < 256:
        return bytes((0xB8, length)) + item
    return _length_prefix(length, 0x80) + item


def encode_int(value: int) -> bytes:
    """RLP of a non-negative integer (its minimal big-endian bytes; zero is the empty string)."""
    if value < 0x80:
        return b"\x80" if value == 0 else bytes((value,))
    return encode_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def encode_list(payload: bytes) -> bytes:
    """RLP of a list whose items' encodings, concatenated, are ``payload``."""
    length = len(payload)
    if length < 56:
        return bytes((0xC0 + length,)) + payload
    if length < 256:
        return bytes((0xF8, length)) + payload
    if length < 65536:
        return bytes((0xF9, length >> 8, length & 0xFF)) + payload
    return _length_prefix(length, 0xC0) + payload


def rlp(item: RlpItem) -> bytes:
    """RLP of ``item`` (bytes, int ≥ 0, or a list of such items, nested)."""
    if isinstance(item, bytes):
        return encode_bytes(item)
    if isinstance(item, int):
        if item < 0:
            raise ValueError(f"RLP cannot encode the negative integer {item}")
        return encode_int(item)
    return encode_list(b"".join(rlp(sub) for sub in item))


def index_key(index: int) -> str:
    """The trie key of list element ``index`` (``rlp(index)``), as hex nibbles."""
    return encode_int(index).hex()


def _compact(nibbles: str, leaf: bool) -> bytes:
    """Hex-prefix encoding of a key fragment (Yellow Paper appendix C), RLP-encoded."""
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        return encode_bytes(bytes.fromhex(f"{flag + 1:x}{nibbles}"))
    return encode_bytes(bytes.fromhex(f"{flag:x}0{nibbles}"))


def _reference(node: bytes) -> bytes:
    """How a parent holds a child node: inline when shorter than 32 bytes, else its hash."""
    return node if len(node) < 32 else b"\xa0" + keccak256(node)


def _node(keys: Sequence[str], values: Sequence[bytes], lo: int, hi: int, depth: int) -> bytes:
    """The RLP of the node holding sorted ``keys[lo:hi]`` below nibble ``depth``."""
    first = keys[lo]
    if hi - lo == 1:
        return encode_list(_compact(first[depth:], True) + encode_bytes(values[lo]))
    last = keys[hi - 1]
    end = depth
    while first[end] == last[end]:  # prefix-free keys differ before either ends
        end += 1
    branch = _branch(keys, values, lo, hi, end)
    if end == depth:
        return branch
    return encode_list(_compact(first[depth:end], False) + _reference(branch))


def _branch(keys: Sequence[str], values: Sequence[bytes], lo: int, hi: int, depth: int) -> bytes:
    slots = [b"\x80"] * 17
    start = lo
    while start < hi:
        nibble = keys[start][depth]
        stop = start + 1
        while stop < hi and keys[stop][depth] == nibble:
            stop += 1
        slots[int(nibble, 16)] = _reference(_node(keys, values, start, stop, depth + 1))
        start = stop
    return encode_list(b"".join(slots))


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """``DeriveSha``: the root of the trie mapping ``rlp(i)`` to ``values[i]``."""
    if not values:
        return EMPTY_TRIE_ROOT
    pairs = sorted((index_key(i), value) for i, value in enumerate(values))
    keys = [key for key, _ in pairs]
    ordered = [value for _, value in pairs]
    return keccak256(_node(keys, ordered, 0, len(keys), 0))
