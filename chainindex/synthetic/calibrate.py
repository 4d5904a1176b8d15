"""From a target bloom fill to a mean log count, and back.

Logs are drawn independently, so the expected fill of a block depends only on its log count:
``curve[L]`` = expected fraction of the 2048 bits set by L logs. The curve is measured once per
shape by drawing long runs of logs and noting, for every bit, the first log that sets it (one
pass gives the fill for every L). The per-block log count is a gamma-mixed Poisson (negative
binomial) cut at :func:`~chainindex.synthetic.plan.log_cap`, so the mean fill for a mean ``λ``
is the sum of ``curve`` weighted by that distribution; a bisection finds the ``λ`` that hits the
target. The calibration uses its own fixed key, so ``λ`` depends on the shape only, not on the
seed: chains with different seeds are statistically alike.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bloombits.keccak import keccak256
from chainindex.errors import SyntheticChainError
from chainindex.synthetic.logs import draw_logs, value_bits
from chainindex.synthetic.plan import BLOOM_BITS, gamma_shape, log_cap
from chainindex.synthetic.population import Population, rng_for
from chainindex.synthetic.shape import ChainShape

__all__ = ["expected_fill", "fill_curve", "logs_for_fill"]

CALIBRATION_KEY = keccak256(b"logfilter-synthetic/calibration")
"""Key of the population and streams used to measure the fill curve."""

RUNS = 48
"""Independent runs of logs averaged into the fill curve."""

LONGEST_RUN = 1 << 14
"""Longest run of logs tried; a target that needs more logs per block is refused."""


def _runs(length: int) -> int:
    """Fewer runs for long curves: the draw stays under about 100k logs."""
    return max(6, min(RUNS, RUNS * 2048 // length))


def fill_curve(
    population: Population, rng: np.random.Generator, length: int, runs: int = RUNS
) -> npt.NDArray[np.float64]:
    """``curve[L]`` for L = 0..length: mean fraction of bloom bits set by the first L logs."""
    logs = draw_logs(population, rng, runs * length)
    values = value_bits(population, logs)
    # Each (run, bit) is set first by the earliest log of the run that has it.
    position = values.log % length
    key = ((values.log // length) * BLOOM_BITS + values.bits) * length + position
    key.sort()
    cell = key // length
    first = np.ones(len(key), dtype=np.bool_)
    first[1:] = cell[1:] != cell[:-1]
    newly_set = np.bincount(key[first] % length, minlength=length)
    curve = np.zeros(length + 1, dtype=np.float64)
    curve[1:] = np.cumsum(newly_set) / (runs * BLOOM_BITS)
    return curve


def _count_distribution(mean: float, cv: float, cap: int) -> npt.NDArray[np.float64]:
    """P(L = x) for x = 0..cap, the mass above ``cap`` folded onto ``cap``."""
    x = np.arange(cap, dtype=np.float64)
    if mean <= 0:
        pmf = np.zeros(cap + 1)
        pmf[0] = 1.0
        return pmf
    r = gamma_shape(cv)
    if r is not None:
        p = r / (r + mean)
        steps = np.log((x[:-1] + r) / (x[:-1] + 1)) + math.log1p(-p)
        log_pmf = r * math.log(p) + np.concatenate(([0.0], np.cumsum(steps)))
    else:
        steps = np.log(mean / (x[:-1] + 1))
        log_pmf = -mean + np.concatenate(([0.0], np.cumsum(steps)))
    pmf = np.exp(log_pmf)
    return np.concatenate((pmf, [max(0.0, 1.0 - float(pmf.sum()))]))


def expected_fill(curve: npt.NDArray[np.float64], mean: float, cv: float) -> float:
    """Mean fill of blocks whose log count has mean ``mean`` (needs a long enough curve)."""
    cap = log_cap(mean, cv)
    if cap >= len(curve):
        raise ValueError(f"the fill curve stops at {len(curve) - 1} logs, {cap} needed")
    return float(np.dot(_count_distribution(mean, cv, cap), curve[: cap + 1]))


@lru_cache(maxsize=32)
def logs_for_fill(shape: ChainShape) -> float:
    """The mean logs per block at which blocks of ``shape`` have the mean fill ``shape.fill``."""
    if shape.fill is None:
        raise SyntheticChainError("the shape gives logs_per_block, not a fill")
    target, cv = shape.fill, shape.logs_per_block_cv
    population = Population(shape, CALIBRATION_KEY)
    length = 256
    while True:
        rng = rng_for(CALIBRATION_KEY, 3, length)
        curve = fill_curve(population, rng, length, _runs(length))
        highest = (length - 33) / (4 * (1 + cv))  # largest mean whose cap fits the curve
        if expected_fill(curve, highest, cv) >= target:
            low, high = 0.0, highest
            for _ in range(50):
                middle = (low + high) / 2
                if expected_fill(curve, middle, cv) < target:
                    low = middle
                else:
                    high = middle
            return (low + high) / 2
        if length >= LONGEST_RUN:
            raise SyntheticChainError(
                f"a mean fill of {target:.0%} is out of reach for this shape "
                f"(it would need more than {highest:.0f} logs per block)"
            )
        length *= 2
