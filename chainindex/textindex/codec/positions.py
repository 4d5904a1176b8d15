"""Positions: the stream of term positions of a field (Lucene's ``.pos``).

For every posting, in postings order, its ``freq`` positions; the first as is, the others as
the difference from the previous one. The whole field uses one byte width (the largest value
needs), so a posting's positions are found by index arithmetic alone: the term's first stream
entry (``pos`` in the term metadata) plus the frequencies before the posting.
"""

from __future__ import annotations

import numpy as np

from chainindex.textindex.arrays import I64, U8
from chainindex.textindex.codec.postings import segmented_cumsum
from chainindex.textindex.packed import pack, ragged_ranges, unpack_at, width_for

__all__ = ["decode_positions", "encode_positions"]


def encode_positions(positions: I64, freqs: I64) -> tuple[int, bytes]:
    """``(width, bytes)`` of the stream of ``positions`` (ascending within each posting of
    ``freqs`` entries, postings concatenated)."""
    if len(positions) == 0:
        return 0, b""
    starts = np.cumsum(freqs) - freqs
    deltas = positions.copy()
    deltas[1:] -= positions[:-1]
    deltas[starts] = positions[starts]
    width = width_for(int(deltas.max()))
    return width, pack(deltas, width)


def decode_positions(data: U8, width: int, starts: I64, counts: I64) -> I64:
    """Absolute positions of the postings whose stream entries are ``starts[i]`` and the
    ``counts[i]`` following, concatenated."""
    entries = ragged_ranges(starts, counts)
    deltas = unpack_at(data, 0, width, entries)
    return segmented_cumsum(deltas, counts)
