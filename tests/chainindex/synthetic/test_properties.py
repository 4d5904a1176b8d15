"""Any shape, seed and starting height gives an archive that passes the independent check."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.synthetic import CLASS_NAMES, ChainGenerator, ChainShape
from tests.chainindex.synthetic.validation import check_chain

mixes = st.dictionaries(
    st.sampled_from(CLASS_NAMES), st.floats(0.01, 1.0), min_size=1, max_size=len(CLASS_NAMES)
).map(lambda d: tuple(d.items()))


@st.composite
def shapes(draw: st.DrawFn) -> ChainShape:
    return ChainShape(
        logs_per_block=draw(st.floats(0.0, 60.0)),
        logs_per_block_cv=draw(st.floats(0.0, 2.0)),
        contracts=draw(st.integers(2, 400)),
        holders=draw(st.integers(1, 800)),
        holder_zipf=draw(st.floats(0.0, 3.0)),
        mix=draw(mixes),
        logs_per_transaction=draw(st.floats(1.0, 8.0)),
        plain_transaction_share=draw(st.floats(0.0, 0.9)),
        reverted_share=draw(st.floats(0.0, 0.9)),
        block_time=draw(st.integers(1, 30)),
        missed_slot_rate=draw(st.floats(0.0, 0.5)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=shapes(),
    seed=st.integers(0, 2**64 - 1),
    first=st.sampled_from([0, 0, 1, 37, 4096, 2**40]),
    blocks=st.integers(1, 40),
    headers_only=st.booleans(),
)
def test_every_generated_chain_is_valid(
    shape: ChainShape, seed: int, first: int, blocks: int, headers_only: bool
) -> None:
    generator = ChainGenerator(shape, seed, first_block=first, headers_only=headers_only)
    records = generator.records(blocks)
    checked = check_chain(
        records, first=first, block_time=shape.block_time, headers_only=headers_only
    )
    assert checked == blocks
