"""RLP and the ordered trie root against the independent ``rlp`` package and py-trie's
``HexaryTrie`` (a general-purpose trie, keys inserted one by one)."""

from __future__ import annotations

import rlp as reference_rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie.hexary import HexaryTrie

from chainindex.trie import EMPTY_TRIE_ROOT, ordered_trie_root, rlp

items = st.recursive(
    st.binary(max_size=80) | st.integers(min_value=0, max_value=2**256 - 1),
    lambda children: st.lists(children, max_size=6),
    max_leaves=30,
)


@given(items)
def test_rlp_is_the_reference_encoding(item: bytes | int | list[object]) -> None:
    assert rlp(item) == reference_rlp.encode(item)  # type: ignore[arg-type]


def test_long_strings_and_lists() -> None:
    for size in (55, 56, 255, 256, 65535, 65536, 70000):
        assert rlp(b"x" * size) == reference_rlp.encode(b"x" * size)
        assert rlp([b"y" * size]) == reference_rlp.encode([b"y" * size])


def reference_root(values: list[bytes]) -> bytes:
    trie = HexaryTrie({})
    for index, value in enumerate(values):
        trie[reference_rlp.encode(index)] = value
    return bytes(trie.root_hash)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=120), max_size=300))
def test_ordered_trie_root_is_the_trie_of_rlp_index_keys(values: list[bytes]) -> None:
    # Short values are embedded in their parent nodes, long ones hashed: both are drawn.
    assert ordered_trie_root(values) == reference_root(values)


def test_sizes_around_the_key_length_changes() -> None:
    # rlp(i) is one byte below 128 (0x80 for 0), then 0x81 xx, then 0x82 xx xx.
    for count in (1, 2, 16, 17, 127, 128, 129, 256, 257):
        values = [bytes([i % 251 + 1]) * (i % 40 + 1) for i in range(count)]
        assert ordered_trie_root(values) == reference_root(values)


def test_empty() -> None:
    assert ordered_trie_root([]) == EMPTY_TRIE_ROOT == reference_root([])
