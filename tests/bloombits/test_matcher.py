"""The matcher against the brute-force reference: random blooms, section sizes, filters
(wildcards, duplicates, hundreds of alternatives, 1-5 groups) and unaligned ranges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bloombits.errors import MatcherError
from bloombits.matcher import Matcher
from tests.bloombits.chain import Chain, Filters, MemoryRetriever, random_chain, reference

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(
    draw: st.DrawFn, *, max_alternatives: int = 6, max_blocks: int = 4096
) -> tuple[Chain, Filters, int, int, int | None, int]:
    """A chain, a filter over its values (plus values it does not hold), a range in it, and
    the sections per pipeline batch."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    size = 8 * draw(st.integers(1, 512))
    sections = draw(st.integers(1, max(1, min(12, max_blocks // size))))
    pool = [rng.bytes(int(rng.choice([20, 32]))) for _ in range(draw(st.integers(1, 8)))]
    strangers = [rng.bytes(32) for _ in range(4)]
    chain = random_chain(
        rng,
        size,
        sections,
        pool,
        rate=draw(st.sampled_from([0.01, 0.1, 0.4])),
        noise=draw(st.sampled_from([0.0, 0.0, 0.02, 0.3])),
    )
    values = st.sampled_from(pool + strangers)
    group = st.lists(values, min_size=0, max_size=max_alternatives)
    filters = draw(st.lists(group, min_size=1, max_size=5))
    begin = draw(st.integers(0, chain.blocks - 1))
    end = draw(st.integers(begin, chain.blocks - 1))
    batch_sections = draw(st.sampled_from([None, 1, 2, 3]))
    cache_bytes = draw(st.sampled_from([0, 64, 32 << 20]))  # keep nothing, a little, plenty
    return chain, filters, begin, end, batch_sections, cache_bytes


async def run(
    chain: Chain,
    filters: Filters,
    begin: int,
    end: int,
    batch_sections: int | None = None,
    cache_bytes: int = 32 << 20,
    **start: object,
) -> list[int]:
    matcher = Matcher(
        chain.section_size, filters, batch_sections=batch_sections, cache_bytes=cache_bytes
    )
    retriever = MemoryRetriever(chain)
    async with matcher.start(begin, end, retriever, **start) as session:  # type: ignore[arg-type]
        return [number async for number in session]


@settings(SETTINGS, max_examples=150)
@given(scenarios())
async def test_matches_equal_the_per_block_reference(
    scenario: tuple[Chain, Filters, int, int, int | None, int],
) -> None:
    chain, filters, begin, end, batch_sections, cache_bytes = scenario
    expected = reference(chain, filters, begin, end)
    event("no match" if not expected else "all" if len(expected) == end - begin + 1 else "some")
    assert await run(chain, filters, begin, end, batch_sections, cache_bytes) == expected


@settings(SETTINGS, max_examples=20)
@given(scenarios(max_alternatives=400, max_blocks=1024), st.integers(100, 400))
async def test_hundreds_of_alternatives(
    scenario: tuple[Chain, Filters, int, int, int | None, int], alternatives: int
) -> None:
    chain, filters, begin, end, batch_sections, cache_bytes = scenario
    rng = np.random.default_rng(alternatives)
    many = [rng.bytes(20) for _ in range(alternatives)]
    filters = [filters[0] + many, *filters[1:]]
    assert await run(chain, filters, begin, end, batch_sections, cache_bytes) == reference(
        chain, filters, begin, end
    )


@SETTINGS
@given(scenarios(), st.data())
async def test_batches_hold_the_same_numbers_with_honest_bounds(
    scenario: tuple[Chain, Filters, int, int, int | None, int], data: st.DataObject
) -> None:
    chain, filters, begin, end, batch_sections, cache_bytes = scenario
    matcher = Matcher(
        chain.section_size, filters, batch_sections=batch_sections, cache_bytes=cache_bytes
    )
    retriever = MemoryRetriever(chain, as_arrays=data.draw(st.booleans()))
    numbers: list[int] = []
    async with matcher.start(begin, end, retriever) as session:
        previous_last = begin - 1
        async for batch in session.batches():
            assert batch.numbers.dtype == np.int64
            assert batch.numbers.size > 0
            assert len(batch) == batch.numbers.size
            bits = [
                batch.first_section * chain.section_size + i
                for i, bit in enumerate(np.unpackbits(batch.bitsets.reshape(-1)).tolist())
                if bit
            ]
            assert batch.numbers.tolist() == bits
            assert previous_last < batch.first_block <= batch.last_block <= end
            assert batch.numbers[0] >= batch.first_block
            assert batch.numbers[-1] <= batch.last_block
            previous_last = batch.last_block
            numbers.extend(batch.numbers.tolist())
    assert numbers == reference(chain, filters, begin, end)


@pytest.mark.parametrize("filters", [[], [[]], [[], [], []]])
async def test_all_wildcard_filters_yield_every_block(filters: Filters) -> None:
    chain = random_chain(np.random.default_rng(1), 16, 3, [b"x" * 20])
    assert await run(chain, filters, 5, 41, batch_sections=1) == list(range(5, 42))


async def test_wildcard_group_beside_real_groups_is_ignored() -> None:
    rng = np.random.default_rng(2)
    pool = [rng.bytes(20), rng.bytes(32)]
    chain = random_chain(rng, 64, 4, pool, rate=0.2)
    filters = [[], [pool[0]], []]
    assert await run(chain, filters, 0, 255) == reference(chain, [[pool[0]]], 0, 255)


async def test_results_across_many_batches_keep_ascending_order() -> None:
    rng = np.random.default_rng(3)
    pool = [rng.bytes(20)]
    chain = random_chain(rng, 8, 200, pool, rate=0.5)
    got = await run(chain, [pool], 3, 1597, batch_sections=7, batch=5, retrievers=3)
    assert got == sorted(got)
    assert got == reference(chain, [pool], 3, 1597)


@pytest.mark.parametrize(
    ("section_size", "filters", "message"),
    [
        (12, [], "multiple of 8"),
        (0, [], "multiple of 8"),
        (8, [["0xdead"]], "holds a str"),
        (8, [b"\x01" * 20], "must be a list"),
        (8, b"\x01", "list of lists"),
    ],
)
def test_bad_matcher_arguments_are_clear_errors(
    section_size: int, filters: object, message: str
) -> None:
    with pytest.raises(MatcherError, match=message):
        Matcher(section_size, filters)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("begin", "end", "message"),
    [(5, 4, "after end"), (-1, 4, "block number"), (0, 2.5, "block number"), (True, 3, "block")],
)
def test_bad_ranges_are_clear_errors(begin: object, end: object, message: str) -> None:
    chain = random_chain(np.random.default_rng(0), 8, 1, [])
    with pytest.raises(MatcherError, match=message):
        Matcher(8, [[b"a"]]).start(begin, end, MemoryRetriever(chain))  # type: ignore[arg-type]


def test_duplicate_values_and_groups_compile_once() -> None:
    a, b = b"\x01" * 20, b"\x02" * 32
    matcher = Matcher(8, [[a, a, b], [b, a], [a], []])
    assert len(matcher.groups) == 2  # [a, a, b] and [b, a] are one group
    assert [len(group) for group in matcher.groups] == [2, 1]
