"""Unit tests of the pipeline's parts in isolation: channel, scheduler, distributor."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bloombits.channel import Channel
from bloombits.distributor import Distributor
from bloombits.errors import EndOfStreamError
from bloombits.retrieval import VectorBatch
from bloombits.scheduler import CacheBudget, Scheduler

WIDTH = 2


def sections(*numbers: int) -> np.ndarray:
    return np.array(numbers, dtype=np.int64)


def rows(*numbers: int) -> np.ndarray:
    """Recognisable vectors: section n's vector is [n, n + 100]."""
    return np.array([[n, n + 100] for n in numbers], dtype=np.uint8)


# --- channel ---------------------------------------------------------------------------------


async def test_channel_is_fifo_bounded_and_ends_after_draining() -> None:
    channel: Channel[int] = Channel(2)
    await channel.put(1)
    await channel.put(2)
    third = asyncio.create_task(channel.put(3))
    await asyncio.sleep(0)
    assert not third.done()  # full
    assert await channel.get() == 1
    await third
    channel.close()
    assert [item async for item in channel] == [2, 3]
    with pytest.raises(EndOfStreamError):
        await channel.put(4)


async def test_channel_closed_with_an_error_raises_it_at_once() -> None:
    channel: Channel[int] = Channel(4)
    await channel.put(1)
    getter = asyncio.create_task(anext(aiter(channel)))
    await asyncio.sleep(0)
    channel.close(ValueError("boom"))
    assert await getter == 1  # already taken before the failure
    with pytest.raises(ValueError, match="boom"):
        await channel.get()


async def test_channel_close_wakes_a_waiting_getter() -> None:
    channel: Channel[int] = Channel(1)
    getter = asyncio.create_task(channel.get())
    await asyncio.sleep(0)
    channel.close()
    with pytest.raises(EndOfStreamError):
        await getter


# --- scheduler -------------------------------------------------------------------------------


class Recorder(Distributor):
    """A distributor that only records what the schedulers enqueue."""

    def __init__(self) -> None:
        super().__init__({}, retry_delay=0)
        self.enqueued: list[tuple[int, list[int]]] = []

    def enqueue(self, bit: int, sections: np.ndarray) -> None:
        self.enqueued.append((bit, sections.tolist()))


async def test_scheduler_asks_once_per_section_and_delivers_in_request_order() -> None:
    scheduler = Scheduler(bit=9, batch_sections=8, width=WIDTH)
    owner = Recorder()
    live = np.array([True, False, True, True])
    first = scheduler.request(8, live, owner)
    second = scheduler.request(9, np.array([True, True, True]), owner)  # overlaps
    assert owner.enqueued == [(9, [8, 10, 11]), (9, [9])]
    scheduler.deliver(sections(9, 10), rows(9, 10))
    assert not first.done()
    assert not second.done()
    scheduler.deliver(sections(8, 11), rows(8, 11))
    assert (first.result()[[0, 2, 3]] == rows(8, 10, 11)).all()
    assert (second.result() == rows(9, 10, 11)).all()
    # Cached now: a new request completes at once and asks nobody.
    third = scheduler.request(8, np.array([True, True]), owner)
    assert third.done()
    assert (third.result() == rows(8, 9)).all()
    assert len(owner.enqueued) == 2
    assert scheduler.cached_sections() == 4


async def test_scheduler_rejects_a_batch_across_chunks() -> None:
    scheduler = Scheduler(bit=1, batch_sections=4, width=WIDTH)
    with pytest.raises(ValueError, match="chunk boundary"):
        scheduler.request(3, np.array([True, True]), Recorder())


async def test_scheduler_release_hands_owed_sections_to_another_waiter() -> None:
    scheduler = Scheduler(bit=3, batch_sections=16, width=WIDTH)
    gone, staying = Recorder(), Recorder()
    mine = scheduler.request(0, np.ones(4, dtype=bool), gone)
    theirs = scheduler.request(2, np.ones(4, dtype=bool), staying)
    assert gone.enqueued == [(3, [0, 1, 2, 3])]
    assert staying.enqueued == [(3, [4, 5])]
    scheduler.release(gone)
    assert mine.cancelled()
    assert staying.enqueued[-1] == (3, [2, 3])  # what the other session still needs
    scheduler.deliver(sections(2, 3, 4, 5), rows(2, 3, 4, 5))
    assert (theirs.result() == rows(2, 3, 4, 5)).all()
    # Sections nobody waits for are forgotten, and asked for again when wanted.
    again = Recorder()
    scheduler.request(0, np.array([True, True]), again)
    assert again.enqueued == [(3, [0, 1])]


async def test_scheduler_span_grows_to_requests_outside_it() -> None:
    scheduler = Scheduler(bit=3, batch_sections=100, width=WIDTH)
    owner = Recorder()
    scheduler.request(50, np.ones(2, dtype=bool), owner)
    scheduler.deliver(sections(50, 51), rows(50, 51))
    late = scheduler.request(40, np.ones(12, dtype=bool), owner)
    assert owner.enqueued[-1] == (3, [*range(40, 50)])
    scheduler.deliver(sections(*range(40, 50)), rows(*range(40, 50)))
    assert (late.result() == rows(*range(40, 52))).all()


async def test_the_budget_drops_idle_chunks_least_recently_used_first() -> None:
    budget = CacheBudget(max_bytes=2 * 4 * WIDTH)  # two chunks of four sections
    bit0, bit1 = (Scheduler(bit, batch_sections=4, width=WIDTH, budget=budget) for bit in (0, 1))
    owner = Recorder()
    live = np.ones(4, dtype=bool)
    waiting = bit1.request(4, live, owner)
    bit1.deliver(sections(4, 5), rows(4, 5))  # half delivered: pinned while 6, 7 are pending
    bit0.request(0, live, owner)
    bit0.deliver(sections(0, 1, 2, 3), rows(0, 1, 2, 3))
    bit0.request(4, live, owner)
    bit0.deliver(sections(4, 5, 6, 7), rows(4, 5, 6, 7))  # 20 bytes: over budget
    assert budget.evictions == 1  # bit 0 chunk 0, the oldest idle one
    assert budget.bytes == 6 * WIDTH
    assert not bit0.request(0, live, owner).done()  # asked for again
    assert owner.enqueued[-1] == (0, [0, 1, 2, 3])
    bit1.deliver(sections(6, 7), rows(6, 7))
    assert (waiting.result() == rows(4, 5, 6, 7)).all()  # the pinned chunk was kept


# --- distributor -----------------------------------------------------------------------------


class Sink(Scheduler):
    def __init__(self, bit: int) -> None:
        super().__init__(bit, batch_sections=1 << 20, width=WIDTH)
        self.delivered: list[list[int]] = []

    def deliver(self, sections: np.ndarray, vectors: np.ndarray) -> None:
        self.delivered.append(sections.tolist())


def batch(count: int, present: list[bool] | None = None) -> VectorBatch:
    mask = np.ones(count, dtype=bool) if present is None else np.array(present)
    return VectorBatch(np.zeros((count, WIDTH), dtype=np.uint8), mask)


async def test_distributor_hands_out_the_lowest_section_first_and_in_parts() -> None:
    sinks = {bit: Sink(bit) for bit in (1, 2, 3)}
    dist = Distributor(sinks, retry_delay=0)
    dist.enqueue(1, sections(40, 41, 42))
    dist.enqueue(2, sections(7, 50))
    dist.enqueue(3, sections(12))
    dist.enqueue(1, sections(5))  # lower than bit 1's queue: kept sorted
    assert await dist.allocate_retrieval() == 1  # lowest pending section: 5
    assert dist.pending_sections(1) == 4
    assert dist.allocate_sections(1, 2).tolist() == [5, 40]
    assert await dist.allocate_retrieval() == 2  # 7 < 12 < 42
    assert dist.allocate_sections(2, 10).tolist() == [7, 50]
    assert await dist.allocate_retrieval() == 3
    assert dist.allocate_sections(3, 10).tolist() == [12]
    assert await dist.allocate_retrieval() == 1  # the rest of bit 1
    assert dist.allocate_sections(1, 10).tolist() == [41, 42]
    assert dist.in_flight == 4


async def test_distributor_gives_new_work_to_a_waiting_retriever() -> None:
    dist = Distributor({4: Sink(4)}, retry_delay=0)
    waiting = asyncio.create_task(dist.allocate_retrieval())
    await asyncio.sleep(0)
    dist.enqueue(4, sections(3, 9))
    assert await waiting == 4
    assert dist.allocate_sections(4, 1).tolist() == [3]
    assert await dist.allocate_retrieval() == 4  # the part left over is offered again


async def test_distributor_requeues_sections_delivered_empty_after_the_delay() -> None:
    sink = Sink(6)
    dist = Distributor({6: sink}, retry_delay=0.01)
    dist.enqueue(6, sections(1, 2, 3))
    assert await dist.allocate_retrieval() == 6
    taken = dist.allocate_sections(6, 3)
    dist.deliver(6, taken, batch(3, [True, False, True]))
    assert sink.delivered == [[1, 3]]
    assert dist.pending_sections(6) == 0  # not yet
    await asyncio.sleep(0.05)
    assert dist.pending_sections(6) == 1
    assert await dist.allocate_retrieval() == 6
    assert dist.allocate_sections(6, 9).tolist() == [2]


async def test_distributor_shutdown_releases_idle_retrievers_and_waits_for_busy_ones() -> None:
    dist = Distributor({1: Sink(1)}, retry_delay=0.01)
    dist.enqueue(1, sections(0))
    assert await dist.allocate_retrieval() == 1
    taken = dist.allocate_sections(1, 1)
    idle = asyncio.create_task(dist.allocate_retrieval())
    await asyncio.sleep(0)
    dist.shutdown()
    assert await idle is None
    drained = asyncio.create_task(dist.drained())
    await asyncio.sleep(0.01)
    assert not drained.done()  # one retrieval in flight
    dist.deliver(1, taken, batch(1, [False]))  # not re-queued after shutdown
    await asyncio.wait_for(drained, 1)
    assert await dist.allocate_retrieval() is None
    assert dist.pending_sections(1) == 0
