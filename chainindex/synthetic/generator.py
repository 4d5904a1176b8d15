"""The chain generator: planned batches turned into archive records, one block at a time.

:class:`ChainGenerator` yields block records in height order, keeping only the batch being
emitted (a few thousand logs) in memory, whatever the length of the chain, and none once a
batch's last block is out. It remembers the
hash of the last block it produced, so successive calls continue the same chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt
import orjson

from bloombits.keccak import keccak256
from chainindex.errors import SyntheticChainError
from chainindex.synthetic.calibrate import logs_for_fill
from chainindex.synthetic.events import EVENTS
from chainindex.synthetic.header import (
    EMPTY_TRIE_ROOT,
    HeaderFields,
    derived_hash,
    transaction_hashes,
)
from chainindex.synthetic.payload import Payload, draw_payload
from chainindex.synthetic.plan import BLOOM_BITS, BatchPlan, batch_size_for, plan_batch
from chainindex.synthetic.population import Population
from chainindex.synthetic.receipts import block_receipts, receipts_root
from chainindex.synthetic.shape import ChainShape

__all__ = [
    "DEFAULT_CHAIN_ID",
    "GENERATOR_VERSION",
    "ChainGenerator",
    "GeneratedRecord",
    "GenerationStats",
    "chain_key",
]

GENERATOR_VERSION = 2
"""Bumped whenever the same seed and shape would give a different chain. Version 2: the real
``receiptsRoot`` (and so other block hashes); the content (contracts, logs, timestamps) is
version 1's, drawn from the same key (:data:`KEY_LABEL`)."""

KEY_LABEL = b"logfilter-synthetic/1"
"""The label of :func:`chain_key`'s preimage: the root of every random stream, kept at version
1's so that the same seed and shape still give the same contracts and logs."""

MAX_SEED = 2**64 - 1
MAX_FIRST_BLOCK = 2**48
_LIST_OVERHEAD = 8  # RLP list prefixes of the block, its transactions and (empty) uncles


DEFAULT_CHAIN_ID: Final = 1337
"""Chain id of generated chains unless told otherwise: that of geth's ``--dev`` chain (and
Ganache's), a local development chain (anvil and Hardhat use 31337)."""


class GeneratedRecord(TypedDict):
    """One line of a chain archive, as the generator writes it: whole geth objects (every
    header field, not only those :class:`chainindex.source.wire.ArchiveRecord` declares for
    the indexer), typed as plain dicts."""

    chainId: str
    """The chain id, as ``eth_chainId`` answers it (in every record)."""
    block: dict[str, Any]
    """``eth_getBlockByNumber(n, false)``."""
    receipts: NotRequired[list[dict[str, Any]]]
    """``eth_getBlockReceipts(n)``; absent in a headers-only archive."""


def chain_key(shape: ChainShape, seed: int) -> bytes:
    """keccak256(:data:`KEY_LABEL` ‖ shape fingerprint ‖ seed as 8 bytes BE)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SyntheticChainError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return keccak256(KEY_LABEL + shape.fingerprint + seed.to_bytes(8, "big"))


@dataclass(slots=True)
class GenerationStats:
    """Running totals of what a generator produced."""

    blocks: int = 0
    """Blocks produced."""
    transactions: int = 0
    """Transactions in them (counted in headers-only mode too, where none is written)."""
    logs: int = 0
    """Logs in them."""
    bits_set: int = 0
    """Sum over blocks of the 1 bits of the block bloom."""
    contract_logs: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    """Logs per contract (by popularity rank)."""
    event_logs: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(len(EVENTS), np.int64)
    )
    """Logs per event id."""

    @property
    def fill(self) -> float:
        """Mean fraction of bloom bits set per block."""
        return self.bits_set / (BLOOM_BITS * self.blocks) if self.blocks else 0.0

    def top_contract_share(self, fraction: float = 0.01) -> float:
        """Share of logs emitted by the ``fraction`` of contracts that emitted most."""
        if self.logs == 0:
            return 0.0
        top = max(1, int(len(self.contract_logs) * fraction))
        return float(np.sort(self.contract_logs)[::-1][:top].sum() / self.logs)


def _rank(rank: int, count: int) -> int:
    if not 0 <= rank < count:
        raise SyntheticChainError(f"rank must lie in [0, {count}), got {rank}")
    return rank


class ChainGenerator:
    """A deterministic synthetic chain: same shape, seed and first block, same bytes.

    ``first_block`` > 0 starts the chain above genesis, with a synthetic parent hash; the
    contents of every block depend only on (shape, seed, height), so such a chain holds the
    same logs as the one from genesis (its hashes differ, as they chain from another parent).
    ``headers_only`` yields ``{"block": ...}`` records without receipts whose headers (and
    hashes) equal those of the full chain; their ``transactions`` list is empty.

    :meth:`contract`, :meth:`contract_share` and :meth:`holder` name the actors by popularity,
    so that a benchmark can query a common or a rare address knowing what to expect.
    """

    def __init__(
        self,
        shape: ChainShape | None = None,
        seed: int = 0,
        *,
        first_block: int = 0,
        headers_only: bool = False,
        chain_id: int = DEFAULT_CHAIN_ID,
    ) -> None:
        self.shape = shape if shape is not None else ChainShape()
        """The chain's parameters."""
        self.seed = seed
        """The seed."""
        self.key = chain_key(self.shape, seed)
        """Root of every random stream and synthetic hash of this chain."""
        if isinstance(first_block, bool) or not 0 <= first_block <= MAX_FIRST_BLOCK:
            raise SyntheticChainError(f"first block must lie in [0, 2**48], got {first_block}")
        self.headers_only = headers_only
        """Whether records carry receipts."""
        if isinstance(chain_id, bool) or not 0 < chain_id < 2**64:
            raise SyntheticChainError(f"chain id must lie in [1, 2**64), got {chain_id}")
        self.chain_id = chain_id
        """The chain id every record names."""
        self._chain_id_hex = hex(chain_id)
        self.mean_logs = (
            self.shape.logs_per_block
            if self.shape.logs_per_block is not None
            else logs_for_fill(self.shape)
        )
        """Mean logs per block (calibrated from the target fill unless given)."""
        self.batch_size = batch_size_for(self.mean_logs)
        """Blocks planned together."""
        self.population = Population(self.shape, self.key)
        """Contracts, holders and block producers."""
        self.next_block = first_block
        """Height of the next block to produce."""
        self.parent_hash = (
            b"\x00" * 32 if first_block == 0 else derived_hash(self.key, b"parent", first_block)
        )
        """Hash of the block before ``next_block``."""
        self.stats = GenerationStats(contract_logs=np.zeros(self.shape.contracts, np.int64))
        """What has been produced so far."""
        self._batch = -1
        self._plan: BatchPlan | None = None
        self._payload: Payload | None = None
        self._timestamps: list[int] = []
        self._popcounts: list[int] = []

    def contract(self, rank: int) -> bytes:
        """Address of the contract of popularity ``rank`` (0 = emits the most logs)."""
        return self.population.contracts.address(_rank(rank, self.shape.contracts))

    def contract_share(self, rank: int) -> float:
        """Expected share of all logs emitted by the contract of popularity ``rank``."""
        return float(self.population.contract_weights[_rank(rank, self.shape.contracts)])

    def holder(self, rank: int) -> bytes:
        """Address of the holder of popularity ``rank`` (0 = in the most topics)."""
        return self.population.holders.address(_rank(rank, self.shape.holders))

    def timestamp(self, number: int) -> int:
        """Timestamp of block ``number``: one slot per block, every ``1/rate``-th one late."""
        shape = self.shape
        slots = number + int(number * shape.missed_slot_rate)
        return shape.genesis_time + shape.block_time * slots

    def records(self, count: int) -> Iterator[GeneratedRecord]:
        """The next ``count`` blocks, one record at a time (each built when asked for)."""
        if count < 0:
            raise SyntheticChainError(f"block count must be >= 0, got {count}")
        return (self._next_record() for _ in range(count))

    def lines(self, count: int) -> Iterator[bytes]:
        """The next ``count`` blocks as archive lines (compact JSON and a newline)."""
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        for record in self.records(count):
            yield dumps(record, option=option)

    def _load(self, batch: int) -> BatchPlan:
        if batch != self._batch or self._plan is None:
            size = self.batch_size
            plan = plan_batch(self.population, self.shape, self.key, batch, size, self.mean_logs)
            self._timestamps = [self.timestamp(batch * size + i) for i in range(size)]
            self._popcounts = np.bitwise_count(plan.blooms).sum(axis=1).tolist()
            # drawn for headers-only chains too: their receiptsRoot is that of the receipts
            self._payload = draw_payload(
                self.population, self.shape, self.key, batch, plan, self._timestamps
            )
            self._batch, self._plan = batch, plan
        return self._plan

    def _next_record(self) -> GeneratedRecord:
        number = self.next_block
        plan = self._load(number // self.batch_size)
        index = number - plan.first
        key = self.key
        txs = int(plan.tx_start[index + 1] - plan.tx_start[index])
        log_lo, log_hi = int(plan.log_start[index]), int(plan.log_start[index + 1])
        gas_used = int(plan.gas_used[index])
        payload = self._payload
        assert payload is not None
        header = HeaderFields(
            parent_hash=self.parent_hash,
            miner=self.population.fee_recipients.address(int(plan.miner[index])),
            state_root=derived_hash(key, b"state", number),
            transactions_root=derived_hash(key, b"transactions", number)
            if txs
            else EMPTY_TRIE_ROOT,
            receipts_root=receipts_root(payload, index),
            logs_bloom=plan.blooms[index].tobytes(),
            number=number,
            gas_limit=max(self.shape.gas_limit, gas_used),
            gas_used=gas_used,
            timestamp=self._timestamps[index],
            mix_hash=derived_hash(key, b"randao", number),
            base_fee=1_000_000_000 if number == 0 else int(plan.base_fee[index]),
        )
        rlp = header.rlp()
        block_hash = keccak256(rlp)
        size = len(rlp) + int(plan.tx_bytes[index]) + _LIST_OVERHEAD
        record: GeneratedRecord
        if self.headers_only:
            record = {"chainId": self._chain_id_hex, "block": header.json(block_hash, size, [])}
        else:
            tx_hashes = transaction_hashes(key, number, txs)
            block = header.json(block_hash, size, tx_hashes)
            receipts = block_receipts(
                payload,
                index,
                block["hash"],
                block["number"],
                block["timestamp"],
                tx_hashes,
            )
            record = {"chainId": self._chain_id_hex, "block": block, "receipts": receipts}
        stats = self.stats
        stats.blocks += 1
        stats.transactions += txs
        stats.logs += log_hi - log_lo
        stats.bits_set += self._popcounts[index]
        if log_hi > log_lo:
            np.add.at(stats.contract_logs, plan.logs.contract[log_lo:log_hi], 1)
            np.add.at(stats.event_logs, plan.logs.event[log_lo:log_hi], 1)
        self.parent_hash = block_hash
        self.next_block = number + 1
        if index == plan.count - 1:
            self._release()
        return record

    def _release(self) -> None:
        """Forget the batch just finished: it is needed again only by a seek back into it
        (which plans it again, identically). A saturated batch's plan and payload hold about
        20 MiB; kept, they stayed in memory between a source's runs, and the headers-only
        generator's for the whole of a full sync."""
        self._batch, self._plan, self._payload = -1, None, None
        self._timestamps, self._popcounts = [], []
