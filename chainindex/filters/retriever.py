"""``SectionRetriever``: serves the matcher's bit-vector retrievals from the section store.

The go-ethereum role of ``startBloomHandlers``: a fixed set of workers, shared by every
matcher session, that read requested bit-vectors from the database and hand them back. A
``retrieve(bit, sections)`` call runs on a thread pool (never on the event loop) and does:

* one consistent snapshot of the store for the whole call;
* one read per run of requested sections (sections closer than ``max_gap``, or than a
  group of sections, apart share a run: a group's row is read and decoded once per call;
  a later group's scattered sections do not drag in everything between them);
* the head check of :meth:`SectionStore.read_vectors` against section heads cached
  across calls: the heads are re-read only when the last stored section's head changes (a
  block hash commits to all its ancestors, so an unchanged last head means unchanged heads
  below it; a store that only grew is read for its new sections only);
* the vectors decoded by :meth:`SectionStore.read_vectors` (whole rows of grouped sections,
  one decompression for the rest), answered as a :class:`~bloombits.retrieval.VectorBatch`,
  with sections not stored yet marked absent (the matcher asks again later). A stored
  section always has all its vectors (it is written in one batch), so a missing or malformed
  one is reported as :class:`~chainindex.errors.CorruptDataError`, never waited for.

The pool has one thread by default: the reads are bound by the GIL (plyvel builds a Python
tuple per entry), two threads reading at once were measured slower than one, and two threads
decompressing at once no faster. With a larger pool, the reads take turns under a lock.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from eth_typing import Hash32

from bloombits.retrieval import VectorBatch
from chainindex.errors import CorruptDataError
from chainindex.store.damage import SECTIONS, damage, section_blocks
from chainindex.store.kv import KeyValueReader
from chainindex.store.sections import SectionStore

__all__ = ["SectionRetriever"]

_NO_HEAD = bytes(32)
"""Head-matrix row of a section below the first stored one (such sections are never read)."""


class SectionRetriever:
    """A :class:`bloombits.Retriever` over a :class:`SectionStore`, reading off the loop."""

    def __init__(
        self,
        sections: SectionStore,
        *,
        executor: Executor | None = None,
        workers: int = 1,
        max_gap: int = 16,
    ) -> None:
        """``executor`` runs the reads (default: a private pool of ``workers`` threads, shut
        down by :meth:`close`); ``max_gap`` is the widest gap between requested sections
        that one range scan reads through."""
        if max_gap < 1:
            raise ValueError(f"max_gap must be at least 1, got {max_gap}")
        self.sections = sections
        """The store read from."""
        self.width = sections.width
        """Bytes per vector."""
        self.max_gap = max_gap
        """Requested sections at most this far apart are read in one scan."""
        self._own_executor = executor is None
        """Whether :meth:`close` shuts the executor down."""
        self._executor: Executor = executor or ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="section-retriever"
        )
        """Where the blocking reads run."""
        self._heads: list[Hash32 | None] = []
        """Heads of sections ``0 .. len - 1`` as last read."""
        self._head_matrix: npt.NDArray[np.uint8] = np.zeros((0, 32), dtype=np.uint8)
        """The same heads as a ``(len, 32)`` byte matrix, what the range reads compare with."""
        self._lock = threading.Lock()
        """Guards ``_heads`` when the executor has several threads."""
        self._read_lock = threading.Lock()
        """One thread reads the store at a time."""

    async def retrieve(self, bit: int, sections: list[int]) -> VectorBatch:
        """The vectors of ``bit`` for ``sections`` (ascending); absent where not stored."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.read, bit, sections)

    def read(self, bit: int, sections: list[int]) -> VectorBatch:
        """The blocking body of :meth:`retrieve`.

        Sections below the store's first section (a chain synced from a later block) hold no
        indexed block: they are answered with all-zero vectors.
        """
        below = bisect.bisect_left(sections, self.sections.first())
        if below:
            rest = self.read(bit, sections[below:])
            return VectorBatch(
                np.concatenate([np.zeros((below, self.width), dtype=np.uint8), rest.vectors]),
                np.concatenate([np.ones(below, dtype=np.bool_), rest.present]),
            )
        count = len(sections)
        if not count:
            return VectorBatch(np.zeros((0, self.width), dtype=np.uint8), np.zeros(0, np.bool_))
        first, last = sections[0], sections[-1]
        contiguous = last - first + 1 == count and sections == list(range(first, last + 1))
        if not contiguous and (np.diff(sections) <= 0).any():
            raise ValueError("sections must be ascending and distinct")
        parts: list[npt.NDArray[np.uint8]] = []
        with self._read_lock, self.sections.kv.snapshot() as snapshot:
            heads = self._current_heads(snapshot)
            if contiguous:  # the usual case: one scan
                stored = max(0, min(count, len(heads) - first))
                runs = [(first, first + stored - 1)] if stored else []
            else:
                wanted = np.asarray(sections, dtype=np.int64)
                stored = int(np.searchsorted(wanted, len(heads)))  # below the count
                # Sections of one group share a row: a run never splits a group, so no row
                # is read and decoded twice for one request.
                gap = max(self.max_gap, self.sections.group_size - 1)
                runs = _runs(wanted[:stored], gap)
            for run_first, run_last in runs:
                size = self.sections.section_size
                with damage(SECTIONS, *section_blocks(size, run_first, run_last)):
                    vectors, found = self.sections.read_vectors(
                        bit, run_first, run_last, snapshot, heads=heads[run_first : run_last + 1]
                    )
                    if not found.all():  # sections are written whole: this one is damaged
                        raise CorruptDataError(
                            f"section {run_first + int(np.argmin(found))} is stored but has no "
                            f"vector for bloom bit {bit}"
                        )
                if contiguous:
                    parts.append(vectors)
                else:
                    picked = wanted[(wanted >= run_first) & (wanted <= run_last)] - run_first
                    parts.append(vectors[picked])
        present = np.arange(count) < stored  # the stored ones are a prefix
        if stored == count and len(parts) == 1:
            return VectorBatch(parts[0], present)
        out = np.zeros((count, self.width), dtype=np.uint8)
        if parts:
            out[:stored] = np.concatenate(parts)
        return VectorBatch(out, present)

    def _current_heads(self, reader: KeyValueReader) -> npt.NDArray[np.uint8]:
        """Heads of every stored section as a byte matrix, cached while the last stored head
        is unchanged."""
        count = self.sections.count(reader)
        first = self.sections.first(reader)
        with self._lock:
            heads = self._heads
            if len(heads) == count and (
                not count or heads[-1] == self.sections.head(count - 1, reader)
            ):
                return self._head_matrix
            known = len(heads)
            if first < known < count and heads[-1] == self.sections.head(known - 1, reader):
                heads = heads + self.sections.heads(known, count - 1, reader)
            else:
                # No section exists below the first one: placeholders, never read.
                stored = self.sections.heads(first, count - 1, reader) if count > first else []
                placeholders: list[Hash32 | None] = [None] * first
                heads = placeholders + stored
            if None in heads[first:]:
                missing = first + heads[first:].index(None)
                raise CorruptDataError(f"section {missing} is counted but has no head")
            self._heads = heads
            joined = b"".join(_NO_HEAD if head is None else head for head in heads)
            self._head_matrix = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 32)
            return self._head_matrix

    def __enter__(self) -> SectionRetriever:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait for reads in progress and release the thread pool (if this retriever made
        it); call before closing the store."""
        if self._own_executor:
            self._executor.shutdown(wait=True)


def _runs(sections: npt.NDArray[np.int64], max_gap: int) -> list[tuple[int, int]]:
    """``(first, last)`` of the runs of ascending ``sections`` with gaps of at most
    ``max_gap`` inside a run."""
    if not sections.size:
        return []
    breaks = np.flatnonzero(np.diff(sections) > max_gap) + 1
    starts = [0, *breaks.tolist()]
    stops = [*(breaks - 1).tolist(), len(sections) - 1]
    return [(int(sections[a]), int(sections[b])) for a, b in zip(starts, stops, strict=True)]
