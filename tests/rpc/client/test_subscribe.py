"""Subscriptions against anvil: every log exactly once across dropped WebSocket connections
(through a proxy the test cuts) and consumer overflows; logs undone by reorgs (anvil_reorg,
evm_revert) come back with ``removed=True`` — anvil sends none itself, the client finds them;
missed heads are filled in after a reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

import pytest

from rpc.client import (
    AsyncClient,
    Backoff,
    InvalidArgumentError,
    Log,
    LogSubscription,
    TransportError,
)
from rpc.client.types import log_key
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.rpc.client.support import WsProxy
from tests.rpc.client.test_anvil import reference

FAST = Backoff(initial=0.02, maximum=0.2)


def canonical(anvil: Anvil, first: int, address: str) -> list[Log]:
    return reference(
        anvil.rpc("eth_getLogs", {"fromBlock": hex(first), "toBlock": "latest", "address": address})
    )


class View:
    """The consumer's picture of the chain: added logs, minus the removed ones; every log
    added once and removed only if added."""

    def __init__(self) -> None:
        self.logs: dict[tuple[bytes, int], Log] = {}
        self.added = 0
        self.removed: list[Log] = []

    def take(self, log: Log) -> None:
        key = log_key(log)
        if log.removed:
            assert key in self.logs, f"removed a log never delivered: {log}"
            del self.logs[key]
            self.removed.append(log)
        else:
            assert key not in self.logs, f"delivered twice: {log}"
            self.logs[key] = log
            self.added += 1

    def ordered(self) -> list[Log]:
        return sorted(self.logs.values(), key=lambda log: (log.block_number, log.log_index))


async def read_until(
    sub: LogSubscription, view: View, done: Callable[[], bool], seconds: float = 20.0
) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out with {len(view.logs)} logs"
        view.take(await asyncio.wait_for(anext(sub), remaining))


async def test_exactly_once_across_dropped_connections(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    finished = threading.Event()

    def emit() -> None:
        for i in range(45):
            if i % 3 == 0:
                emitter.emit_many(1 + i % 7, i.to_bytes(32, "big"))
            else:
                emitter.emit_log([i.to_bytes(32, "big")], b"")
            time.sleep(0.01)
        finished.set()

    with WsProxy(anvil) as proxy:
        async with (
            AsyncClient(proxy.ws_url, backoff=FAST) as client,
            client.subscribe("logs", {"address": emitter.address}) as sub,
        ):
            start = sub.start_block
            assert start is not None
            view = View()
            emitting = asyncio.ensure_future(asyncio.to_thread(emit))
            try:
                drops = 0
                for target in (3, 12, 30):  # cut the connection while logs keep coming
                    await read_until(sub, view, lambda t=target: view.added >= t)  # type: ignore[misc]
                    # (reading on until the client is connected again after the last cut)
                    await read_until(sub, view, lambda: proxy.open_connections > 0)
                    drops += await asyncio.to_thread(proxy.drop)
                # Once more with the proxy refusing for a while: blocks are mined meanwhile.
                await read_until(sub, view, lambda: proxy.open_connections > 0)
                proxy.refusing = True
                drops += await asyncio.to_thread(proxy.drop)
                await asyncio.sleep(0.3)
                proxy.refusing = False
                await emitting
            finally:
                await asyncio.gather(emitting, return_exceptions=True)
            expected = await asyncio.to_thread(canonical, anvil, start, emitter.address)
            await read_until(sub, view, lambda: view.added >= len(expected))
            # Nothing more pending: no duplicate is still on its way.
            with pytest.raises(TimeoutError):
                view.take(await asyncio.wait_for(anext(sub), 0.3))
    assert drops == 4
    assert sub.reconnects >= 3  # the last drop may be noticed only after the final check
    # One connection per reconnection; the last one may be open but not re-subscribed yet
    # (``reconnects`` counts a reconnection once its subscription is back).
    pending = 1 if sub.reconnects == drops - 1 else 0
    assert 1 + sub.reconnects <= proxy.connections <= 1 + sub.reconnects + pending
    assert view.removed == []
    assert view.ordered() == expected
    assert len(expected) > 60


async def test_cancelled_reads_during_recovery_lose_nothing(anvil: Anvil) -> None:
    """A consumer polling with timeouts cancels reads in the middle of reconnecting and
    backfilling: the subscription picks up where it was."""
    emitter = Emitter(anvil)
    with WsProxy(anvil) as proxy:
        async with (
            AsyncClient(proxy.ws_url, backoff=Backoff(initial=0.01, maximum=0.03)) as client,
            client.subscribe("logs", {"address": emitter.address}) as sub,
        ):
            assert sub.start_block is not None
            view = View()
            await asyncio.to_thread(emitter.emit_many, 3, bytes(32))
            await read_until(sub, view, lambda: view.added >= 3)
            proxy.refusing = True
            await asyncio.to_thread(proxy.drop)
            for i in range(4):
                await asyncio.to_thread(emitter.emit_many, 4, bytes([i + 1]) * 32)
            for _ in range(5):  # each read gives up while the client retries to connect
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(anext(sub), 0.02)
            proxy.refusing = False
            for _ in range(30):  # and while it backfills
                with contextlib.suppress(TimeoutError):
                    view.take(await asyncio.wait_for(anext(sub), 0.002))
            expected = canonical(anvil, sub.start_block, emitter.address)
            await read_until(sub, view, lambda: view.added >= len(expected))
            with pytest.raises(TimeoutError):
                view.take(await asyncio.wait_for(anext(sub), 0.3))
    assert view.ordered() == expected
    assert len(expected) == 19


async def test_overflow_resubscribes_and_loses_nothing(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    async with (
        AsyncClient(anvil.ws_url, queue_limit=5, backoff=FAST) as client,
        client.subscribe("logs", {"address": emitter.address}, detect_reorgs=False) as sub,
    ):
        assert sub.start_block is not None
        for i in range(6):  # 6 blocks of 5 logs, not consumed meanwhile
            await asyncio.to_thread(emitter.emit_many, 5, bytes([i]) * 32)
        await asyncio.sleep(0.2)  # let the notifications arrive (and overflow)
        view = View()
        await read_until(sub, view, lambda: view.added >= 30)
        expected = canonical(anvil, sub.start_block, emitter.address)
    assert sub.reconnects >= 1
    assert view.ordered() == expected


async def test_anvil_reorg_surfaces_removed_logs(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    async with (
        AsyncClient(anvil.ws_url) as client,
        client.subscribe("logs", {"address": emitter.address}) as sub,
    ):
        assert sub.start_block is not None
        view = View()
        for i in range(4):
            await asyncio.to_thread(emitter.emit_log, [bytes([i + 1]) * 32], b"old")
        await read_until(sub, view, lambda: view.added >= 4)
        old = view.ordered()
        # Replace the last 2 blocks: one new log in the first, none in the second.
        replacement = [(emitter.tx(Emitter.emit_log_data([b"\x09" * 32], b"new")), 0)]
        await asyncio.to_thread(anvil.reorg, 2, replacement)
        await read_until(sub, view, lambda: len(view.removed) >= 2 and view.added >= 5)
        expected = canonical(anvil, sub.start_block, emitter.address)
    assert [log.removed for log in view.removed] == [True, True]
    assert [(log.block_number, log.data) for log in view.removed] == [
        (log.block_number, log.data) for log in old[2:]
    ]
    assert view.ordered() == expected
    assert [log.data for log in expected] == [b"old", b"old", b"new"]


async def test_revert_to_snapshot_surfaces_removed_logs(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    async with (
        AsyncClient(anvil.ws_url) as client,
        client.subscribe("logs", {"address": emitter.address}) as sub,
    ):
        assert sub.start_block is not None
        view = View()
        await asyncio.to_thread(emitter.emit_log, [b"\x01" * 32], b"kept")
        await read_until(sub, view, lambda: view.added >= 1)  # mined (automine is async)
        snapshot = anvil.snapshot()
        for _ in range(3):
            await asyncio.to_thread(emitter.emit_log, [b"\x02" * 32], b"undone")
        await read_until(sub, view, lambda: view.added >= 4)
        anvil.revert(snapshot)
        # The new branch: empty blocks past the old height, then one log.
        await asyncio.to_thread(anvil.mine, 4)
        await asyncio.to_thread(emitter.emit_log, [b"\x03" * 32], b"after")
        await read_until(sub, view, lambda: len(view.removed) >= 3 and view.added >= 5)
        expected = canonical(anvil, sub.start_block, emitter.address)
    assert [log.data for log in view.removed] == [b"undone"] * 3
    assert view.ordered() == expected
    assert [log.data for log in expected] == [b"kept", b"after"]


async def test_missed_heads_are_filled_in(anvil: Anvil) -> None:
    with WsProxy(anvil) as proxy:
        async with (
            AsyncClient(proxy.ws_url, backoff=FAST) as client,
            client.subscribe("newHeads") as heads,
        ):
            await asyncio.to_thread(anvil.mine, 2)
            got = [await asyncio.wait_for(anext(heads), 10) for _ in range(2)]
            proxy.refusing = True
            await asyncio.to_thread(proxy.drop)
            await asyncio.to_thread(anvil.mine, 3)  # missed while disconnected
            proxy.refusing = False
            got += [await asyncio.wait_for(anext(heads), 10) for _ in range(3)]
            await asyncio.to_thread(anvil.mine, 1)
            got.append(await asyncio.wait_for(anext(heads), 10))
    assert [h.number for h in got] == [1, 2, 3, 4, 5, 6]
    hashes = [anvil.rpc("eth_getBlockByNumber", hex(n), False)["hash"] for n in range(1, 7)]
    assert ["0x" + h.hash.hex() for h in got] == hashes
    assert heads.reconnects == 1


async def test_gives_up_after_the_reconnection_attempts(anvil: Anvil) -> None:
    with WsProxy(anvil) as proxy:
        async with (
            AsyncClient(proxy.ws_url, backoff=FAST, reconnect_attempts=2) as client,
            client.subscribe("newHeads") as heads,
        ):
            proxy.refusing = True
            await asyncio.to_thread(proxy.drop)
            with pytest.raises(
                TransportError, match="2 reconnection attempts failed, the last with"
            ):
                await asyncio.wait_for(anext(heads), 10)


async def test_subscriptions_need_a_websocket(anvil: Anvil) -> None:
    async with AsyncClient(anvil.url) as client:
        with pytest.raises(InvalidArgumentError, match="subscriptions need a WebSocket"):
            client.subscribe("newHeads")
    # Beside an HTTP URL, ws_url carries the subscriptions.
    async with (
        AsyncClient(anvil.url, ws_url=anvil.ws_url) as client,
        client.subscribe("newHeads") as heads,
    ):
        await asyncio.to_thread(anvil.mine)
        assert (await asyncio.wait_for(anext(heads), 10)).number == 1
