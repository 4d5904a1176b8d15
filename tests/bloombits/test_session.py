"""Session lifecycle and concurrency: shared schedulers, failing / flaky / slow retrievers,
cancellation mid-stream, and no task left behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import numpy as np
import pytest

from bloombits.errors import MatcherError, RetrievalError
from bloombits.matcher import Matcher
from bloombits.retrieval import VectorBatch
from bloombits.session import SessionClosedError
from tests.bloombits.chain import (
    Chain,
    FailingRetriever,
    FlakyRetriever,
    MemoryRetriever,
    RetrievalFailedError,
    random_chain,
    reference,
)


@pytest.fixture
def chain() -> Chain:
    rng = np.random.default_rng(7)
    pool = [rng.bytes(20) for _ in range(3)] + [rng.bytes(32) for _ in range(3)]
    return random_chain(rng, 32, 24, pool, rate=0.08, noise=0.02)


def pool_filters(chain: Chain) -> list[list[bytes]]:
    """A filter over values the chain holds: two addresses ORed, AND a topic."""
    rng = np.random.default_rng(7)
    pool = [rng.bytes(20) for _ in range(3)] + [rng.bytes(32) for _ in range(3)]
    return [[pool[0], pool[1]], [pool[3]]]


def tasks_now() -> set[asyncio.Task[object]]:
    return set(asyncio.all_tasks())


async def test_many_concurrent_sessions_share_each_retrieval(chain: Chain) -> None:
    before = tasks_now()
    filters = pool_filters(chain)
    matcher = Matcher(chain.section_size, filters, batch_sections=3)
    retriever = MemoryRetriever(chain, delay=0.001)
    rng = np.random.default_rng(1)
    ranges = [(0, chain.blocks - 1)] + [
        tuple(sorted(rng.integers(0, chain.blocks, 2).tolist())) for _ in range(19)
    ]

    async def one(begin: int, end: int) -> list[int]:
        async with matcher.start(begin, end, retriever, retrievers=4, batch=4) as session:
            return [n async for n in session]

    results = await asyncio.gather(*(one(b, e) for b, e in ranges))
    for (begin, end), got in zip(ranges, results, strict=True):
        assert got == reference(chain, filters, begin, end)
    # Deduplicated across sub-matchers and sessions: no (bit, section) asked for twice.
    assert max(retriever.asked.values()) == 1
    assert tasks_now() == before


async def test_sessions_without_a_cache_budget_still_agree(chain: Chain) -> None:
    filters = pool_filters(chain)
    matcher = Matcher(chain.section_size, filters, batch_sections=2, cache_bytes=0)
    retriever = MemoryRetriever(chain, delay=0.001)

    async def one(begin: int, end: int) -> list[int]:
        async with matcher.start(begin, end, retriever, retrievers=3, batch=3) as session:
            return [n async for n in session]

    ranges = [(0, chain.blocks - 1), (100, 500), (40, 41), (0, chain.blocks - 1)]
    results = await asyncio.gather(*(one(b, e) for b, e in ranges))
    for (begin, end), got in zip(ranges, results, strict=True):
        assert got == reference(chain, filters, begin, end)
    assert matcher.budget.bytes == 0  # nothing kept once nobody waits


async def test_sections_not_available_yet_are_asked_again(chain: Chain) -> None:
    filters = pool_filters(chain)
    retriever = FlakyRetriever(chain, misses=2)
    matcher = Matcher(chain.section_size, filters, batch_sections=4)
    async with matcher.start(0, chain.blocks - 1, retriever, retry_delay=0.001) as session:
        got = [n async for n in session]
    assert got == reference(chain, filters, 0, chain.blocks - 1)
    assert retriever.asked
    assert min(retriever.asked.values()) == 3


async def test_session_waits_for_sections_until_they_are_indexed(chain: Chain) -> None:
    filters = pool_filters(chain)
    retriever = MemoryRetriever(chain, available=10)
    matcher = Matcher(chain.section_size, filters, batch_sections=4)
    async with matcher.start(0, chain.blocks - 1, retriever, retry_delay=0.002) as session:
        batches = session.batches()
        first = await anext(batches)  # sections below 10 are there
        assert first.last_block < 10 * chain.section_size
        await asyncio.sleep(0.02)
        retriever.available = len(chain.vectors)  # the indexer caught up
        rest = [n for batch in [b async for b in batches] for n in batch.numbers.tolist()]
    assert first.numbers.tolist() + rest == reference(chain, filters, 0, chain.blocks - 1)


@pytest.mark.parametrize("as_arrays", [False, True])
async def test_a_retriever_error_ends_the_iteration_with_that_error(
    chain: Chain, as_arrays: bool
) -> None:
    before = tasks_now()
    retriever = FailingRetriever(chain, section=17, as_arrays=as_arrays)
    matcher = Matcher(chain.section_size, [[], *pool_filters(chain)], batch_sections=2)
    seen: list[int] = []

    async def consume() -> None:
        async with matcher.start(0, chain.blocks - 1, retriever, batch=2) as session:
            async for number in session:
                seen.append(number)

    with pytest.raises(RetrievalFailedError, match="disk on fire at section 17"):
        await consume()
    assert all(n < 17 * chain.section_size for n in seen)  # never past the failure
    assert tasks_now() == before


async def test_the_error_is_raised_even_after_the_consumer_paused(chain: Chain) -> None:
    retriever = FailingRetriever(chain, section=0)
    matcher = Matcher(chain.section_size, pool_filters(chain))
    async with matcher.start(0, chain.blocks - 1, retriever) as session:
        await asyncio.sleep(0.05)  # the failure happens while nobody reads
        with pytest.raises(RetrievalFailedError):
            await anext(session.batches())


class Misshapen:
    """Answers with data of the wrong shape."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    async def retrieve(self, bit: int, sections: list[int]) -> Sequence[bytes | None] | VectorBatch:
        return self.answer(sections)  # type: ignore[operator,no-any-return]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda s: [b"\x00" * 4] * (len(s) + 1), "answered 2 vectors for 1 sections"),
        (lambda s: [b"\x00" * 3] * len(s), "3-byte vector, expected 4 bytes"),
        (lambda s: ["text"] * len(s), "str"),
        (
            lambda s: VectorBatch(np.zeros((len(s), 5), np.uint8), np.ones(len(s), bool)),
            "shape",
        ),
    ],
)
async def test_misshapen_answers_are_retrieval_errors(answer: object, message: str) -> None:
    matcher = Matcher(32, [[b"\x01" * 20]])
    with pytest.raises(RetrievalError, match=message):
        async with matcher.start(0, 31, Misshapen(answer)) as session:
            [n async for n in session]


async def test_breaking_out_cancels_everything_promptly(chain: Chain) -> None:
    before = tasks_now()
    retriever = MemoryRetriever(chain, delay=0.05)
    matcher = Matcher(chain.section_size, pool_filters(chain), batch_sections=1)
    start = time.monotonic()
    async with matcher.start(0, chain.blocks - 1, retriever, retrievers=2, batch=1) as session:
        async for _ in session:
            break
    assert time.monotonic() - start < 5 * 0.05 * len(chain.vectors)  # far from a full run
    assert tasks_now() == before


async def test_outer_cancellation_mid_stream_leaves_no_task(chain: Chain) -> None:
    before = tasks_now()
    retriever = MemoryRetriever(chain, delay=10.0)  # never answers in time
    matcher = Matcher(chain.section_size, pool_filters(chain))

    async def consume() -> None:
        async with matcher.start(0, chain.blocks - 1, retriever) as session:
            async for _ in session:
                pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    assert retriever.calls > 0  # retrievals are in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tasks_now() == before


async def test_timeout_around_a_slow_session_leaves_no_task(chain: Chain) -> None:
    before = tasks_now()
    retriever = MemoryRetriever(chain, delay=10.0)
    matcher = Matcher(chain.section_size, pool_filters(chain))

    async def consume() -> None:
        async with asyncio.timeout(0.05), matcher.start(0, chain.blocks - 1, retriever) as session:
            [n async for n in session]

    with pytest.raises(TimeoutError):
        await consume()
    assert tasks_now() == before


class Gated(MemoryRetriever):
    """Holds every retrieval until ``gate`` opens."""

    def __init__(self, chain: Chain) -> None:
        super().__init__(chain)
        self.gate = asyncio.Event()

    async def retrieve(self, bit: int, sections: list[int]) -> Sequence[bytes | None] | VectorBatch:
        await self.gate.wait()
        return await super().retrieve(bit, sections)


async def test_a_closed_session_hands_its_retrievals_to_a_waiting_one(chain: Chain) -> None:
    filters = pool_filters(chain)
    matcher = Matcher(chain.section_size, filters)
    stuck, free = Gated(chain), MemoryRetriever(chain)
    first = matcher.start(0, chain.blocks - 1, stuck)
    await first.__aenter__()
    await asyncio.sleep(0.01)  # the first session now owns every pending retrieval
    second = matcher.start(0, chain.blocks - 1, free)
    async with second:
        reader = asyncio.create_task(_collect(second))
        await asyncio.sleep(0.01)
        assert free.calls == 0  # deduplicated: waiting on the first session's retrievals
        await first.__aexit__(None, None, None)
        got = await asyncio.wait_for(reader, 5)
    assert got == reference(chain, filters, 0, chain.blocks - 1)
    assert free.calls > 0


async def _collect(session: object) -> list[int]:
    return [n async for n in session]  # type: ignore[attr-defined]


async def test_graceful_close_lets_retrievals_in_flight_land(chain: Chain) -> None:
    before = tasks_now()
    retriever = MemoryRetriever(chain, delay=0.05)
    matcher = Matcher(chain.section_size, [[b"\x01" * 20]], batch_sections=1)
    session = matcher.start(0, chain.blocks - 1, retriever, retrievers=1, batch=1)
    await session.__aenter__()
    await asyncio.sleep(0.01)  # one retrieval in flight
    await session.close(grace=1.0)
    cached = sum(s.cached_sections() for s in matcher.schedulers.values())
    assert cached == 1  # delivered, though the session was closing
    assert tasks_now() == before
    with pytest.raises(SessionClosedError):
        await anext(session.batches())


async def test_hard_close_does_not_wait_for_retrievals(chain: Chain) -> None:
    retriever = MemoryRetriever(chain, delay=10.0)
    matcher = Matcher(chain.section_size, [[b"\x01" * 20]])
    session = matcher.start(0, chain.blocks - 1, retriever)
    await session.__aenter__()
    await asyncio.sleep(0.01)
    start = time.monotonic()
    await session.close()
    assert time.monotonic() - start < 1.0
    assert sum(s.cached_sections() for s in matcher.schedulers.values()) == 0


async def test_reading_a_session_that_was_not_started_is_an_error(chain: Chain) -> None:
    session = Matcher(chain.section_size, [[b"a"]]).start(0, 10, MemoryRetriever(chain))
    with pytest.raises(MatcherError, match="async with"):
        await anext(session.batches())


async def test_a_session_starts_only_once(chain: Chain) -> None:
    session = Matcher(chain.section_size, [[b"a"]]).start(0, 10, MemoryRetriever(chain))
    async with session:
        with pytest.raises(MatcherError, match="only once"):
            await session.__aenter__()


async def test_sparsest_group_runs_first(chain: Chain) -> None:
    size = 32
    rng = np.random.default_rng(5)
    common, rare = rng.bytes(20), rng.bytes(32)
    blooms = random_chain(rng, size, 20, [common], rate=1.0).blooms
    # The rare value appears in one block of section 13 only.
    rare_chain = random_chain(rng, size, 1, [common, rare], rate=1.0)
    blooms[13 * size + 5] = rare_chain.blooms[0]
    skewed = Chain(size, blooms)
    retriever = MemoryRetriever(skewed)
    # Given common first, the matcher must still evaluate rare first.
    matcher = Matcher(size, [[common], [rare]], batch_sections=4)
    async with matcher.start(0, skewed.blocks - 1, retriever) as session:
        assert [n async for n in session] == [13 * size + 5]
    common_bits = set(matcher.groups[0][0])
    sections = {s for (bit, s) in retriever.asked if bit in common_bits}
    # The probe batch (sections 0..3), then only where the rare value left something.
    assert sections == {0, 1, 2, 3, 13}
