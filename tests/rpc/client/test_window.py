"""The logs subscription's bookkeeping against a model chain: whatever happens — new blocks,
reorgs (with or without the server's ``removed`` notifications), notifications processed
late, dropped connections and re-subscriptions — the consumer sees each log once, removals
only of logs it saw, and ends up with exactly the canonical logs.

The chain here is a pure model (a unit test of :class:`LogWindow`'s logic); the same window
runs against anvil with a real dropped WebSocket in ``test_client_subscribe.py``.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from eth_typing import Address, BlockNumber, Hash32
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rpc.client.types import Header, Log, log_key
from rpc.client.window import LogWindow

DEPTH = 8
"""The window's depth in these tests."""
MAX_REORG = DEPTH // 2
"""Deepest reorg drawn."""
MAX_LAG = DEPTH - MAX_REORG
"""Most blocks a notification waits in the queue before it is processed: the window's
guarantee holds for reorgs within ``depth`` blocks counting that wait (a ``depth`` is chosen
above the deepest reorg plus the consumer's lag)."""


@dataclass
class Chain:
    """A chain of blocks with random hashes and a few logs each (all matching the filter)."""

    rng: random.Random
    blocks: list[tuple[bytes, list[Log]]] = field(default_factory=list)

    def _block(self, number: int, logs: int) -> tuple[Header, list[Log]]:
        block_hash = Hash32(self.rng.randbytes(32))
        parent = self.blocks[number - 1][0] if number else bytes(32)
        made = [
            Log(
                Address(b"\x01" * 20),
                (),
                bytes([i]),
                BlockNumber(number),
                block_hash,
                0,
                Hash32(self.rng.randbytes(32)),
                0,
                i,
            )
            for i in range(logs)
        ]
        self.blocks.append((block_hash, made))
        header = Header(BlockNumber(number), block_hash, Hash32(parent), 0, bytes(256))
        return header, made

    @property
    def head(self) -> int:
        return len(self.blocks) - 1

    def mine(self, logs: int) -> tuple[Header, list[Log]]:
        return self._block(len(self.blocks), logs)

    def reorg(
        self, depth: int, new_length: int, logs: list[int]
    ) -> tuple[list[Log], list[Header], list[list[Log]]]:
        """Replace the last ``depth`` blocks with ``new_length`` new ones."""
        depth = min(depth, self.head)  # genesis stays
        gone = [log for _, block in self.blocks[len(self.blocks) - depth :] for log in block]
        del self.blocks[len(self.blocks) - depth :]
        headers, added = [], []
        for i in range(new_length):
            header, made = self.mine(logs[i % len(logs)] if logs else 0)
            headers.append(header)
            added.append(made)
        return gone, headers, added

    def logs(self, first: int, last: int) -> list[Log]:
        return [log for _, block in self.blocks[first : last + 1] for log in block]


@dataclass
class Consumer:
    """What the subscriber sees, checked as it goes: each log added once, removed only if
    seen."""

    view: dict[tuple[bytes, int], Log] = field(default_factory=dict)

    def take(self, logs: list[Log]) -> None:
        for log in logs:
            key = log_key(log)
            if log.removed:
                assert key in self.view, f"removed a log never delivered: {log}"
                del self.view[key]
            else:
                assert key not in self.view, f"delivered twice: {log}"
                self.view[key] = log


def reconcile(window: LogWindow, chain: Chain) -> list[Log]:
    """What the subscription does on a gap or a reorg: eth_getLogs from the window's start to
    the head, diffed."""
    return window.reconcile(
        window.start, chain.head, chain.logs(window.start, chain.head), at_head=True
    )


def notify(window: LogWindow, chain: Chain, note: Log | Header) -> list[Log]:
    """One notification, as :class:`LogSubscription` handles it."""
    if isinstance(note, Header):
        return reconcile(window, chain) if window.head(note) else []
    out = window.accept(note)
    if out is not None:
        return out
    return reconcile(window, chain) + window.settle(note, chain.head)


events = st.lists(
    st.one_of(
        st.tuples(st.just("mine"), st.integers(0, 3)),
        st.tuples(
            st.just("reorg"),
            st.integers(1, MAX_REORG),
            st.integers(1, DEPTH),  # a new head always follows a reorg,
            st.lists(st.integers(0, 3), max_size=3),
        ),
        st.tuples(st.just("process"), st.integers(1, 20)),
        st.tuples(st.just("drop")),
        st.tuples(st.just("reconnect")),
    ),
    max_size=60,
)


@settings(max_examples=1500, deadline=None)
# A reorg whose new logs come before their head, on a server that sends no removed logs.
@example(
    1, [("mine", 2), ("process", 5), ("reorg", 1, 1, [2]), ("process", 10)], False, True, False
)
# Notifications of a branch processed after the chain moved to another one.
@example(
    2,
    [("mine", 2), ("reorg", 2, 2, [1]), ("reorg", 2, 3, [2]), ("process", 20)],
    False,
    False,
    True,
)
# A drop across a reorg: only the backfill can tell.
@example(
    3,
    [("mine", 3), ("process", 9), ("drop",), ("reorg", 3, 1, [0]), ("reconnect",)],
    False,
    False,
    False,
)
@given(
    st.integers(0, 2**32),
    events,
    st.booleans(),  # the server sends removed logs itself (geth, logfilter) or not (anvil)
    st.booleans(),  # the subscription watches newHeads too
    st.booleans(),  # heads before or after the logs of their block
)
def test_consumer_sees_the_canonical_chain_exactly_once(
    seed: int,
    steps: list[tuple[object, ...]],
    server_sends_removed: bool,
    watch_heads: bool,
    heads_first: bool,
) -> None:
    chain = Chain(random.Random(seed))
    for _ in range(3):
        chain.mine(1)
    start = chain.head + 1
    window = LogWindow(start, DEPTH)
    consumer = Consumer()
    queue: list[Log | Header] = []
    connected = True

    def produce(header: Header, logs: list[Log]) -> None:
        while queue and _height(queue[0]) < header.number - MAX_LAG:
            consumer.take(notify(window, chain, queue.pop(0)))
        if not connected:
            return
        heads = [header] if watch_heads else []
        queue.extend([*heads, *logs] if heads_first else [*logs, *heads])

    for step in steps:
        kind = step[0]
        if kind == "mine":
            produce(*chain.mine(int(step[1])))  # type: ignore[call-overload]
        elif kind == "reorg":
            _, depth, new_length, logs = step
            gone, headers, added = chain.reorg(depth, new_length, logs)  # type: ignore[arg-type]
            if connected and server_sends_removed:
                queue.extend(dataclasses.replace(log, removed=True) for log in gone)
            for header, made in zip(headers, added, strict=True):
                produce(header, made)
        elif kind == "process":
            for _ in range(int(step[1])):  # type: ignore[call-overload]
                if queue:
                    consumer.take(notify(window, chain, queue.pop(0)))
        elif kind == "drop":
            connected = False
            queue.clear()
        elif kind == "reconnect" and not connected:
            connected = True
            consumer.take(reconcile(window, chain))
    while queue:
        consumer.take(notify(window, chain, queue.pop(0)))
    canonical = {log_key(log): log for log in chain.logs(start, chain.head)}
    if connected and (watch_heads or server_sends_removed):
        assert consumer.view == canonical
    consumer.take(reconcile(window, chain))  # what a reconnection would do at any time
    if watch_heads or server_sends_removed:
        assert consumer.view == canonical
    else:
        # Nothing tells of a reorg whose new blocks hold no log: a log it undid is found
        # only while its block is still in the window.
        in_window = {k: v for k, v in consumer.view.items() if v.block_number >= window.start}
        assert in_window == {k: v for k, v in canonical.items() if v.block_number >= window.start}


def _height(note: Log | Header) -> int:
    return note.block_number if isinstance(note, Log) else note.number


def test_duplicates_from_a_resubscription_are_dropped() -> None:
    chain = Chain(random.Random(1))
    chain.mine(0)
    window = LogWindow(1, DEPTH)
    _, logs = chain.mine(3)
    assert window.accept(logs[0]) == [logs[0]]
    assert window.accept(logs[1]) == [logs[1]]
    # Reconnected: the backfill returns the whole block, the live stream repeats one log.
    assert window.reconcile(1, 1, logs, at_head=True) == [logs[2]]
    assert window.accept(logs[2]) == []
    assert len(window) == 3


def test_old_blocks_are_forgotten() -> None:
    chain = Chain(random.Random(2))
    chain.mine(0)
    window = LogWindow(1, 4)
    for _ in range(20):
        _, logs = chain.mine(2)
        for log in logs:
            window.accept(log)
    assert window.start == chain.head - 4
    assert {log.block_number for log in window.delivered()} == set(
        range(chain.head - 4, chain.head + 1)
    )
