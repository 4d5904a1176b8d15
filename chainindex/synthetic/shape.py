"""The shape of a synthetic chain: every knob of its realism, with mainnet-like defaults.

A :class:`ChainShape` and a seed determine a chain completely. The defaults describe a
recent-mainnet-like chain (saturated blooms); :data:`FILL_PRESETS` names the two ends of the
range the benchmarks use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import orjson

from chainindex.errors import SyntheticChainError
from chainindex.synthetic.events import CLASS_NAMES
from chainindex.synthetic.sampling import zipf_exponent_for

__all__ = [
    "DEFAULT_MIX",
    "FILL_PRESETS",
    "MAX_FILL",
    "TOP_FRACTION",
    "ChainShape",
    "parse_fill",
    "parse_mix",
]

FILL_PRESETS: dict[str, float] = {"sparse": 0.05, "saturated": 0.50}
"""Named bloom fills: early-chain-like (5% of the 2048 bits set per block on average) and
recent-mainnet-like (50%)."""

TOP_FRACTION = 0.01
"""The "top 1%" of contracts whose share of logs ``contract_top_share`` sets."""

MAX_FILL = 0.9
"""Highest mean fill accepted (beyond it a block needs thousands of distinct values)."""

DEFAULT_MIX: tuple[tuple[str, float], ...] = (
    ("erc20", 0.75),
    ("weth", 0.06),
    ("uniswap-pair", 0.10),
    ("erc721", 0.03),
    ("ens-registrar", 0.02),
    ("ens-resolver", 0.02),
    ("erc1155", 0.02),
)
"""Share of logs per contract class (see :data:`~chainindex.synthetic.events.CLASSES`)."""


@dataclass(frozen=True, slots=True)
class ChainShape:
    """Parameters of a synthetic chain; validated on construction.

    ``fill`` or ``logs_per_block`` sets the density: a target mean fill is turned into a mean
    log count by :func:`chainindex.synthetic.calibrate.logs_for_fill`; a ``logs_per_block``
    given replaces the fill (which then reads None).
    """

    fill: float | None = FILL_PRESETS["saturated"]
    """Target mean fraction of the 2048 bloom bits set per block (0 < fill <= 0.9)."""
    logs_per_block: float | None = None
    """Mean logs per block, instead of a target fill (replaces ``fill`` when given)."""
    logs_per_block_cv: float = 0.6
    """Coefficient of variation of the per-block log count (gamma-mixed Poisson)."""
    contracts: int = 20_000
    """Number of contracts that emit logs."""
    contract_top_share: float = 0.96
    """Share of all logs emitted by the top 1% of contracts (sets the Zipf exponent)."""
    contract_zipf_offset: float = 5.0
    """Zipf–Mandelbrot offset of contract popularity: flattens the head."""
    holders: int = 300_000
    """Number of accounts that appear in topics (token holders, owners, routers)."""
    holder_zipf: float = 1.0
    """Zipf exponent of holder popularity."""
    holder_zipf_offset: float = 2.0
    """Zipf–Mandelbrot offset of holder popularity."""
    word_zipf: float = 1.0
    """Zipf exponent of word popularity in names and texts."""
    mix: tuple[tuple[str, float], ...] = DEFAULT_MIX
    """Share of logs per contract class, as ``(class name, weight)`` pairs."""
    logs_per_transaction: float = 2.5
    """Mean number of logs of a transaction that emits any."""
    plain_transaction_share: float = 0.35
    """Share of transactions that emit no log (plain transfers, failed calls)."""
    reverted_share: float = 0.05
    """Share of the log-less transactions that reverted (status 0)."""
    block_time: int = 12
    """Seconds between slots."""
    missed_slot_rate: float = 0.01
    """Fraction of slots without a block (every ``1/rate``-th block is one slot late)."""
    genesis_time: int = 1_700_000_000
    """Timestamp of block 0."""
    gas_limit: int = 45_000_000
    """Block gas limit."""
    fee_recipients: int = 40
    """Number of distinct block producers (``miner``), Zipf-distributed."""
    _fingerprint: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.logs_per_block is not None:
            object.__setattr__(self, "fill", None)
        elif self.fill is None:
            raise SyntheticChainError("give a fill or a number of logs per block")
        if self.fill is not None and not 0.0 < self.fill <= MAX_FILL:
            raise SyntheticChainError(f"fill must lie in (0, {MAX_FILL}], got {self.fill}")
        if self.logs_per_block is not None and not 0.0 <= self.logs_per_block <= 100_000:
            raise SyntheticChainError(
                f"logs per block must lie in [0, 100000], got {self.logs_per_block}"
            )
        _positive_int("contracts", self.contracts, minimum=2)
        _positive_int("holders", self.holders)
        _positive_int("fee_recipients", self.fee_recipients)
        _positive_int("block_time", self.block_time)
        _positive_int("gas_limit", self.gas_limit, minimum=1_000_000)
        if self.genesis_time < 0 or self.genesis_time >= 2**40:
            raise SyntheticChainError(f"genesis time out of range: {self.genesis_time}")
        for name in ("logs_per_block_cv", "contract_zipf_offset", "holder_zipf_offset"):
            _in_range(name, getattr(self, name), 0.0, 100.0)
        for name in ("holder_zipf", "word_zipf"):
            _in_range(name, getattr(self, name), 0.0, 10.0)
        _in_range("logs_per_transaction", self.logs_per_transaction, 1.0, 1000.0)
        for name in ("plain_transaction_share", "reverted_share", "missed_slot_rate"):
            _in_range(name, getattr(self, name), 0.0, 0.99)
        if not 0.0 < self.contract_top_share < 1.0:
            raise SyntheticChainError(
                f"contract_top_share must lie in (0, 1), got {self.contract_top_share}"
            )
        object.__setattr__(self, "mix", _normalised_mix(self.mix))
        zipf_exponent_for(  # raises when the share cannot be reached
            self.contracts, TOP_FRACTION, self.contract_top_share, self.contract_zipf_offset
        )
        public = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        object.__setattr__(self, "_fingerprint", orjson.dumps(public, option=orjson.OPT_SORT_KEYS))

    @property
    def fingerprint(self) -> bytes:
        """A canonical encoding of every parameter: part of the preimage of every hash."""
        return self._fingerprint

    def class_shares(self) -> list[float]:
        """The mix as one share per class id (classes absent from the mix get 0)."""
        shares = dict(self.mix)
        return [shares.get(name, 0.0) for name in CLASS_NAMES]


def _positive_int(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 2**31:
        raise SyntheticChainError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _in_range(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise SyntheticChainError(f"{name} must lie in [{low}, {high}], got {value!r}")


def _normalised_mix(mix: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    weights: dict[str, float] = {}
    for name, weight in mix:
        if name not in CLASS_NAMES:
            raise SyntheticChainError(
                f"unknown contract class {name!r} in the mix (known: {', '.join(CLASS_NAMES)})"
            )
        if name in weights:
            raise SyntheticChainError(f"contract class {name!r} given twice in the mix")
        if not (math.isfinite(weight) and weight >= 0):
            raise SyntheticChainError(f"weight of {name!r} must be >= 0, got {weight}")
        weights[name] = float(weight)
    total = sum(weights.values())
    if total <= 0:
        raise SyntheticChainError("the mix needs at least one class with a positive weight")
    return tuple((name, weights[name] / total) for name in CLASS_NAMES if name in weights)


def parse_fill(text: str) -> float:
    """``sparse``, ``saturated`` or a fraction such as ``0.3`` (or ``30%``)."""
    key = text.strip().lower()
    if key in FILL_PRESETS:
        return FILL_PRESETS[key]
    try:
        value = float(key[:-1]) / 100 if key.endswith("%") else float(key)
    except ValueError:
        raise SyntheticChainError(
            f"fill must be sparse, saturated or a fraction in (0, {MAX_FILL}], got {text!r}"
        ) from None
    if not 0.0 < value <= MAX_FILL:
        raise SyntheticChainError(f"fill must lie in (0, {MAX_FILL}], got {text!r}")
    return value


def parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    """``erc20=0.8,weth=0.05,...``: weights per contract class (normalised later)."""
    pairs: list[tuple[str, float]] = []
    for item in text.split(","):
        name, sep, weight = item.partition("=")
        try:
            if not sep:
                raise ValueError
            pairs.append((name.strip(), float(weight)))
        except ValueError:
            raise SyntheticChainError(
                f"mix must look like erc20=0.8,weth=0.05 (classes: {', '.join(CLASS_NAMES)}); "
                f"got {item!r}"
            ) from None
    return _normalised_mix(tuple(pairs))
