"""Bit-vector helpers: go-ethereum's sparse compression, and vectorized AND/OR/popcount.

Compression is byte-for-byte compatible with go-ethereum's ``common/bitutil``
``CompressBytes``/``DecompressBytes``:

* an all-zero input encodes to nothing; a one-byte input encodes to itself;
* otherwise ``encode(data) = encode(nonzero_bitset(data)) + nonzero_bytes(data)``, where the
  bitset has one bit per input byte, most significant bit first;
* ``compress`` keeps the encoding only when it is shorter than the input, so
  ``decompress(blob, n)`` treats ``len(blob) == n`` as "stored raw".

Decoding rejects malformed input with the same error geth returns, checked in the same order
(see :mod:`bloombits.errors`). The ``*_many`` functions do the same work for many vectors of
one size at once, level by level, with numpy; they fall back to the one-vector path only to
name the exact error of a malformed row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bloombits.arrays import U8
from bloombits.errors import (
    BloombitsArgumentError,
    CompressionError,
    ExceededTargetError,
    MissingDataError,
    UnreferencedDataError,
    ZeroContentError,
)

__all__ = [
    "and_all",
    "any_set",
    "bitset_decode_bytes",
    "bitset_encode_bytes",
    "compress_bytes",
    "compress_many",
    "compressed_sizes",
    "decompress_bytes",
    "decompress_many",
    "or_all",
    "popcount",
]


# --- one vector ------------------------------------------------------------------------------


def bitset_encode_bytes(data: bytes) -> bytes:
    """The sparse bitset encoding of ``data``, whether or not it is shorter (geth's
    ``bitsetEncodeBytes``)."""
    if len(data) <= 1:
        return b"" if not data or data[0] == 0 else bytes(data)
    arr = np.frombuffer(data, dtype=np.uint8)
    mask = arr != 0
    nonzero = arr[mask]
    if nonzero.size == 0:
        return b""
    header = bitset_encode_bytes(bytes(np.packbits(mask)))
    return header + bytes(nonzero)


def compress_bytes(data: bytes) -> bytes:
    """geth's ``CompressBytes``: the bitset encoding if shorter than ``data``, else ``data``."""
    out = bitset_encode_bytes(data)
    return out if len(out) < len(data) else bytes(data)


def _decode_partial(data: bytes, target: int) -> tuple[U8, int]:
    """geth's ``bitsetDecodePartialBytes``: decode ``target`` bytes from the front of
    ``data`` and say how many input bytes that used."""
    if target == 0:
        return np.zeros(0, dtype=np.uint8), 0
    out = np.zeros(target, dtype=np.uint8)
    if not data:
        return out, 0
    if target == 1:
        out[0] = data[0]
        return out, 1 if data[0] else 0
    bitset, ptr = _decode_partial(data, (target + 7) // 8)
    positions = np.flatnonzero(np.unpackbits(bitset))
    available = len(data) - ptr
    values = np.frombuffer(data, dtype=np.uint8, count=min(positions.size, available), offset=ptr)
    # geth walks the set bits in order and, at each, checks: enough input, inside the
    # target, non-zero content. Find the first set bit that fails any check.
    failures: list[tuple[int, int, type[CompressionError]]] = []
    if positions.size > available:
        failures.append((available, 0, MissingDataError))
    beyond = np.flatnonzero(positions >= target)
    if beyond.size:
        failures.append((int(beyond[0]), 1, ExceededTargetError))
    zeros = np.flatnonzero(values == 0)
    if zeros.size:
        failures.append((int(zeros[0]), 2, ZeroContentError))
    if failures:
        raise min(failures)[2]()
    out[positions] = values
    return out, ptr + positions.size


def bitset_decode_bytes(data: bytes, target: int) -> bytes:
    """geth's ``bitsetDecodeBytes``: decode exactly ``data`` into ``target`` bytes."""
    out, used = _decode_partial(bytes(data), target)
    if used != len(data):
        raise UnreferencedDataError()
    return out.tobytes()


def decompress_bytes(data: bytes, target: int) -> bytes:
    """geth's ``DecompressBytes``: undo :func:`compress_bytes` for a known output size.

    Raises a :class:`~bloombits.errors.CompressionError` subclass on malformed input.
    """
    if len(data) > target:
        raise ExceededTargetError()
    if len(data) == target:
        return bytes(data)
    return bitset_decode_bytes(data, target)


# --- many vectors of one size ------------------------------------------------------------------


def _level_widths(width: int) -> list[int]:
    """Widths of the encoding levels, outermost first: ``width, ceil(width/8), ..., 1``."""
    widths = []
    while width > 0:
        widths.append(width)
        if width == 1:
            break
        width = (width + 7) // 8
    return widths


def _row_ranks(counts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
    """For entries grouped by row with ``counts`` per row: each entry's row and rank in it."""
    rows = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    firsts = np.cumsum(counts) - counts
    ranks = np.arange(rows.size, dtype=np.int64) - firsts[rows]
    return rows, ranks


def _ragged_indices(
    starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> npt.NDArray[Any]:
    """The concatenation of ``arange(start, start + count)`` over the rows, in row order.

    int32 when the values fit: the arrays are the size of the decoded data, and halving them
    is most of the speed.
    """
    total = int(counts.sum())
    dtype = np.int32 if total + int(starts.max(initial=0)) < 2**31 else np.int64
    shift = (starts - (np.cumsum(counts) - counts)).astype(dtype)
    indices: npt.NDArray[Any] = np.repeat(shift, counts.astype(dtype))
    indices += np.arange(total, dtype=dtype)
    return indices


def _encoding_levels(vectors: U8) -> list[tuple[npt.NDArray[np.bool_], U8]]:
    """The levels of the bitset encoding of each row, outermost first: (non-zero mask, bytes)."""
    levels = []
    current = vectors
    for level_width in _level_widths(vectors.shape[1]):
        mask = current != 0
        levels.append((mask, current))
        if level_width == 1:
            break
        current = np.packbits(mask, axis=1)
    return levels


def compressed_sizes(vectors: U8) -> npt.NDArray[np.int64]:
    """``len(compress_bytes(row))`` of every row of a 2-D ``uint8`` array, counted without
    building the encodings (the non-zero counts of the levels)."""
    if vectors.ndim != 2:
        raise BloombitsArgumentError(f"expected a 2-D array, got shape {vectors.shape}")
    width = vectors.shape[1]
    if width == 0:
        return np.zeros(len(vectors), dtype=np.int64)
    levels = _encoding_levels(np.ascontiguousarray(vectors, dtype=np.uint8))
    totals = np.sum([mask.sum(axis=1, dtype=np.int64) for mask, _ in levels], axis=0)
    sizes: npt.NDArray[np.int64] = np.minimum(totals, width)
    return sizes


def compress_many(vectors: U8) -> list[bytes]:
    """:func:`compress_bytes` of every row of a 2-D ``uint8`` array, in one vectorized pass."""
    if vectors.ndim != 2:
        raise BloombitsArgumentError(f"expected a 2-D array, got shape {vectors.shape}")
    width = vectors.shape[1]
    vectors = np.ascontiguousarray(vectors, dtype=np.uint8)
    out = [row.tobytes() for row in vectors]  # stored raw unless the encoding is shorter
    if width == 0:
        return out
    levels = _encoding_levels(vectors)
    totals = np.sum([mask.sum(axis=1, dtype=np.int64) for mask, _ in levels], axis=0)
    shorter = np.flatnonzero(totals < width)
    if shorter.size == 0:
        return out
    # The encoding is the innermost level first: scatter each level's non-zero bytes into one
    # buffer holding the shorter rows back to back.
    totals = totals[shorter]
    starts = np.cumsum(totals) - totals
    flat = np.empty(int(totals.sum()), dtype=np.uint8)
    placed = np.zeros(shorter.size, dtype=np.int64)  # bytes of inner levels placed, per row
    for mask, values in reversed(levels):
        mask = mask[shorter]
        counts = mask.sum(axis=1, dtype=np.int64)
        rows, ranks = _row_ranks(counts)
        flat[starts[rows] + placed[rows] + ranks] = values[shorter][mask]
        placed += counts
    buffer = flat.tobytes()
    for row, start, total in zip(shorter.tolist(), starts.tolist(), totals.tolist(), strict=True):
        out[row] = buffer[start : start + total]
    return out


def decompress_many(blobs: Sequence[bytes], target: int, *, copy: bool = True) -> U8:
    """:func:`decompress_bytes` of many blobs into a ``(len(blobs), target)`` array.

    Raises the error :func:`decompress_bytes` raises for the first malformed blob, with the
    blob's position added to the message. With ``copy=False`` the result may be a read-only
    view of a temporary buffer (when every blob is stored raw), which saves allocating and
    filling a second array of the same size.

    Raw blobs (``len == target``) are copied in one join. Encoded blobs are decoded together,
    innermost level first: a level's set bits say where the next level's non-zero bytes go
    (their flat positions, from one ``nonzero``), and those bytes are the next run of each
    blob (one ragged gather), so every step is a whole-array numpy operation.
    """
    n = len(blobs)
    if n and target and min(map(len, blobs)) == target == max(map(len, blobs)):
        rows = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(n, target)
        return rows.copy() if copy else rows
    lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=n)
    raw = lengths == target
    out = np.zeros((n, target), dtype=np.uint8)
    suspects = [np.flatnonzero(lengths > target)]
    raw_rows = np.flatnonzero(raw).tolist()
    if raw_rows and target:
        joined = b"".join([blobs[i] for i in raw_rows])
        out[raw_rows] = np.frombuffer(joined, dtype=np.uint8).reshape(-1, target)
    encoded = np.flatnonzero(lengths < target)
    if target and encoded.size:
        decoded, bad = _decode_levels([blobs[i] for i in encoded.tolist()], target)
        out[encoded] = decoded
        suspects.append(encoded[bad])
    _raise_first(blobs, target, np.concatenate(suspects))
    return out


def _decode_levels(blobs: list[bytes], target: int) -> tuple[U8, npt.NDArray[np.bool_]]:
    """Decode encoded blobs (each shorter than ``target``); also say which are malformed
    (their rows are left zero)."""
    m = len(blobs)
    lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=m)
    flat = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    offsets = np.cumsum(lengths) - lengths
    bad = np.zeros(m, dtype=np.bool_)
    # Innermost level (one byte): the first input byte, used only when non-zero.
    first = np.zeros(m, dtype=np.uint8)
    has_data = lengths > 0
    first[has_data] = flat[offsets[has_data]]
    level = first.reshape(m, 1)
    used = (first != 0).astype(np.int64)
    for width in reversed(_level_widths(target)[:-1]):
        beyond = level.shape[1] * 8 - width
        if beyond:  # bits past the target, in the last byte of the level
            bad |= (level[:, -1] & np.uint8((1 << beyond) - 1)) != 0
        counts = np.bitwise_count(level).sum(axis=1, dtype=np.int64)
        bad |= counts > lengths - used  # missing data
        if bad.any():
            level = level.copy()
            level[bad] = 0
            counts[bad] = 0
        bits = np.unpackbits(level, axis=1, count=width)
        positions = np.nonzero(bits.view(np.bool_).ravel())[0]
        values = flat[_ragged_indices(offsets + used, counts)]
        zeros = values == 0
        if zeros.any():
            bad[positions[zeros] // width] = True  # zero content
        level = np.zeros((m, width), dtype=np.uint8)
        level.ravel()[positions] = values
        used += counts
    bad |= used != lengths  # unreferenced data
    level[bad] = 0
    return level, bad


def _raise_first(blobs: Sequence[bytes], target: int, suspects: npt.NDArray[np.int64]) -> None:
    """Raise the exact error of the lowest-numbered malformed blob among ``suspects``."""
    if suspects.size == 0:
        return
    row = int(suspects.min())
    try:
        decompress_bytes(blobs[row], target)
    except CompressionError as err:
        raise _with_position(err, row) from None
    raise AssertionError(f"blob {row} was flagged malformed but decodes")  # pragma: no cover


def _with_position(err: CompressionError, row: int) -> CompressionError:
    err.args = (f"{err.args[0]} (blob {row})",)
    return err


# --- vector operations ---------------------------------------------------------------------


def and_all(vectors: U8) -> U8:
    """Bitwise AND of the rows of a ``(k, m)`` array (all ones for ``k == 0``)."""
    if vectors.shape[0] == 0:
        return np.full(vectors.shape[1:], 0xFF, dtype=np.uint8)
    out: U8 = np.bitwise_and.reduce(vectors, axis=0)
    return out


def or_all(vectors: U8) -> U8:
    """Bitwise OR of the rows of a ``(k, m)`` array (all zeros for ``k == 0``)."""
    if vectors.shape[0] == 0:
        return np.zeros(vectors.shape[1:], dtype=np.uint8)
    out: U8 = np.bitwise_or.reduce(vectors, axis=0)
    return out


def any_set(vectors: U8) -> npt.NDArray[np.bool_]:
    """Per vector (the last axis), whether any bit is set."""
    return np.asarray(vectors.any(axis=-1))


def popcount(vectors: U8) -> npt.NDArray[np.int64]:
    """Per vector (the last axis), the number of bits set."""
    counts: npt.NDArray[np.int64] = np.bitwise_count(vectors).sum(axis=-1, dtype=np.int64)
    return counts
