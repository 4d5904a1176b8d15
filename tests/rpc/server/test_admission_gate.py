"""``Admission`` alone, on an event loop: slots, FIFO hand-over, expiry, cancellation, and
``holding`` giving a streamed answer's slot back however the stream ends."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpc.server.admission import Admission, holding
from rpc.server.dispatch import CallContext, Dispatcher, Handler, Params
from rpc.server.limits import Limits


def test_slots_then_fifo_then_refusal() -> None:
    async def main() -> None:
        gate = Admission(2, 0.05)
        assert await gate.acquire()
        assert await gate.acquire()
        order: list[int] = []

        async def waiter(n: int) -> None:
            if await gate.acquire():
                order.append(n)

        first = asyncio.create_task(waiter(1))
        second = asyncio.create_task(waiter(2))
        await asyncio.sleep(0)
        assert gate.stats().waiting == 2
        gate.release()  # to the first waiter, not to the pool
        await first
        assert order == [1]
        assert gate.running == 2
        await second  # nobody releases: refused after the wait
        assert order == [1]
        stats = gate.stats()
        assert (stats.running, stats.waiting, stats.admitted, stats.waited, stats.refused) == (
            2, 0, 3, 1, 1,
        )  # fmt: skip

    asyncio.run(main())


def test_cancelled_waiter_leaves_no_trace() -> None:
    async def main() -> None:
        gate = Admission(1, 10)
        assert await gate.acquire()
        task = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0)
        gate.release()  # handed to the task...
        task.cancel()  # ...which is cancelled before it runs: the slot comes back
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.running == 0
        assert gate.stats().waiting == 0

    asyncio.run(main())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.lists(st.integers(0, 3), min_size=1, max_size=30))
def test_never_more_than_the_limit(limit: int, holds: list[int]) -> None:
    """Calls holding a slot for ``n`` loop turns: the number running never exceeds the
    limit, and every call is either admitted or refused."""

    async def main() -> None:
        gate = Admission(limit, 0.001)
        peak = 0
        admitted = 0

        async def call(turns: int) -> None:
            nonlocal peak, admitted
            if not await gate.acquire():
                return
            admitted += 1
            peak = max(peak, gate.running)
            for _ in range(turns):
                await asyncio.sleep(0)
            gate.release()

        await asyncio.gather(*(call(t) for t in holds))
        assert peak <= limit
        assert gate.running == 0
        assert admitted + gate.refused == len(holds) == gate.admitted + gate.refused

    asyncio.run(main())


def test_holding_releases_however_the_stream_ends() -> None:
    released: list[str] = []

    async def parts() -> AsyncGenerator[bytes]:
        yield b"a"
        yield b"b"

    async def main() -> None:
        whole = holding(parts(), lambda: released.append("whole"))
        assert [p async for p in whole] == [b"a", b"b"]
        cut = holding(parts(), lambda: released.append("cut"))
        assert await anext(cut) == b"a"
        await cut.aclose()
        never = holding(parts(), lambda: released.append("never"))
        del never
        gc.collect()

    asyncio.run(main())
    assert released == ["whole", "cut", "never"]


def test_log_queries_take_turns_others_do_not() -> None:
    """Through a :class:`Dispatcher`: of 12 admitted ``eth_getLogs``, at most ``queries``
    compute at once, and none is refused for waiting its turn; proxied-like calls
    (``slow_other``) all run side by side."""
    running = {"eth_getLogs": 0, "slow_other": 0}
    peaks = dict(running)

    def handler(method: str) -> Handler:
        async def run(params: Params, ctx: CallContext) -> str:
            running[method] += 1
            peaks[method] = max(peaks[method], running[method])
            await asyncio.sleep(0.01)
            running[method] -= 1
            return "ok"

        return run

    async def main() -> None:
        gate = Admission(64, 5, queries=3)
        dispatcher = Dispatcher({m: handler(m) for m in running}, Limits(), admission=gate)
        ctx = CallContext(owner=None)
        bodies = [
            orjson.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": []})
            for i in range(12)
            for m in running
        ]
        answers = await asyncio.gather(*(dispatcher.handle(b, ctx) for b in bodies))
        assert all(b'"result":"ok"' in a for a in answers if isinstance(a, bytes))
        assert gate.refused == 0
        assert gate.running == 0

    asyncio.run(main())
    assert peaks == {"eth_getLogs": 3, "slow_other": 12}
