"""``Distributor``: one session's queue of pending retrievals, handed out to retriever tasks.

go-ethereum's ``distributor`` goroutine (core/bloombits/matcher.go) receives the requests of
the schedulers and assigns them to retriever processes: per bit, a queue of pending sections
kept sorted; an idle retriever gets the bit whose lowest pending section is the lowest of
all; it then takes all or part of that bit's queue; sections delivered empty go back into
the queue. On a quit request it stops assigning and waits for the retrievals in flight to
come back; on a kill it stops at once.

Here the same state lives in a plain object driven from the event loop (one thread, so no
channel is needed to serialize it), and the queues are numpy arrays of section numbers, so
a queue operation costs the same for one section or a thousand. Idle retrievers wait on
futures; a bit that becomes available goes straight to the first of them (geth's
``assign``), else into a heap ordered by its lowest pending section. Sections a retriever
could not provide come back after ``retry_delay`` seconds, so a range that is not indexed yet
is polled, not spun on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Mapping

import numpy as np

from bloombits.arrays import I64
from bloombits.retrieval import VectorBatch
from bloombits.scheduler import Scheduler

__all__ = ["Distributor"]


_ids = itertools.count(1)


class Distributor:
    """Pending retrievals of one session, by bit, and the retriever tasks waiting for them."""

    def __init__(self, schedulers: Mapping[int, Scheduler], *, retry_delay: float) -> None:
        self.id = next(_ids)
        """Identifies this distributor in the schedulers' ownership records (never 0)."""
        self.schedulers = schedulers
        """The schedulers deliveries go to, by bit."""
        self.retry_delay = retry_delay
        """Seconds before a section delivered empty is queued again."""
        self._requests: dict[int, I64] = {}
        """Bit -> its pending sections, ascending (geth's ``requests``)."""
        self._unallocated: list[tuple[int, int]] = []
        """Heap of (lowest pending section, bit) over bits not allocated to a retriever;
        entries go stale and are skipped when popped (geth's ``unallocs``)."""
        self._allocated: set[int] = set()
        """Bits handed to a retriever that has not taken their sections yet."""
        self._retrievers: deque[asyncio.Future[int | None]] = deque()
        """Idle retrievers waiting for a bit (geth's ``retrievers``)."""
        self._allocs = 0
        """Retrievals allocated and not yet delivered (geth's ``allocs``)."""
        self._shutdown = False
        """No more bits are handed out (quit or kill)."""
        self._drained = asyncio.Event()
        """Set once shut down with no retrieval in flight."""
        self._timers: dict[int, asyncio.TimerHandle] = {}
        """Pending re-queues of sections delivered empty, by token."""
        self._tokens = itertools.count()
        """Source of timer tokens."""

    # --- requests from the schedulers -------------------------------------------------------

    def enqueue(self, bit: int, sections: I64) -> None:
        """Queue ``sections`` (ascending) of ``bit`` for retrieval."""
        if self._shutdown or not sections.size:
            return
        queue = self._requests.get(bit)
        if queue is None:
            self._requests[bit] = sections.astype(np.int64, copy=True)
        elif sections[0] > queue[-1]:
            self._requests[bit] = np.concatenate((queue, sections))
        else:
            self._requests[bit] = np.union1d(queue, sections)
        if bit not in self._allocated and (queue is None or sections[0] < queue[0]):
            self._assign(bit)

    def _assign(self, bit: int) -> None:
        """Give ``bit`` to an idle retriever, or keep it for the next one that asks."""
        while self._retrievers:
            fetcher = self._retrievers.popleft()
            if not fetcher.done():
                self._allocated.add(bit)
                self._allocs += 1
                fetcher.set_result(bit)
                return
        heapq.heappush(self._unallocated, (int(self._requests[bit][0]), bit))

    # --- the retriever side (geth's AllocateRetrieval / AllocateSections / Deliver) --------

    async def allocate_retrieval(self) -> int | None:
        """Wait for a bit with pending sections; None once the distributor shuts down."""
        if self._shutdown:
            return None
        while self._unallocated:
            lowest, bit = heapq.heappop(self._unallocated)
            queue = self._requests.get(bit)
            if bit in self._allocated or queue is None or int(queue[0]) != lowest:
                continue  # stale entry
            self._allocated.add(bit)
            self._allocs += 1
            return bit
        fetcher: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._retrievers.append(fetcher)
        return await fetcher

    def pending_sections(self, bit: int) -> int:
        """Number of sections of ``bit`` waiting for retrieval."""
        queue = self._requests.get(bit)
        return 0 if queue is None else len(queue)

    def allocate_sections(self, bit: int, count: int) -> I64:
        """Take the lowest ``count`` pending sections of an allocated ``bit``; the rest
        becomes available to other retrievers."""
        self._allocated.discard(bit)
        queue = self._requests.pop(bit, None)
        if queue is None:
            return np.zeros(0, dtype=np.int64)
        taken, rest = queue[:count], queue[count:]
        if rest.size:
            self._requests[bit] = rest
            if not self._shutdown:
                self._assign(bit)
        return taken

    def deliver(self, bit: int, sections: I64, batch: VectorBatch) -> None:
        """Hand a retrieval's vectors to the bit's scheduler; queue again (after
        ``retry_delay``) the sections that were not available."""
        vectors, present = batch
        self._allocs -= 1
        if present.all():
            self.schedulers[bit].deliver(sections, vectors)
        else:
            self.schedulers[bit].deliver(sections[present], vectors[present])
            missing = sections[~present]
            if not self._shutdown:
                token = next(self._tokens)
                self._timers[token] = asyncio.get_running_loop().call_later(
                    self.retry_delay, self._requeue, token, bit, missing
                )
        if self._shutdown and self._allocs <= 0:
            self._drained.set()

    def _requeue(self, token: int, bit: int, sections: I64) -> None:
        del self._timers[token]
        self.enqueue(bit, sections)

    # --- shutdown ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop handing out work (geth's quit): idle retrievers get None, re-queues are
        dropped; :meth:`drained` completes once retrievals in flight are delivered."""
        self._shutdown = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        while self._retrievers:
            fetcher = self._retrievers.popleft()
            if not fetcher.done():
                fetcher.set_result(None)
        if self._allocs <= 0:
            self._drained.set()

    async def drained(self) -> None:
        """Wait until shut down with no retrieval in flight."""
        await self._drained.wait()

    @property
    def in_flight(self) -> int:
        """Retrievals allocated and not yet delivered."""
        return self._allocs
