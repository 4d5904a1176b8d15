"""``Scheduler``: retrieval scheduling, deduplication and caching for one bloom bit.

go-ethereum's ``scheduler`` (core/bloombits/scheduler.go) takes the section numbers the
sub-matchers want for its bit, sends each distinct one to the distributor once, caches the
delivered vectors and hands them back in request order. This one does the same, with the
unit of work a *batch* of consecutive sections (one row per section) instead of a single
section, so that the cost per request is a few numpy operations whatever the batch size:

* sections are grouped in *chunks* of ``batch_sections`` consecutive sections, aligned on
  multiples of it; a request never spans two chunks (the matcher cuts its batches so);
* each chunk keeps, per section, a state (unknown, pending, cached) and the distributor that
  owns the pending retrieval, in arrays that cover only the sections ever asked for (a
  one-section query does not allocate a whole chunk); the delivered vectors are kept as the
  arrays the retriever returned (runs of consecutive sections), not copied: a batch served
  by one delivery is handed out as a view of it;
* ``request`` marks the unknown sections of a batch pending and hands them to the
  requesting session's distributor in one call, and returns a future that resolves with the
  batch's rows once every wanted section is cached; a section already pending for another
  session is not asked for twice (deduplication across sub-matchers and sessions);
* ``deliver`` stores vectors and resolves the futures they complete; once no request waits
  for a chunk, its vectors stay cached within the matcher's :class:`CacheBudget` (bytes,
  least recently used dropped first), so that a matcher's memory stays bounded and freed
  vectors are recycled by the allocator instead of the process growing for every query;
* ``release`` is called when a session ends: its futures are dropped and the sections its
  distributor still owed are handed to another waiting session, or forgotten, so that no
  session ever waits for a retrieval nobody will make (go-ethereum's ``reset``, made safe
  for sessions that overlap in time).

go-ethereum keeps every delivered vector for the matcher's lifetime; a query over 20M
saturated blocks would then hold ~90 MB per matcher, and on the benchmark machine the page
faults of that growth cost more than the reads (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from bloombits.arrays import I64, U8, Mask
from bloombits.errors import BloombitsArgumentError

if TYPE_CHECKING:
    from bloombits.distributor import Distributor

__all__ = ["CACHED", "PENDING", "UNKNOWN", "CacheBudget", "Scheduler"]


UNKNOWN = 0
"""Never asked for, or asked for by a session that ended before it arrived."""
PENDING = 1
"""Queued at (or being retrieved by) the distributor that owns it."""
CACHED = 2
"""Delivered; the vector is in the cache."""


class _Waiter:
    """A batch request waiting for its sections to arrive."""

    __slots__ = ("first", "future", "live", "owner")

    def __init__(
        self, first: int, live: Mask, future: asyncio.Future[U8], owner: Distributor
    ) -> None:
        self.first = first
        """First section of the batch."""
        self.live = live
        """Which sections of the batch are wanted (the others' rows are left as they are)."""
        self.future = future
        """Resolved with the batch's rows once every wanted section is cached."""
        self.owner = owner
        """The distributor of the session that asked."""


class _Span:
    """One chunk of one bit: the sections asked for so far, as a run, and their state."""

    __slots__ = ("first", "owners", "pieces", "state", "waiters")

    def __init__(self, first: int, count: int) -> None:
        self.first = first
        """First section held."""
        self.state = np.zeros(count, dtype=np.uint8)
        """UNKNOWN, PENDING or CACHED per section."""
        self.owners = np.zeros(count, dtype=np.int64)
        """Id of the distributor that owns each PENDING section (0 otherwise)."""
        self.pieces: list[tuple[int, U8]] = []
        """Delivered vectors: (first section, rows of consecutive sections), oldest first."""
        self.waiters: list[_Waiter] = []
        """Batch requests not yet complete."""

    @property
    def last(self) -> int:
        return self.first + len(self.state) - 1

    def grown(self, first: int, last: int) -> _Span:
        """A span covering this one and ``first..last``, with this one's contents."""
        lo, hi = min(first, self.first), max(last, self.last)
        span = _Span(lo, hi - lo + 1)
        at = self.first - lo
        span.state[at : at + len(self.state)] = self.state
        span.owners[at : at + len(self.state)] = self.owners
        span.pieces = self.pieces
        span.waiters = self.waiters
        return span

    def rows(self, first: int, count: int, width: int) -> U8:
        """The vectors of sections ``first .. first + count - 1`` (rows of sections not
        delivered are unspecified), without copying when one delivery covers them all."""
        for start, rows in reversed(self.pieces):
            if start <= first and first + count <= start + len(rows):
                return _view(rows[first - start : first - start + count])
        out = np.zeros((count, width), dtype=np.uint8)
        for start, rows in self.pieces:
            lo, hi = max(first, start), min(first + count, start + len(rows))
            if lo < hi:
                out[lo - first : hi - first] = rows[lo - start : hi - start]
        return _view(out)


class CacheBudget:
    """The bytes of delivered vectors a matcher's schedulers keep once no request waits for
    them; beyond ``max_bytes``, idle chunks are dropped least recently used first."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise BloombitsArgumentError(f"cache budget must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = max_bytes
        """The budget."""
        self.bytes = 0
        """Bytes of vectors held by the schedulers."""
        self.evictions = 0
        """Chunks dropped for room."""
        self._chunks: OrderedDict[tuple[int, int], tuple[Scheduler, int]] = OrderedDict()
        """(bit, chunk) -> (its scheduler, bytes held), least recently used first."""

    def charge(self, scheduler: Scheduler, chunk: int, nbytes: int) -> None:
        """``scheduler`` now holds ``nbytes`` more for ``chunk``, just used."""
        key = (scheduler.bit, chunk)
        _, held = self._chunks.pop(key, (scheduler, 0))
        self._chunks[key] = (scheduler, held + nbytes)
        self.bytes += nbytes

    def touch(self, scheduler: Scheduler, chunk: int) -> None:
        """``chunk`` of ``scheduler`` was just used."""
        key = (scheduler.bit, chunk)
        if key in self._chunks:
            self._chunks.move_to_end(key)

    def evict(self) -> None:
        """Drop idle chunks, least recently used first, until within the budget."""
        if self.bytes <= self.max_bytes:
            return
        for key, (scheduler, held) in list(self._chunks.items()):
            if scheduler.drop(key[1]):
                del self._chunks[key]
                self.bytes -= held
                self.evictions += 1
                if self.bytes <= self.max_bytes:
                    return


class Scheduler:
    """Schedules, deduplicates and caches the retrievals of one bloom bit."""

    def __init__(
        self, bit: int, batch_sections: int, width: int, budget: CacheBudget | None = None
    ) -> None:
        self.bit = bit
        """The bloom bit (0..2047) this scheduler serves."""
        self.batch_sections = batch_sections
        """Sections per chunk; requests never cross a chunk boundary."""
        self.width = width
        """Bytes per vector (``section_size // 8``)."""
        self.budget = budget if budget is not None else CacheBudget(1 << 62)
        """What bounds the vectors kept (shared by the matcher's schedulers)."""
        self._spans: dict[int, _Span] = {}
        """Chunk index -> the sections of that chunk known to this scheduler."""

    def _span(self, first: int, last: int) -> _Span:
        chunk = first // self.batch_sections
        if last // self.batch_sections != chunk:
            raise BloombitsArgumentError(f"sections {first}..{last} cross a chunk boundary")
        span = self._spans.get(chunk)
        if span is None:
            span = self._spans[chunk] = _Span(first, last - first + 1)
        elif first < span.first or last > span.last:
            span = self._spans[chunk] = span.grown(first, last)
        return span

    def request(self, first: int, live: Mask, owner: Distributor) -> asyncio.Future[U8]:
        """Ask for the vectors of the ``live`` sections among ``first .. first + len(live) - 1``.

        Sections nobody has asked for yet go to ``owner`` (the session's distributor). The
        future resolves with a ``(len(live), width)`` array, read-only: the rows of the live
        sections are their vectors, the other rows are unspecified.
        """
        future: asyncio.Future[U8] = asyncio.get_running_loop().create_future()
        count = len(live)
        span = self._span(first, first + count - 1)
        lo = first - span.first
        state = span.state[lo : lo + count]
        new = np.flatnonzero(live & (state == UNKNOWN))
        if new.size:
            state[new] = PENDING
            span.owners[lo + new] = owner.id
            owner.enqueue(self.bit, new + first)
        if (state[live] == CACHED).all():
            future.set_result(span.rows(first, count, self.width))
            self.budget.touch(self, first // self.batch_sections)
        else:
            span.waiters.append(_Waiter(first, live, future, owner))
        return future

    def deliver(self, sections: I64, vectors: U8) -> None:
        """Cache the vectors of ``sections`` (ascending) and wake the requests they complete."""
        if not sections.size:
            return
        chunks = sections // self.batch_sections
        bounds = [0, *(np.flatnonzero(np.diff(chunks)) + 1).tolist(), len(sections)]
        for start, stop in itertools.pairwise(bounds):
            part = sections[start:stop]
            span = self._span(int(part[0]), int(part[-1]))
            runs = [0, *(np.flatnonzero(np.diff(part) != 1) + 1).tolist(), len(part)]
            for run_start, run_stop in itertools.pairwise(runs):
                piece = vectors[start + run_start : start + run_stop]
                span.pieces.append((int(part[run_start]), piece))
            at = part - span.first
            span.state[at] = CACHED
            span.owners[at] = 0
            self.budget.charge(self, int(part[0]) // self.batch_sections, len(part) * self.width)
            _wake(span, self.width)
        self.budget.evict()

    def drop(self, chunk: int) -> bool:
        """Forget ``chunk`` unless a request waits for it or a retrieval for it is pending;
        whether it is gone."""
        span = self._spans.get(chunk)
        if span is None:
            return True
        if span.waiters or (span.state == PENDING).any():
            return False
        del self._spans[chunk]
        return True

    def release(self, owner: Distributor) -> None:
        """Forget ``owner``'s requests and hand the retrievals it owed to other waiters."""
        for span in self._spans.values():
            waiters = []
            for waiter in span.waiters:
                if waiter.owner is owner:
                    waiter.future.cancel()
                else:
                    waiters.append(waiter)
            span.waiters = waiters
            owed = (span.state == PENDING) & (span.owners == owner.id)
            if not owed.any():
                continue
            for waiter in waiters:
                lo = waiter.first - span.first
                window = owed[lo : lo + len(waiter.live)]
                adopt = np.flatnonzero(window & waiter.live)
                if adopt.size:
                    span.owners[lo + adopt] = waiter.owner.id
                    waiter.owner.enqueue(self.bit, adopt + waiter.first)
                    window[adopt] = False
            span.state[owed] = UNKNOWN
            span.owners[owed] = 0
        self.budget.evict()

    def cached_sections(self) -> int:
        """Number of sections whose vector is cached (for tests and statistics)."""
        return sum(int((span.state == CACHED).sum()) for span in self._spans.values())


def _view(rows: U8) -> U8:
    view = rows.view()
    view.flags.writeable = False
    return view


def _wake(span: _Span, width: int) -> None:
    """Resolve the waiters of ``span`` whose wanted sections are all cached."""
    waiting = []
    for waiter in span.waiters:
        if waiter.future.done():
            continue
        lo = waiter.first - span.first
        count = len(waiter.live)
        if (span.state[lo : lo + count][waiter.live] == CACHED).all():
            waiter.future.set_result(span.rows(waiter.first, count, width))
        else:
            waiting.append(waiter)
    span.waiters = waiting
