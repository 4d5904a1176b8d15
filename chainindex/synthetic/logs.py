"""Drawing logs in bulk: who emits them, which event, which topics, and their bloom bits.

Every log of a batch is drawn at once with numpy: its contract (Zipf), its event (from the
contract's class), its holder topics (Zipf). Only the events with other topics (ENS names and
nodes, token ids), a few percent of the logs, are finished one by one in Python. Logs are
independent and identically distributed, which is what lets :mod:`~chainindex.synthetic.calibrate`
predict the bloom fill of a block from its log count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bloombits.bloom import bloom_indexes
from bloombits.keccak import keccak256
from chainindex.synthetic.events import (
    EVENT_RESOLUTION,
    EVENTS,
    SPECIAL_EVENTS,
    Ev,
    TopicSource,
    event_lookup,
    topic_table,
)
from chainindex.synthetic.population import Population, bloom_bits_many
from chainindex.synthetic.text import NAME_STYLES, TEXT_KEY_WEIGHTS, TEXT_KEYS, ens_name, ens_node

__all__ = ["LogBits", "LogDraws", "StringDraws", "draw_logs", "value_bits"]

TOKEN_IDS = 10_000
"""Token ids (ERC-1155 and ERC-721) are drawn from 0..TOKEN_IDS-1."""

NAME_CACHE = 4096
"""ENS names whose topics are kept (popular names recur: their words are Zipf-distributed)."""

_EVENT_LOOKUP = event_lookup()
TOPIC_SOURCES = topic_table()
"""``(events, 3)``: what topics 1..3 of each event hold (:class:`TopicSource`, −1 if absent)."""
SLOT_HOLDER: npt.NDArray[np.int8] = np.where(
    np.isin(TOPIC_SOURCES, [TopicSource.HOLDER_1, TopicSource.HOLDER_2, TopicSource.HOLDER_3]),
    TOPIC_SOURCES,
    -1,
).astype(np.int8)
"""``(events, 3)``: which holder draw (0..2) topic 1..3 of each event holds, −1 for none."""
_HOLDER_USED = np.zeros((len(EVENTS), 3), dtype=np.bool_)
"""``(events, 3)``: whether an event uses holder draw 0, 1, 2."""
for _draw in range(3):
    _HOLDER_USED[:, _draw] = np.any(np.equal(SLOT_HOLDER, _draw), axis=1)
_EVENT_BITS = np.array([bloom_indexes(e.topic0) for e in EVENTS], dtype=np.int16)
_SPECIAL_EVENT_IDS = np.array(sorted(int(e) for e in SPECIAL_EVENTS), dtype=np.int8)
_NAME_STYLE_CUMULATIVE = np.cumsum(NAME_STYLES)
_TEXT_KEY_CUMULATIVE = np.cumsum(TEXT_KEY_WEIGHTS)
TEXT_KEY_HASHES = tuple(keccak256(key.encode()) for key in TEXT_KEYS)
"""Topic of each text record key (a ``string indexed`` argument is hashed)."""


OwnTopics = tuple[bytes | None, bytes | None, bytes | None]
"""Topics 1..3 of a string-bearing log that are not holders (None elsewhere)."""


@dataclass(slots=True, eq=False)
class StringDraws:
    """The logs of a batch with topics of their own (:data:`SPECIAL_EVENTS`): the string-bearing
    ones and ERC-721 transfers, and what decides those topics."""

    positions: npt.NDArray[np.int64]
    """Indexes of those logs in the batch."""
    names: list[str]
    """ENS label of each (``""`` for the others)."""
    text_keys: npt.NDArray[np.int64]
    """Index into ``TEXT_KEYS`` (used by ``TextChanged``)."""
    token_ids: npt.NDArray[np.int64]
    """Token id (used by ``URI`` and ERC-721 ``Transfer``)."""
    topics: list[OwnTopics]
    """Topics 1..3 that are not holders (None where the slot is a holder or absent)."""
    bits: npt.NDArray[np.int16]
    """``(strings, 3, 3)``: bloom bits of those topics (−1 where None)."""


@dataclass(slots=True, eq=False)
class LogDraws:
    """A batch of logs, as arrays (one row per log)."""

    contract: npt.NDArray[np.int32]
    """Index of the emitting contract."""
    event: npt.NDArray[np.int8]
    """Event id (:class:`~chainindex.synthetic.events.Ev`)."""
    holders: npt.NDArray[np.int32]
    """``(n, 3)`` holder draws; −1 where the event has no such holder."""
    strings: StringDraws
    """The logs with topics of their own (string-bearing events, ERC-721 transfers)."""

    def __len__(self) -> int:
        return len(self.contract)


def draw_logs(population: Population, rng: np.random.Generator, count: int) -> LogDraws:
    """Draw ``count`` independent logs."""
    contract = population.contract_table.sample(rng, count)
    cell = (rng.random(count) * EVENT_RESOLUTION).astype(np.int32)
    event = _EVENT_LOOKUP[population.contract_class[contract], cell]
    holders = np.full((count, 3), -1, dtype=np.int32)
    draws = population.holder_table.sample(rng, 2 * count).reshape(count, 2)
    holders[:, :2] = np.where(_HOLDER_USED[event, :2], draws, -1)  # unused draws cleared
    third = np.flatnonzero(_HOLDER_USED[event, 2])
    holders[third, 2] = population.holder_table.sample(rng, len(third))
    return LogDraws(contract, event, holders, _draw_strings(population, rng, event))


def _draw_strings(
    population: Population, rng: np.random.Generator, event: npt.NDArray[np.int8]
) -> StringDraws:
    positions = np.flatnonzero(np.isin(event, _SPECIAL_EVENT_IDS))
    count = len(positions)
    styles = np.searchsorted(_NAME_STYLE_CUMULATIVE, rng.random(count), side="right")
    words = population.word_table.sample(rng, 2 * count).reshape(count, 2)
    numbers = rng.integers(0, 1_000_000, count)
    text_keys = np.searchsorted(_TEXT_KEY_CUMULATIVE, rng.random(count), side="right")
    token_ids = rng.integers(0, TOKEN_IDS, count)
    names: list[str] = []
    topics: list[OwnTopics] = []
    rows: list[int] = []  # (row, slot, value) of every own topic, for one bloom pass
    slots: list[int] = []
    values: list[bytes] = []
    for row, (kind, style, (first, second), number, key, token) in enumerate(
        zip(
            event[positions].tolist(),
            styles.tolist(),
            words.tolist(),
            numbers.tolist(),
            text_keys.tolist(),
            token_ids.tolist(),
            strict=True,
        )
    ):
        if kind in (_URI, _TRANSFER_721):
            names.append("")
            value = token.to_bytes(32, "big")
            slot = 0 if kind == _URI else 2  # URI(value, id); Transfer(from, to, tokenId)
            topics.append((value, None, None) if slot == 0 else (None, None, value))
            rows.append(row)
            slots.append(slot)
            values.append(value)
            continue
        name = ens_name(style, first, second, number)
        names.append(name)
        if kind == _NAME_REGISTERED:
            own = _name_topics(name, -1)
            rows.append(row)
            slots.append(0)
            values.append(own[0] or b"")
        else:  # TextChanged: node and key
            own = _name_topics(name, key)
            rows += (row, row)
            slots += (0, 1)
            values += (own[0] or b"", own[1] or b"")
        topics.append(own)
    bits = np.full((count, 3, 3), -1, dtype=np.int16)
    if values:
        bits[rows, slots] = bloom_bits_many(values)
    return StringDraws(positions, names, text_keys, token_ids, topics, bits)


_URI = int(Ev.URI)
_TRANSFER_721 = int(Ev.TRANSFER_721)
_NAME_REGISTERED = int(Ev.NAME_REGISTERED)


@lru_cache(maxsize=NAME_CACHE)
def _name_topics(name: str, key: int) -> OwnTopics:
    """Topics an ENS event's name decides: the label (``NameRegistered``, ``key`` −1), or the
    node and the text key's hash (``TextChanged``). Cached by name."""
    label = keccak256(name.encode())
    if key < 0:
        return (label, None, None)
    return (ens_node(label), TEXT_KEY_HASHES[key], None)


@dataclass(slots=True, eq=False)
class LogBits:
    """The bloom bits of every value (address, topics) of a batch's logs, flat."""

    bits: npt.NDArray[np.int16]
    """Bloom bits, three per value."""
    log: npt.NDArray[np.int64]
    """The log (row of the batch) each bit belongs to."""


def value_bits(population: Population, logs: LogDraws) -> LogBits:
    """The bloom bits of each log's address and topics (the order of values is irrelevant to
    a bloom: addresses, then topic 0s, then holder topics, then the string logs' topics)."""
    count = len(logs)
    population.contracts.ensure(logs.contract)
    holders = population.holders
    present = logs.holders >= 0
    holder_rows, _ = np.nonzero(present)
    drawn = logs.holders[present]
    holders.ensure(drawn)
    strings = logs.strings
    string_present = strings.bits[:, :, 0] >= 0
    string_rows, _ = np.nonzero(string_present)
    per_log = np.arange(count, dtype=np.int64)
    bits = np.concatenate(
        (
            population.contracts.bits[logs.contract].ravel(),
            _EVENT_BITS[logs.event].ravel(),
            holders.bits[drawn].ravel(),
            strings.bits[string_present].ravel(),
        )
    )
    owner = np.concatenate((per_log, per_log, holder_rows, strings.positions[string_rows]))
    return LogBits(bits, np.repeat(owner, 3))
