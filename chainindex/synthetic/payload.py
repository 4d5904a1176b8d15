"""What only the receipts show: amounts, senders, texts, receipt blooms.

Drawn per batch from the stream (chain key, 2, batch index), after the batch's structure is
planned, and never consulted by the headers-only mode. Everything is turned into the hex
strings the JSON needs here, in bulk, so that :mod:`~chainindex.synthetic.receipts` only
assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from chainindex.synthetic.events import EVENTS, Ev
from chainindex.synthetic.logs import SLOT_HOLDER, TOKEN_IDS, TOPIC_SOURCES
from chainindex.synthetic.plan import BatchPlan, receipt_blooms
from chainindex.synthetic.population import Population, hex_rows, rng_for
from chainindex.synthetic.shape import ChainShape
from chainindex.synthetic.text import (
    TEXT_KEYS,
    encode_name_registered,
    encode_text_changed,
    encode_uri,
    text_value,
    token_uri,
)

__all__ = ["Payload", "draw_payload", "pick"]

_WORDS_PER_EVENT = np.array([e.words for e in EVENTS], dtype=np.int64)
_YEAR = 365 * 24 * 3600
TEXT_WORDS = 12
"""Words drawn for each text value (a description uses up to all of them)."""


@dataclass(slots=True, eq=False)
class Payload:
    """A batch's receipt-only content, already as hex strings where the JSON needs them."""

    addresses: list[str]
    """Per log: the emitting contract."""
    topics: list[list[str]]
    """Per log: its topics."""
    data: list[str]
    """Per log: its ABI-encoded data."""
    log_tx: list[int]
    """Per log: the position of its transaction in its block."""
    tx_start: list[int]
    """Per block, then one more: its first transaction (as :attr:`BatchPlan.tx_start`)."""
    log_start: list[int]
    """Per block, then one more: its first log (as :attr:`BatchPlan.log_start`)."""
    tx_log_end: list[int]
    """Per transaction: one past its last log, counted from the first log of its block."""
    tx_cumulative: list[str]
    """Per transaction: ``cumulativeGasUsed``."""
    tx_gas: list[str]
    """Per transaction: ``gasUsed``."""
    tx_from: list[str]
    """Per transaction: sender."""
    tx_to: list[str]
    """Per transaction: recipient (the contract of its first log when it has logs)."""
    tx_price: list[str]
    """Per transaction: effective gas price."""
    tx_status: list[str]
    """Per transaction: ``0x1``, or ``0x0`` when it reverted."""
    tx_type: list[str]
    """Per transaction: ``0x2`` (EIP-1559) or ``0x0`` (legacy)."""
    tx_bloom: list[str]
    """Per transaction: its receipt's ``logsBloom``."""


def draw_payload(
    population: Population,
    shape: ChainShape,
    key: bytes,
    batch: int,
    plan: BatchPlan,
    timestamps: list[int],
) -> Payload:
    """Draw the receipt-only content of a planned batch (``timestamps``: one per block)."""
    rng = rng_for(key, 2, batch)
    logs = plan.logs
    data = _static_data(rng, logs.event)
    _string_data(population, rng, plan, timestamps, data)
    contracts = population.contracts
    addresses = contracts.hex_many(logs.contract)
    topics = _topics(population, plan)

    txs = len(plan.tx_logs)
    holders = population.holders
    people = population.holder_table.sample(rng, 2 * txs)
    tx_from = holders.hex_many(people[:txs], bare=True)
    # The recipient of a transaction with logs is the contract of its first log.
    first_log = np.minimum(np.cumsum(plan.tx_logs) - plan.tx_logs, max(len(logs) - 1, 0))
    first_contract = logs.contract[first_log] if len(logs) else np.zeros(txs, np.int32)
    tx_to = hex_rows(
        np.where(
            (plan.tx_logs > 0)[:, None],
            contracts.rows[first_contract],
            holders.rows[people[txs:]],
        )
    )
    block_of_tx = np.repeat(np.arange(plan.count), np.diff(plan.tx_start))
    price = plan.base_fee[block_of_tx] + rng.integers(10_000_000, 3_000_000_000, txs)
    reverted = (plan.tx_logs == 0) & (rng.random(txs) < shape.reverted_share)
    legacy = rng.random(txs) < 0.15
    blooms = receipt_blooms(plan).tobytes().hex()
    # Positions within the block, and gas as the receipts show it.
    block_of_log = np.repeat(np.arange(plan.count), np.diff(plan.log_start))
    tx_of_log = np.repeat(np.arange(txs), plan.tx_logs)
    gas_end = plan.tx_gas_end
    cumulative = gas_end[1:] - gas_end[plan.tx_start[block_of_tx]]
    return Payload(
        addresses,
        topics,
        data,
        (tx_of_log - plan.tx_start[block_of_log]).tolist(),
        plan.tx_start.tolist(),
        plan.log_start.tolist(),
        (np.cumsum(plan.tx_logs) - plan.log_start[block_of_tx]).tolist(),
        [hex(g) for g in cumulative.tolist()],
        [hex(g) for g in np.diff(gas_end).tolist()],
        tx_from,
        tx_to,
        [hex(p) for p in price.tolist()],
        ["0x0" if r else "0x1" for r in reverted.tolist()],
        ["0x0" if old else "0x2" for old in legacy.tolist()],
        ["0x" + blooms[512 * i : 512 * i + 512] for i in range(txs)],
    )


def pick(table: list[str], indexes: list[int]) -> list[str]:
    """``[table[i] for i in indexes]``, at C speed (``operator.itemgetter``)."""
    if len(indexes) > 1:
        return list(itemgetter(*indexes)(table))
    return [table[i] for i in indexes]


def _static_data(rng: np.random.Generator, event: npt.NDArray[np.int8]) -> list[str]:
    """Data of the events with static words (amounts), ``"0x"`` for the rest (filled later)."""
    words = _WORDS_PER_EVENT[event]
    start = np.concatenate(([0], np.cumsum(words)))
    total = int(start[-1])
    amounts = (10.0 ** rng.uniform(2.0, 19.2, total)).astype(np.uint64)
    swaps = start[:-1][event == Ev.SWAP]
    forward = rng.random(len(swaps)) < 0.5  # token0 in, token1 out; else the reverse
    for zero in (np.where(forward, swaps + 1, swaps), np.where(forward, swaps + 2, swaps + 3)):
        amounts[zero] = 0
    singles = start[:-1][event == Ev.TRANSFER_SINGLE]
    amounts[singles] = rng.integers(0, TOKEN_IDS, len(singles))
    amounts[singles + 1] = rng.integers(1, 100, len(singles))
    approvals_for_all = start[:-1][event == Ev.APPROVAL_FOR_ALL]
    amounts[approvals_for_all] = rng.random(len(approvals_for_all)) < 0.9  # bool approved
    cells = np.zeros((total, 32), dtype=np.uint8)
    cells[:, 24:] = amounts.astype(">u8").view(np.uint8).reshape(total, 8)
    approvals = start[:-1][event == Ev.APPROVAL]
    cells[approvals[rng.random(len(approvals)) < 0.4]] = 0xFF  # unlimited allowance
    text = cells.tobytes().hex()
    return [
        "0x" + text[64 * s : 64 * e]
        for s, e in zip(start[:-1].tolist(), start[1:].tolist(), strict=False)
    ]


def _string_data(
    population: Population,
    rng: np.random.Generator,
    plan: BatchPlan,
    timestamps: list[int],
    data: list[str],
) -> None:
    """ABI data of the string-bearing logs, written into ``data``."""
    strings = plan.logs.strings
    count = len(strings.positions)
    words = population.word_table.sample(rng, TEXT_WORDS * count).reshape(count, TEXT_WORDS)
    numbers = rng.integers(0, 1_000_000, count)
    costs = rng.integers(2 * 10**15, 2 * 10**16, count)
    premiums = np.where(rng.random(count) < 0.05, rng.integers(10**17, 9 * 10**18, count), 0)
    years = rng.integers(1, 6, count)
    block_of = np.searchsorted(plan.log_start, strings.positions, side="right") - 1
    expires = np.array(timestamps, dtype=np.int64)[block_of] + years * _YEAR
    for position, kind, name, key, token, chosen, number, cost, premium, expiry in zip(
        strings.positions.tolist(),
        plan.logs.event[strings.positions].tolist(),
        strings.names,
        strings.text_keys.tolist(),
        strings.token_ids.tolist(),
        words.tolist(),
        numbers.tolist(),
        costs.tolist(),
        premiums.tolist(),
        expires.tolist(),
        strict=True,
    ):
        if kind == Ev.NAME_REGISTERED:
            encoded = encode_name_registered(name, cost, premium, expiry)
        elif kind == Ev.TEXT_CHANGED:
            encoded = encode_text_changed(TEXT_KEYS[key], text_value(key, name, chosen, number))
        elif kind == Ev.URI:
            encoded = encode_uri(token_uri(token, chosen[0], chosen[1]))
        else:  # ERC-721 Transfer: everything is in the topics
            continue
        data[position] = "0x" + encoded.hex()


def _topics(population: Population, plan: BatchPlan) -> list[list[str]]:
    """Per log, its topics as hex: topic 0, then holders or the string logs' own topics.

    Every topic gets an id: below the holder count a holder, above it a row of the extra
    values (the topic 0s, then the string logs' own topics). The 32-byte values of all logs
    are laid out flat in log order, turned into hex in one pass, and cut per log.
    """
    logs = plan.logs
    count = len(logs)
    holders = population.holders
    column = SLOT_HOLDER[logs.event]
    ids = np.empty((count, 4), dtype=np.int64)
    ids[:, 1:] = np.maximum(logs.holders, 0)[np.arange(count)[:, None], np.maximum(column, 0)]
    present = np.ones((count, 4), dtype=np.bool_)
    present[:, 1:] = TOPIC_SOURCES[logs.event] >= 0
    base = holders.count
    ids[:, 0] = base + logs.event.astype(np.int64)
    extra = [e.topic0 for e in EVENTS]
    for position, own in zip(logs.strings.positions.tolist(), logs.strings.topics, strict=True):
        for slot, topic in enumerate(own):
            if topic is not None:
                ids[position, 1 + slot] = base + len(extra)
                extra.append(topic)
    flat_ids = ids[present]
    values = np.zeros((len(flat_ids), 32), dtype=np.uint8)
    is_holder = flat_ids < base
    values[is_holder, 12:] = holders.rows[flat_ids[is_holder]]
    extra_rows = np.frombuffer(b"".join(extra), dtype=np.uint8).reshape(-1, 32)
    values[~is_holder] = extra_rows[flat_ids[~is_holder] - base]
    flat = hex_rows(values)
    ends = np.cumsum(present.sum(axis=1))
    return [
        flat[s:e] for s, e in zip((ends - present.sum(axis=1)).tolist(), ends.tolist(), strict=True)
    ]
