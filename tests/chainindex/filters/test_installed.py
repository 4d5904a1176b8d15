"""Installed filters: changes since the last poll, removed logs on reorgs, expiry, bounds."""

from __future__ import annotations

import dataclasses

import pytest

from chainindex.errors import FilterLaggedError, FilterNotFoundError
from chainindex.filters import FilterTable, LogCriteria, LogQuery
from chainindex.sync.events import ChainEvent
from chainindex.types import Block, ChainLog
from tests.chainindex.filters.chain import ADDRESS_POOL, random_chain


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


CHAIN = random_chain(3, 30)
FORK = random_chain(4, 10, first=20)  # another branch from block 20 on


def added(blocks: list[Block]) -> ChainEvent:
    return ChainEvent((), tuple(blocks), blocks[-1].header)


def logs_of(blocks: list[Block], query: LogQuery) -> list[ChainLog]:
    return [
        log
        for b in blocks
        for log in b.logs or ()
        if query.criteria.matches(log) and query.in_bounds(b.header.number)
    ]


def test_changes_since_last_poll_with_removed_logs_first() -> None:
    table = FilterTable(clock=Clock())
    query = LogQuery(LogCriteria((ADDRESS_POOL[0], ADDRESS_POOL[1])))
    logs_id = table.install_logs(query, owner="a")
    blocks_id = table.install_blocks(owner="a")
    assert logs_id != blocks_id
    assert logs_id.startswith("0x")
    table.on_event(added(CHAIN[:10]))
    table.on_event(added(CHAIN[10:25]))
    assert table.changes(logs_id) == logs_of(CHAIN[:25], query)
    assert table.changes(logs_id) == []
    assert table.changes(blocks_id) == [b.header.hash for b in CHAIN[:25]]
    # A reorg replacing 20..24 with the fork's 20..29.
    table.on_event(ChainEvent(tuple(CHAIN[20:25]), tuple(FORK), FORK[-1].header))
    removed = [dataclasses.replace(log, removed=True) for log in logs_of(CHAIN[20:25], query)]
    assert removed, "the test chain must have logs to undo"
    assert table.changes(logs_id) == removed + logs_of(FORK, query)
    assert table.changes(blocks_id) == [b.header.hash for b in FORK]


def test_numeric_bounds_limit_live_logs() -> None:
    table = FilterTable(clock=Clock())
    query = LogQuery(LogCriteria(), 5, 12)
    filter_id = table.install_logs(query)
    table.on_event(added(CHAIN[:25]))
    got = table.changes(filter_id)
    assert got == logs_of(CHAIN[5:13], LogQuery())
    assert {log.block_number for log in got} <= set(range(5, 13))  # type: ignore[union-attr]


def test_expiry_after_timeout_without_poll() -> None:
    clock = Clock()
    table = FilterTable(timeout=300, clock=clock)
    polled = table.install_blocks(owner="x")
    idle = table.install_blocks(owner="x")
    assert table.owned_by("x") == 2
    clock.now += 200
    table.changes(polled)  # moves polled's deadline
    clock.now += 150
    assert table.expire() == [idle]
    with pytest.raises(FilterNotFoundError, match=r"^filter not found$"):
        table.changes(idle)
    clock.now += 149  # polled was polled at 1200: it lives until 1500
    assert table.expire() == []
    clock.now += 2
    assert table.expire() == [polled]
    assert table.owned_by("x") == 0
    assert len(table) == 0


def test_get_does_not_move_the_deadline_and_uninstall() -> None:
    clock = Clock()
    table = FilterTable(timeout=10, clock=clock)
    filter_id = table.install_logs(LogQuery())
    clock.now += 6
    table.get(filter_id)
    clock.now += 6
    assert table.expire() == [filter_id]
    other = table.install_logs(LogQuery())
    assert table.uninstall(other) is True
    assert table.uninstall(other) is False


def test_a_filter_that_gathers_too_much_is_dropped_and_told_once() -> None:
    table = FilterTable(max_pending=20, clock=Clock())
    filter_id = table.install_logs(LogQuery())
    table.on_event(added(CHAIN))
    with pytest.raises(FilterLaggedError, match="more than 20 changes"):
        table.changes(filter_id)
    with pytest.raises(FilterNotFoundError):
        table.changes(filter_id)


def test_drop_all_tells_the_reason() -> None:
    table = FilterTable(clock=Clock())
    filter_id = table.install_blocks()
    table.drop_all("events lost")
    with pytest.raises(FilterLaggedError, match=r"^events lost$"):
        table.changes(filter_id)
