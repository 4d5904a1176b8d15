"""The Generator against a naive bit-by-bit rotation written here, and its error cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bloombits.errors import GeneratorError
from bloombits.generator import Generator


def naive_bitset(blooms: list[bytes], bit: int) -> bytes:
    """Vector of bloom bit ``bit``: block k at bit 7 - k % 8 of byte k // 8 (DESIGN.md)."""
    out = bytearray(len(blooms) // 8)
    for k, bloom in enumerate(blooms):
        if bloom[255 - bit // 8] & (1 << (bit % 8)):
            out[k // 8] |= 1 << (7 - k % 8)
    return bytes(out)


@st.composite
def sections(draw: st.DrawFn) -> tuple[int, list[bytes]]:
    size = 8 * draw(st.integers(1, 64))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fill = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    bits = rng.random((size, 2048)) < fill
    return size, [row.tobytes() for row in np.packbits(bits, axis=1)]


@settings(max_examples=40, deadline=None)
@given(sections(), st.lists(st.integers(0, 2047), min_size=1, max_size=12))
def test_add_bloom_matches_naive_rotation(
    section: tuple[int, list[bytes]], bits: list[int]
) -> None:
    size, blooms = section
    gen = Generator(size)
    for index, bloom in enumerate(blooms):
        gen.add_bloom(index, bloom)
    for bit in [*bits, 0, 2047]:
        assert gen.bitset(bit) == naive_bitset(blooms, bit)


@settings(max_examples=40, deadline=None)
@given(sections(), st.data())
def test_add_blooms_in_chunks_equals_one_by_one(
    section: tuple[int, list[bytes]], data: st.DataObject
) -> None:
    size, blooms = section
    one = Generator(size)
    for index, bloom in enumerate(blooms):
        one.add_bloom(index, bloom)
    chunked = Generator(size)
    start = 0
    while start < size:
        count = data.draw(st.integers(1, size - start))
        chunk = blooms[start : start + count]
        if data.draw(st.booleans()):
            chunked.add_blooms(start, chunk)
        else:
            array = np.frombuffer(b"".join(chunk), dtype=np.uint8).reshape(-1, 256)
            chunked.add_blooms(start, array)
        start += count
    assert (chunked.vectors() == one.vectors()).all()


def test_full_section_of_4096_matches_naive_on_sampled_bits() -> None:
    rng = np.random.default_rng(7)
    blooms = [row.tobytes() for row in np.packbits(rng.random((4096, 2048)) < 0.45, axis=1)]
    gen = Generator(4096)
    gen.add_blooms(0, blooms)
    for bit in [0, 1, 7, 8, 255, 1024, 2046, 2047, *rng.integers(0, 2048, 20).tolist()]:
        assert gen.bitset(bit) == naive_bitset(blooms, bit)


@pytest.mark.parametrize("size", [0, -8, 7, 12, 4097])
def test_section_size_must_be_positive_multiple_of_8(size: int) -> None:
    with pytest.raises(GeneratorError, match="multiple of 8"):
        Generator(size)


def test_out_of_order_bloom_rejected() -> None:
    gen = Generator(8)
    gen.add_bloom(0, bytes(256))
    with pytest.raises(GeneratorError, match="unexpected index 2, want 1"):
        gen.add_bloom(2, bytes(256))
    with pytest.raises(GeneratorError, match="unexpected index 0"):
        gen.add_bloom(0, bytes(256))


def test_too_many_blooms_rejected() -> None:
    gen = Generator(8)
    gen.add_blooms(0, [bytes(256)] * 8)
    with pytest.raises(GeneratorError, match="out of bounds"):
        gen.add_bloom(8, bytes(256))
    with pytest.raises(GeneratorError, match="out of bounds"):
        Generator(8).add_blooms(0, [bytes(256)] * 9)


def test_bitset_rejected_until_complete() -> None:
    gen = Generator(16)
    gen.add_blooms(0, [bytes(256)] * 15)
    with pytest.raises(GeneratorError, match="not fully generated yet: 15 of 16"):
        gen.bitset(0)
    gen.add_bloom(15, b"\xff" * 256)
    assert gen.bitset(0) == b"\x00\x01"


@pytest.mark.parametrize("bit", [-1, 2048])
def test_bitset_out_of_range(bit: int) -> None:
    gen = Generator(8)
    gen.add_blooms(0, [bytes(256)] * 8)
    with pytest.raises(GeneratorError, match="out of range"):
        gen.bitset(bit)


def test_malformed_bloom_rejected() -> None:
    with pytest.raises(GeneratorError, match="255 bytes"):
        Generator(8).add_bloom(0, bytes(255))
    with pytest.raises(GeneratorError, match="256 bytes"):
        Generator(8).add_blooms(0, [bytes(256), bytes(10)])
