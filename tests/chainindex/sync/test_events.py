"""Chain-event delivery: order, bounded buffers, the drop-and-catch-up policy, closing."""

from __future__ import annotations

import asyncio

import pytest
from eth_typing import Address, BlockNumber, Hash32

from chainindex.errors import EventsLaggedError
from chainindex.sync.events import ChainEvent, ChainEvents
from chainindex.types import Block, ChainLog, Header


def block(number: int, logs: int, salt: int = 0) -> Block:
    block_hash = Hash32(bytes([salt]) + number.to_bytes(31, "big"))
    header = Header(BlockNumber(number), block_hash, Hash32(bytes(32)), number, bytes(256))
    return Block(
        header,
        tuple(
            ChainLog(
                Address(bytes(20)),
                (),
                b"",
                header.number,
                block_hash,
                number,
                Hash32(bytes(32)),
                0,
                i,
            )
            for i in range(logs)
        ),
    )


def added(*blocks: Block) -> ChainEvent:
    return ChainEvent((), blocks, blocks[-1].header)


async def test_events_arrive_in_publication_order() -> None:
    hub = ChainEvents()
    async with hub.subscribe() as sub:
        events = [added(block(n, n % 3)) for n in range(10)]
        for event in events[:5]:
            hub.publish(event)
        received = [await anext(sub) for _ in range(5)]
        for event in events[5:]:
            hub.publish(event)
        received += [await anext(sub) for _ in range(5)]
    assert received == events
    assert hub.subscriber_count == 0


async def test_a_waiting_subscriber_wakes_up() -> None:
    hub = ChainEvents()
    sub = hub.subscribe()
    reader = asyncio.get_running_loop().create_task(anext(sub))
    await asyncio.sleep(0)
    assert not reader.done()
    event = added(block(1, 2))
    hub.publish(event)
    assert await asyncio.wait_for(reader, 1) == event
    sub.close()


async def test_a_slow_subscriber_is_dropped_and_told_so() -> None:
    hub = ChainEvents()
    slow = hub.subscribe(max_events=3)
    fast = hub.subscribe(max_events=3)
    for n in range(3):
        hub.publish(added(block(n, 1)))
        assert await anext(fast) is not None
    hub.publish(added(block(3, 1)))  # the slow one now has 4 > 3 pending: dropped
    assert slow.lagged
    assert not fast.lagged
    assert hub.subscriber_count == 1
    with pytest.raises(EventsLaggedError, match=r"fell behind .* catch up from the store"):
        await anext(slow)
    hub.publish(added(block(4, 1)))
    assert [e.head.number for e in (await anext(fast), await anext(fast))] == [3, 4]


async def test_buffers_are_bounded_in_logs_too() -> None:
    hub = ChainEvents()
    sub = hub.subscribe(max_events=100, max_logs=10)
    hub.publish(added(block(1, 50)))  # one event is always taken into an empty buffer
    assert not sub.lagged
    hub.publish(added(block(2, 1)))  # 51 logs pending > 10: dropped
    assert sub.lagged
    with pytest.raises(EventsLaggedError):
        sub.get_nowait()


async def test_closing_ends_the_iteration() -> None:
    hub = ChainEvents()
    sub = hub.subscribe()

    async def consume() -> list[ChainEvent]:
        return [event async for event in sub]

    task = asyncio.get_running_loop().create_task(consume())
    hub.publish(added(block(1, 1)))
    await asyncio.sleep(0)
    sub.close()
    assert [e.head.number for e in await asyncio.wait_for(task, 1)] == [1]
    hub.publish(added(block(2, 1)))
    assert hub.subscriber_count == 0


def test_removed_logs_are_marked_in_chain_order() -> None:
    old = (block(5, 2, salt=1), block(6, 3, salt=1))
    new = (block(5, 1, salt=2),)
    event = ChainEvent(old, new, new[-1].header)
    assert event.is_reorg
    removed = list(event.removed_logs())
    assert [(g.block_number, g.log_index, g.removed) for g in removed] == [
        (5, 0, True), (5, 1, True), (6, 0, True), (6, 1, True), (6, 2, True),
    ]  # fmt: skip
    assert [g.removed for g in event.added_logs()] == [False]
    assert event.log_count() == 6
