"""Zipf-shaped popularity and O(1) sampling from it.

Who emits a log, who appears in its topics and which words make up a name all follow a
Zipf–Mandelbrot law: the item of rank ``r`` (1-based) has weight ``(r + offset) ** -exponent``.
The offset flattens the head (the most popular contract does not take half of everything) while
the exponent keeps the long tail. Draws use Walker's alias method, so a batch of draws costs two
array gathers and a comparison per draw, whatever the number of items.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from chainindex.errors import SyntheticChainError

__all__ = [
    "AliasTable",
    "solve_zipf_exponent",
    "top_share",
    "zipf_exponent_for",
    "zipf_table",
    "zipf_weights",
]


def zipf_weights(n: int, exponent: float, offset: float = 0.0) -> npt.NDArray[np.float64]:
    """Normalised weights of ranks 1..n under ``(r + offset) ** -exponent``."""
    ranks = np.arange(1, n + 1, dtype=np.float64)
    weights: npt.NDArray[np.float64] = np.power(ranks + offset, -exponent)
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


def top_share(n: int, exponent: float, offset: float, fraction: float) -> float:
    """Share of the total weight held by the top ``fraction`` of the n ranks (at least one)."""
    top = max(1, int(n * fraction))
    return float(zipf_weights(n, exponent, offset)[:top].sum())


def solve_zipf_exponent(n: int, fraction: float, share: float, offset: float) -> float:
    """The exponent for which the top ``fraction`` of n ranks holds ``share`` of the weight.

    The share grows with the exponent, so a bisection finds it. Raises
    :class:`SyntheticChainError` when no exponent in (0, 50] can reach the share (too few
    items for the top fraction to matter, or a share at or below the uniform one).
    """
    top = max(1, int(n * fraction))
    if top >= n:
        raise SyntheticChainError(f"with {n} contracts the top {fraction:.0%} is all of them")
    uniform = top / n
    if not uniform < share < 1.0:
        raise SyntheticChainError(
            f"a top-{fraction:.0%} share of {share} is not reachable with {n} contracts "
            f"(it must lie between {uniform:.3g} and 1)"
        )
    low, high = 0.0, 50.0
    if top_share(n, high, offset, fraction) < share:
        raise SyntheticChainError(
            f"a top-{fraction:.0%} share of {share} needs too steep a law with offset {offset}"
        )
    for _ in range(60):
        middle = (low + high) / 2
        if top_share(n, middle, offset, fraction) < share:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True, slots=True, eq=False)
class AliasTable:
    """Walker's alias table over ``n`` items: draw item ``k`` with probability ``p[k]``.

    A draw takes one uniform ``x`` in [0, n): column ``k = floor(x)`` is kept when the
    fractional part is below ``prob[k]``, otherwise it is replaced by ``alias[k]``.
    """

    prob: npt.NDArray[np.float64]
    """Probability of keeping each column."""
    alias: npt.NDArray[np.int32]
    """The item a column falls back to."""

    @classmethod
    def build(cls, weights: npt.NDArray[np.float64]) -> AliasTable:
        """Vose's construction, O(n)."""
        n = len(weights)
        if n == 0 or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise SyntheticChainError(
                "an alias table needs non-negative weights with a positive sum"
            )
        scaled = (weights / weights.sum() * n).tolist()
        prob = [1.0] * n
        alias = list(range(n))
        small = [i for i, q in enumerate(scaled) if q < 1.0]
        large = [i for i, q in enumerate(scaled) if q >= 1.0]
        while small and large:
            s = small.pop()
            g = large[-1]
            prob[s] = scaled[s]
            alias[s] = g
            scaled[g] += scaled[s] - 1.0
            if scaled[g] < 1.0:
                large.pop()
                small.append(g)
        # Leftovers (rounding) keep their own column with certainty: prob stays 1.0.
        return cls(np.array(prob, dtype=np.float64), np.array(alias, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.prob)

    def sample(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.int32]:
        """``size`` independent draws (0-based item indexes)."""
        n = len(self.prob)
        x = rng.random(size) * n
        # (1 - 2**-53) * n can round up to n: clamp into the last column.
        column = np.minimum(x.astype(np.int32), n - 1)
        keep = (x - column) < self.prob[column]
        return np.where(keep, column, self.alias[column])


@lru_cache(maxsize=64)
def zipf_exponent_for(n: int, fraction: float, share: float, offset: float) -> float:
    """:func:`solve_zipf_exponent`, cached (shapes are validated and used many times)."""
    return solve_zipf_exponent(n, fraction, share, offset)


@lru_cache(maxsize=16)
def zipf_table(n: int, exponent: float, offset: float) -> AliasTable:
    """The alias table of a Zipf–Mandelbrot law over n ranks (cached: it depends on no seed)."""
    return AliasTable.build(zipf_weights(n, exponent, offset))
