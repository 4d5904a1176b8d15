"""The structure of a batch of blocks: log and transaction counts, gas, logs, blooms.

Blocks are planned in batches of consecutive heights aligned on multiples of the batch size,
each from its own random stream named by (chain key, 1, batch index). Everything that enters a
header is planned here, so a headers-only chain has exactly the headers (and hashes) of the full
chain with the same seed; what only the receipts show (amounts, senders, texts) is drawn later
from a second stream (:mod:`~chainindex.synthetic.payload`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chainindex.synthetic.logs import LogBits, LogDraws, draw_logs, value_bits
from chainindex.synthetic.population import Population, rng_for
from chainindex.synthetic.shape import ChainShape

__all__ = [
    "BatchPlan",
    "batch_size_for",
    "gamma_shape",
    "log_cap",
    "plan_batch",
    "receipt_blooms",
]

BLOOM_BITS = 2048
"""Bits of a logs bloom."""
LOGS_PER_BATCH = 8192
"""Batches are sized to hold about this many logs (memory and vectorisation both stay sane)."""


def batch_size_for(mean_logs: float) -> int:
    """Blocks per batch for a mean log count: a power of two in 16..4096."""
    wanted = LOGS_PER_BATCH / max(mean_logs, 1.0)
    return int(min(4096, max(16, 2 ** round(math.log2(wanted)))))


MIN_CV = 1e-3
"""Below this coefficient of variation, log counts are plain Poisson."""


def gamma_shape(cv: float) -> float | None:
    """Shape of the gamma that mixes the Poisson log counts (None: no mixing)."""
    return 1.0 / (cv * cv) if cv >= MIN_CV else None


def log_cap(mean_logs: float, cv: float) -> int:
    """Most logs a block may hold: the gamma tail is cut here (calibration accounts for it)."""
    return int(4 * mean_logs * (1 + cv)) + 32


@dataclass(slots=True, eq=False)
class BatchPlan:
    """Blocks ``first .. first + count - 1``, planned."""

    first: int
    """Height of the first block of the batch."""
    log_start: npt.NDArray[np.int64]
    """``(count + 1,)``: block ``i``'s logs are rows ``log_start[i]:log_start[i + 1]``."""
    tx_start: npt.NDArray[np.int64]
    """``(count + 1,)``: block ``i``'s transactions are ``tx_start[i]:tx_start[i + 1]``."""
    tx_logs: npt.NDArray[np.int64]
    """Logs of each transaction (0 for a plain one)."""
    tx_gas_end: npt.NDArray[np.int64]
    """``(txs + 1,)`` running gas total over the batch; a transaction's gas is the difference."""
    tx_bytes: npt.NDArray[np.int64]
    """Encoded size of each block's transactions (for ``size``)."""
    gas_used: npt.NDArray[np.int64]
    """Gas used by each block."""
    base_fee: npt.NDArray[np.int64]
    """Base fee of each block, wei."""
    miner: npt.NDArray[np.int32]
    """Fee recipient of each block."""
    logs: LogDraws
    """All logs of the batch, block after block."""
    bits: LogBits
    """Bloom bits of every value of every log."""
    blooms: npt.NDArray[np.uint8]
    """``(count, 256)`` block blooms."""

    @property
    def count(self) -> int:
        """Number of blocks in the batch."""
        return len(self.log_start) - 1


def plan_batch(
    population: Population,
    shape: ChainShape,
    key: bytes,
    batch: int,
    size: int,
    mean_logs: float,
) -> BatchPlan:
    """Plan blocks ``batch * size .. batch * size + size - 1``."""
    rng = rng_for(key, 1, batch)
    first = batch * size
    log_counts = _log_counts(rng, size, mean_logs, shape.logs_per_block_cv)
    if first == 0:
        log_counts[0] = 0  # genesis
    tx_logs, tx_counts = _transactions(rng, log_counts, shape)
    tx_start = np.concatenate(([0], np.cumsum(tx_counts)))
    txs = int(tx_start[-1])
    is_log_tx = tx_logs > 0
    per_log = rng.integers(6_000, 20_000, txs)
    extra = rng.integers(0, 40_000, txs) * (is_log_tx | (rng.random(txs) < 0.3))
    tx_gas = 21_000 + tx_logs * per_log + extra
    tx_gas_end = np.concatenate(([0], np.cumsum(tx_gas)))
    gas_used = tx_gas_end[tx_start[1:]] - tx_gas_end[tx_start[:-1]]
    tx_size = 110 + is_log_tx * (40 + rng.integers(0, 400, txs))
    size_end = np.concatenate(([0], np.cumsum(tx_size)))
    tx_bytes = size_end[tx_start[1:]] - size_end[tx_start[:-1]]
    base_fee = (2e10 * np.exp(0.4 * rng.standard_normal(size))).astype(np.int64)
    miner = population.fee_table.sample(rng, size)
    logs = draw_logs(population, rng, int(log_counts.sum()))
    bits = value_bits(population, logs)
    log_start = np.concatenate(([0], np.cumsum(log_counts)))
    block_of_log = np.repeat(np.arange(size), log_counts)
    blooms = _blooms(block_of_log[bits.log], bits.bits, size)
    return BatchPlan(
        first,
        log_start,
        tx_start,
        tx_logs,
        tx_gas_end,
        tx_bytes,
        gas_used,
        base_fee,
        miner,
        logs,
        bits,
        blooms,
    )


def _log_counts(
    rng: np.random.Generator, size: int, mean_logs: float, cv: float
) -> npt.NDArray[np.int64]:
    """Gamma-mixed Poisson log counts (mean ``mean_logs``), cut at :func:`log_cap`."""
    shape = gamma_shape(cv)
    if shape is not None:
        rates = rng.gamma(shape, mean_logs / shape, size)
    else:
        rates = np.full(size, mean_logs)
    counts = rng.poisson(rates).astype(np.int64)
    return np.minimum(counts, log_cap(mean_logs, cv))


def _transactions(
    rng: np.random.Generator, log_counts: npt.NDArray[np.int64], shape: ChainShape
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per transaction its log count (in block order), and per block its transaction count.

    A block with L > 0 logs has ``1 + Binomial(L - 1, 1 / logs_per_transaction)`` transactions
    with logs (each gets one log, the rest are spread uniformly) and a Poisson number of plain
    ones, interleaved at random.
    """
    size = len(log_counts)
    has_logs = log_counts > 0
    log_txs = np.where(
        has_logs,
        1 + rng.binomial(np.maximum(log_counts - 1, 0), 1.0 / shape.logs_per_transaction),
        0,
    )
    share = shape.plain_transaction_share
    plain = rng.poisson(log_txs * (share / (1.0 - share)))
    tx_counts = log_txs + plain
    tx_start = np.concatenate(([0], np.cumsum(tx_counts)))
    block_of_tx = np.repeat(np.arange(size), tx_counts)
    # A random order within each block; the first log_txs of it carry logs.
    order = np.argsort(block_of_tx + rng.random(len(block_of_tx)), kind="stable")
    rank = np.arange(len(block_of_tx)) - tx_start[block_of_tx]
    carries = np.zeros(len(block_of_tx), dtype=np.bool_)
    carries[order] = rank < log_txs[block_of_tx]
    # One log each, then the remaining logs of the block spread over its log-bearing ones.
    spare = log_counts - log_txs
    log_tx_start = np.concatenate(([0], np.cumsum(log_txs)))
    block_of_spare = np.repeat(np.arange(size), spare)
    pick = (rng.random(len(block_of_spare)) * log_txs[block_of_spare]).astype(np.int64)
    pick = np.minimum(pick, log_txs[block_of_spare] - 1)
    per_log_tx = 1 + np.bincount(
        log_tx_start[block_of_spare] + pick, minlength=int(log_tx_start[-1])
    )
    tx_logs = np.zeros(len(block_of_tx), dtype=np.int64)
    tx_logs[carries] = per_log_tx
    return tx_logs, tx_counts


def _blooms(
    rows: npt.NDArray[np.int64], bits: npt.NDArray[np.int16], count: int
) -> npt.NDArray[np.uint8]:
    """``(count, 256)`` blooms: bloom ``rows[i]`` gets bit ``bits[i]``.

    Bloom bit ``b`` is bit ``b`` of the bloom read as a big-endian integer, i.e. element
    ``2047 - b`` of the row unpacked most significant bit first.
    """
    flat = np.zeros(count * BLOOM_BITS, dtype=np.bool_)
    flat[rows * BLOOM_BITS + (BLOOM_BITS - 1) - bits] = True
    return np.packbits(flat.reshape(count, BLOOM_BITS), axis=1)


def receipt_blooms(plan: BatchPlan) -> npt.NDArray[np.uint8]:
    """``(transactions, 256)``: the bloom of each transaction's receipt."""
    txs = len(plan.tx_logs)
    tx_of_log = np.repeat(np.arange(txs), plan.tx_logs)
    return _blooms(tx_of_log[plan.bits.log], plan.bits.bits, txs)
