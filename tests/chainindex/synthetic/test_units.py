"""The generator's building blocks against simple references: RLP, bloom bits, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from eth_bloom.bloom import BloomFilter
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.errors import SyntheticChainError
from chainindex.synthetic import ChainShape, parse_fill, parse_mix
from chainindex.synthetic.population import assign_classes, bloom_bits_many
from chainindex.synthetic.sampling import AliasTable, solve_zipf_exponent


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=30))
def test_bloom_bits_match_eth_bloom(values: list[bytes]) -> None:
    bits = bloom_bits_many(values)
    ours = 0
    for row in bits.tolist():
        for bit in row:
            ours |= 1 << bit
    reference = BloomFilter()
    for value in values:
        reference.add(value)
    assert ours == int(reference)


@settings(max_examples=200)
@given(st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=60))
def test_alias_table_reproduces_the_weights_exactly(weights: list[float]) -> None:
    w = np.array(weights)
    if w.sum() <= 0:
        with pytest.raises(SyntheticChainError):
            AliasTable.build(w)
        return
    table = AliasTable.build(w)
    n = len(w)
    # P(k) = (keep k in column k + fall back to k from other columns) / n
    mass = table.prob.copy()
    np.add.at(mass, table.alias, 1.0 - table.prob)
    assert np.allclose(mass / n, w / w.sum(), atol=1e-9)


def test_alias_draws_follow_the_weights() -> None:
    weights = np.array([5.0, 1.0, 0.0, 3.0, 1.0])
    draws = AliasTable.build(weights).sample(np.random.default_rng(0), 200_000)
    frequencies = np.bincount(draws, minlength=5) / len(draws)
    assert frequencies[2] == 0.0
    assert np.allclose(frequencies, weights / weights.sum(), atol=0.005)


@pytest.mark.parametrize(("n", "share", "offset"), [(2000, 0.96, 5.0), (20_000, 0.9, 0.0)])
def test_zipf_exponent_gives_the_top_share(n: int, share: float, offset: float) -> None:
    exponent = solve_zipf_exponent(n, 0.01, share, offset)
    weights = (np.arange(1, n + 1) + offset) ** -exponent
    assert weights[: n // 100].sum() / weights.sum() == pytest.approx(share, abs=1e-6)


def test_unreachable_top_share_is_refused() -> None:
    with pytest.raises(SyntheticChainError, match="not reachable"):
        solve_zipf_exponent(1000, 0.01, 0.005, 5.0)  # below the uniform share
    with pytest.raises(SyntheticChainError, match="not reachable"):
        ChainShape(contracts=1000, contract_top_share=0.005)


def test_classes_balance_the_mix() -> None:
    weights = np.power(np.arange(1, 5001) + 5.0, -1.9, dtype=np.float64)
    weights /= weights.sum()
    shares = [0.75, 0.06, 0.10, 0.03, 0.02, 0.02, 0.02]
    classes = assign_classes(weights, shares)
    got = np.bincount(classes, weights=weights, minlength=7)
    assert np.allclose(got, shares, atol=0.01)
    assert assign_classes(weights, [0.0, 1.0, 0, 0, 0, 0, 0]).tolist() == [1] * 5000


def test_fill_and_mix_parsing() -> None:
    assert parse_fill("sparse") == 0.05
    assert parse_fill("Saturated") == 0.5
    assert parse_fill("0.3") == 0.3
    assert parse_fill("30%") == pytest.approx(0.3)
    for bad in ("", "none", "0", "-0.1", "0.95", "nan"):
        with pytest.raises(SyntheticChainError):
            parse_fill(bad)
    assert dict(parse_mix("erc20=3,weth=1")) == {"erc20": 0.75, "weth": 0.25}
    for bad in ("erc20", "erc20=x", "nft=1", "erc20=0", "erc20=-1,weth=2", "erc20=1,erc20=1"):
        with pytest.raises(SyntheticChainError):
            parse_mix(bad)


@pytest.mark.parametrize(
    "options",
    [
        {"fill": None},
        {"fill": 0.0},
        {"fill": 0.95},
        {"logs_per_block": -1.0},
        {"contracts": 1},
        {"holders": 0},
        {"holder_zipf": float("nan")},
        {"contract_top_share": 1.0},
        {"logs_per_transaction": 0.5},
        {"plain_transaction_share": 1.0},
        {"block_time": 0},
        {"gas_limit": 10},
        {"mix": ()},
    ],
)
def test_bad_shapes_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(SyntheticChainError):
        ChainShape(**options)  # type: ignore[arg-type]


def test_logs_per_block_replaces_the_fill() -> None:
    shape = ChainShape(logs_per_block=10)
    assert shape.fill is None
    assert shape.logs_per_block == 10
    assert ChainShape(fill=0.2) != ChainShape(fill=0.3)
    assert ChainShape(fill=0.2).fingerprint != ChainShape(fill=0.3).fingerprint


def test_transaction_hashes_are_the_documented_preimage() -> None:
    from eth_utils.crypto import keccak

    from chainindex.synthetic.header import transaction_hashes

    key = bytes(range(32))
    expected = [
        "0x" + keccak(key + b"tx" + (77).to_bytes(8, "big") + i.to_bytes(4, "big")).hex()
        for i in range(3)
    ]
    assert transaction_hashes(key, 77, 3) == expected


@pytest.mark.parametrize("cv", [0.0, 0.3, 0.6, 1.0])
@pytest.mark.parametrize("mean", [0.5, 12.0, 290.0])
def test_expected_fill_weights_the_curve_by_the_log_count_law(mean: float, cv: float) -> None:
    from chainindex.synthetic.calibrate import expected_fill

    # With curve[L] = L, the expected "fill" is the mean log count (the cap cuts almost
    # nothing); with curve[L] = L**2 it is the second moment, mean**2 + (cv*mean)**2 + mean
    # for a gamma-mixed Poisson.
    length = 20_000
    linear = np.arange(length + 1, dtype=np.float64)
    assert expected_fill(linear, mean, cv) == pytest.approx(mean, rel=2e-3)
    second = mean**2 + (cv * mean) ** 2 + mean
    assert expected_fill(linear**2, mean, cv) == pytest.approx(second, rel=2e-2)
