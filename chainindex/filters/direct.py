"""Candidates of a short indexed stretch, straight from the section vectors.

The bloom matcher (:mod:`bloombits.matcher`) is a pipeline built for long ranges: batches of
sections flow through per-group stages, retrievals are shared and cached, the sparsest group
goes first. For a stretch of a few sections (a query over the last few thousand blocks, the
common case for a service beside a node) setting that pipeline up costs more than the work
itself. :func:`section_candidates` does the same computation directly, in the worker thread
and the snapshot the query was planned in: each bit's vectors for the sections (one range
scan per bit, decoded), a value's vector the AND of its three bits', a group's
the OR of its values', the candidates the AND of the groups. Sections below the first
stored one hold no indexed block and count as empty, as the matcher's retriever answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bloombits.arrays import U8
from bloombits.bloom import bloom_indexes
from chainindex.errors import DataDamagedError
from chainindex.store.damage import SECTIONS, section_blocks
from chainindex.store.reader import ChainView

__all__ = ["VectorCache", "section_candidates"]


class VectorCache:
    """Decompressed section vectors by (bit, section, section head): a byte-bounded LRU,
    safe across worker threads. A vector never changes under its section's head (a reorg
    that rewrites the section gives it another head), so entries never go stale."""

    def __init__(self, max_bytes: int = 16 << 20) -> None:
        self.max_bytes = max_bytes
        """Budget for the vectors held."""
        self._entries: OrderedDict[tuple[int, int, bytes], U8] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, bytes]) -> U8 | None:
        with self._lock:
            row = self._entries.get(key)
            if row is not None:
                self._entries.move_to_end(key)
            return row

    def put(self, key: tuple[int, int, bytes], row: U8) -> None:
        if row.nbytes > self.max_bytes:
            return
        with self._lock:
            if key not in self._entries:
                self._entries[key] = row
                self._bytes += row.nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes


def section_candidates(
    view: ChainView,
    groups: Sequence[Sequence[bytes]],
    first: int,
    last: int,
    section_size: int,
    first_section: int,
    vectors: VectorCache | None = None,
) -> npt.NDArray[np.int64]:
    """Block numbers in ``first..last`` whose blooms may hold every group (``groups``: the
    non-wildcard ones, at least one), from the stored sections covering the range; the
    decompressed vectors go through ``vectors`` if given."""
    s0, s1 = first // section_size, last // section_size
    count, width = s1 - s0 + 1, section_size // 8
    lo = max(s0, first_section)
    heads = (
        [bytes(h) if h is not None else b"" for h in view.section_heads(lo, s1)] if lo <= s1 else []
    )
    rows: dict[int, U8] = {}

    def read(bit: int) -> U8:
        fresh, found = view.bit_vectors(bit, lo, s1)
        if not found.all():
            missing = lo + int(np.argmin(found))
            raise DataDamagedError(
                SECTIONS,
                *section_blocks(section_size, missing, missing),
                f"section {missing} has no vector for bloom bit {bit}",
            )
        return fresh

    def bit_rows(bit: int) -> U8:
        found = rows.get(bit)
        if found is not None:
            return found
        found = np.zeros((count, width), dtype=np.uint8)
        if lo <= s1:
            cached = [None if vectors is None else vectors.get((bit, s, h))
                      for s, h in zip(range(lo, s1 + 1), heads, strict=True)]  # fmt: skip
            if any(row is None for row in cached):
                fresh = read(bit)
                for i, (s, h) in enumerate(zip(range(lo, s1 + 1), heads, strict=True)):
                    if vectors is not None and h:
                        vectors.put((bit, s, h), fresh[i].copy())
                found[lo - s0 :] = fresh
            else:
                found[lo - s0 :] = np.stack(cached)  # type: ignore[arg-type]
        rows[bit] = found
        return found

    total: U8 | None = None
    for group in groups:
        union = np.zeros((count, width), dtype=np.uint8)
        for value in group:
            a, b, c = bloom_indexes(value)
            union |= bit_rows(a) & bit_rows(b) & bit_rows(c)
        total = union if total is None else total & union
        if not total.any():
            return np.zeros(0, dtype=np.int64)
    assert total is not None, "at least one group"
    offsets = np.flatnonzero(np.unpackbits(total.reshape(-1)))
    numbers = offsets.astype(np.int64) + s0 * section_size
    return numbers[(numbers >= first) & (numbers <= last)]
