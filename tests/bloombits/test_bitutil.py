"""Compression against go-ethereum's published vectors, property tests, and vector ops.

The vectors are those of go-ethereum's ``common/bitutil/compress_test.go`` (encoding cycles,
decoding cycles with their expected failures, and the sparse/dense compression examples).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bloombits.bitutil import (
    and_all,
    any_set,
    bitset_decode_bytes,
    bitset_encode_bytes,
    compress_bytes,
    compress_many,
    compressed_sizes,
    decompress_bytes,
    decompress_many,
    or_all,
    popcount,
)
from bloombits.errors import (
    CompressionError,
    ExceededTargetError,
    MissingDataError,
    UnreferencedDataError,
    ZeroContentError,
)

ENCODING_CYCLES = [
    "0x000000000000000000",
    "0xef0400",
    "0xdf7070533534333636313639343638373532313536346c1bc33339343837313070706336343035336336346c65fefb3930393233383838ac2f65fefb",
    "0x7b64000000",
    "0x000034000000000000",
    "0x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000f0000000000000000000",
    "0x4912385c0e7b64000000",
    "0x000034000000000000000000000000000000",
    "0x00",
    "0x000003e834ff7f0000",
    "0x0000",
    "0x0000000000000000000000000000000000000000000000000000000000ff00",
    "0x895f0c6a020f850c6a020f85f88df88d",
    "0xdf7070533534333636313639343638373432313536346c1bc3315aac2f65fefb",
    "0x0000000000",
    "0xdf70706336346c65fefb",
    "0x00006d643634000000",
    "0xdf7070533534333636313639343638373532313536346c1bc333393438373130707063363430353639343638373532313536346c1bc333393438336336346c65fe",
]  # fmt: skip

DECODING_CYCLES: list[tuple[int, str, type[CompressionError] | None]] = [
    (0, "0x", None),
    (0, "0x0020", UnreferencedDataError),
    (0, "0x30", UnreferencedDataError),
    (1, "0x00", UnreferencedDataError),
    (2, "0x07", MissingDataError),
    (1024, "0x8000", ZeroContentError),
    (29490, "0x343137343733323134333839373334323073333930783e3078333930783e70706336346c65303e", MissingDataError),
    (59395, "0x00", UnreferencedDataError),
    (52574, "0x70706336346c65c0de", ExceededTargetError),
    (42264, "0x07", MissingDataError),
    (52, "0xa5045bad48f4", ExceededTargetError),
    (52574, "0xc0de", MissingDataError),
    (52574, "0x", None),
    (29490, "0x34313734373332313433383937333432307333393078073034333839373334323073333930783e3078333937333432307333393078073061333930783e70706336346c65303e", MissingDataError),
    (29491, "0x3973333930783e30783e", MissingDataError),
    (1024, "0x808080608080", None),
    (1024, "0x808470705e3632383337363033313434303137393130306c6580ef46806380635a80", None),
    (1024, "0x8080808070", None),
    (1024, "0x808070705e36346c6580ef46806380635a80", None),
    (1024, "0x80808046802680", None),
    (1024, "0x4040404035", None),
    (1024, "0x4040bf3ba2b3f684402d353234373438373934409fe5b1e7ada94ebfd7d0505e27be4035", None),
    (1024, "0x404040bf3ba2b3f6844035", None),
    (1024, "0x40402d35323437343837393440bfd7d0505e27be4035", None),
]  # fmt: skip


def h(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@pytest.mark.parametrize("data", ENCODING_CYCLES)
def test_geth_encoding_cycles(data: str) -> None:
    raw = h(data)
    assert bitset_decode_bytes(bitset_encode_bytes(raw), len(raw)) == raw


@pytest.mark.parametrize(("size", "data", "failure"), DECODING_CYCLES)
def test_geth_decoding_cycles(size: int, data: str, failure: type[CompressionError] | None) -> None:
    blob = h(data)
    if failure is not None:
        with pytest.raises(failure):
            bitset_decode_bytes(blob, size)
        return
    assert bitset_encode_bytes(bitset_decode_bytes(blob, size)) == blob


def test_geth_sparse_compression_example() -> None:
    sparse, packed = h("0x4912385c0e7b64000000"), h("0x80fe4912385c0e7b64")
    assert compress_bytes(sparse) == packed
    assert decompress_bytes(packed, len(sparse)) == sparse


def test_geth_dense_compression_example_is_stored_raw() -> None:
    dense = h(ENCODING_CYCLES[2])
    assert compress_bytes(dense) == dense
    assert decompress_bytes(dense, len(dense)) == dense


def test_geth_longer_than_target_fails() -> None:
    with pytest.raises(ExceededTargetError):
        decompress_bytes(bytes([0xC0, 0x01, 0x01]), 2)


def test_errors_are_value_errors_with_geth_messages() -> None:
    with pytest.raises(ValueError, match="missing bytes on input"):
        decompress_bytes(h("0x07"), 2)


@st.composite
def sparse_matrices(draw: st.DrawFn, max_rows: int = 8, max_width: int = 600) -> np.ndarray:
    """Random byte matrices whose rows range from all zero to all non-zero."""
    rows = draw(st.integers(1, max_rows))
    width = draw(st.integers(0, max_width))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(1, 256, (rows, width), dtype=np.uint8)
    densities = rng.choice([0.0, 0.01, 0.1, 0.5, 1.0], size=(rows, 1))
    values[rng.random((rows, width)) >= densities] = 0
    return values


sparse_bytes = sparse_matrices(max_rows=1).map(lambda m: m[0].tobytes())


@given(sparse_bytes)
def test_round_trip_and_never_longer(data: bytes) -> None:
    packed = compress_bytes(data)
    assert len(packed) <= len(data)
    assert decompress_bytes(packed, len(data)) == data


@given(st.binary(max_size=40), st.integers(0, 300))
def test_arbitrary_input_decodes_or_raises_compression_error(blob: bytes, target: int) -> None:
    try:
        out = decompress_bytes(blob, target)
    except CompressionError:
        return
    assert len(out) == target
    # A successful decode is canonical: compressing the result gives back a valid encoding.
    assert decompress_bytes(compress_bytes(out), target) == out


@given(sparse_matrices())
def test_compressed_sizes_are_the_lengths_of_the_encodings(vectors: np.ndarray) -> None:
    assert compressed_sizes(vectors).tolist() == [len(compress_bytes(r.tobytes())) for r in vectors]


@given(sparse_matrices())
def test_compress_many_equals_one_by_one(vectors: np.ndarray) -> None:
    assert compress_many(vectors) == [compress_bytes(row.tobytes()) for row in vectors]


@given(sparse_matrices(), st.booleans())
def test_decompress_many_equals_one_by_one(vectors: np.ndarray, copy: bool) -> None:
    blobs = [compress_bytes(row.tobytes()) for row in vectors]
    out = decompress_many(blobs, vectors.shape[1], copy=copy)
    assert (out == vectors).all()
    if copy:
        out[...] = 0  # an array of its own, writable
        assert all(
            compress_bytes(row.tobytes()) == blob for row, blob in zip(vectors, blobs, strict=True)
        )


@given(st.lists(st.binary(max_size=12), min_size=1, max_size=6), st.integers(0, 40))
def test_decompress_many_raises_like_one_by_one(blobs: list[bytes], target: int) -> None:
    expected: list[bytes] = []
    first_error: CompressionError | None = None
    for blob in blobs:
        try:
            expected.append(decompress_bytes(blob, target))
        except CompressionError as err:
            first_error = err
            break
    if first_error is None:
        assert [r.tobytes() for r in decompress_many(blobs, target)] == expected
    else:
        with pytest.raises(type(first_error)):
            decompress_many(blobs, target)


vector_arrays = hnp.arrays(np.uint8, st.tuples(st.integers(0, 6), st.integers(1, 16)))


@given(vector_arrays)
def test_vector_ops_match_python_ints(vectors: np.ndarray) -> None:
    rows = [int.from_bytes(r.tobytes(), "big") for r in vectors]
    width = vectors.shape[1]
    all_ones = (1 << (8 * width)) - 1
    expected_and, expected_or = all_ones, 0
    for r in rows:
        expected_and &= r
        expected_or |= r
    assert int.from_bytes(and_all(vectors).tobytes(), "big") == expected_and
    assert int.from_bytes(or_all(vectors).tobytes(), "big") == expected_or
    assert any_set(vectors).tolist() == [r != 0 for r in rows]
    assert popcount(vectors).tolist() == [bin(r).count("1") for r in rows]
