"""Drawing logs in bulk: who emits them, which event, which topics, and their bloom bits.

Every log of a batch is drawn at once with numpy: its contract (Zipf), its event (from the
contract's class), its holder topics (Zipf). Only the string-bearing events, a few percent of
the logs, are finished one by one in Python (their names decide their topics). Logs are
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
    EVENTS,
    STRING_EVENTS,
    Ev,
    TopicSource,
    event_tables,
    topic_table,
)
from chainindex.synthetic.population import Population, bloom_bits_many
from chainindex.synthetic.text import NAME_STYLES, TEXT_KEY_WEIGHTS, TEXT_KEYS, ens_name, ens_node

__all__ = ["LogDraws", "StringDraws", "draw_logs", "value_bits"]

VALUES_PER_LOG = 5
"""Bloom values of a log at most: its address and up to four topics."""

TOKEN_IDS = 10_000
"""ERC-1155 token ids are drawn from 0..TOKEN_IDS-1."""

NAME_CACHE = 4096
"""ENS names whose topics are kept (popular names recur: their words are Zipf-distributed)."""

_EVENT_CUMULATIVE, _EVENT_IDS = event_tables()
TOPIC_SOURCES = topic_table()
"""``(events, 3)``: what topics 1..3 of each event hold (:class:`TopicSource`, −1 if absent)."""
SLOT_HOLDER = np.where(
    np.isin(TOPIC_SOURCES, [TopicSource.HOLDER_1, TopicSource.HOLDER_2, TopicSource.HOLDER_3]),
    TOPIC_SOURCES,
    -1,
).astype(np.int8)
"""``(events, 3)``: which holder draw (0..2) topic 1..3 of each event holds, −1 for none."""
_EVENT_BITS = np.array([bloom_indexes(e.topic0) for e in EVENTS], dtype=np.int16)
_STRING_EVENT_IDS = np.array(sorted(int(e) for e in STRING_EVENTS), dtype=np.int8)
_NAME_STYLE_CUMULATIVE = np.cumsum(NAME_STYLES)
_TEXT_KEY_CUMULATIVE = np.cumsum(TEXT_KEY_WEIGHTS)
TEXT_KEY_HASHES = tuple(keccak256(key.encode()) for key in TEXT_KEYS)
"""Topic of each text record key (a ``string indexed`` argument is hashed)."""


@dataclass(slots=True, eq=False)
class StringDraws:
    """The string-bearing logs of a batch and what decides their topics."""

    positions: npt.NDArray[np.int64]
    """Indexes of the string-bearing logs in the batch."""
    names: list[str]
    """ENS label of each (``""`` for ``URI`` logs)."""
    text_keys: npt.NDArray[np.int64]
    """Index into ``TEXT_KEYS`` (used by ``TextChanged``)."""
    token_ids: npt.NDArray[np.int64]
    """ERC-1155 token id (used by ``URI``)."""
    topics: list[tuple[bytes | None, bytes | None, bytes | None]]
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
    """The string-bearing logs."""

    def __len__(self) -> int:
        return len(self.contract)


def draw_logs(population: Population, rng: np.random.Generator, count: int) -> LogDraws:
    """Draw ``count`` independent logs."""
    contract = population.contract_table.sample(rng, count)
    classes = population.contract_class[contract]
    choice = (rng.random(count)[:, None] >= _EVENT_CUMULATIVE[classes]).sum(axis=1)
    event = _EVENT_IDS[classes, choice]
    holders = np.full((count, 3), -1, dtype=np.int32)
    holders[:, :2] = population.holder_table.sample(rng, 2 * count).reshape(count, 2)
    third = np.flatnonzero(event == Ev.TRANSFER_SINGLE)
    holders[third, 2] = population.holder_table.sample(rng, len(third))
    # Holder draws that the event does not use are cleared.
    for slot in (0, 1):
        used = (TOPIC_SOURCES[event] == slot).any(axis=1)
        holders[~used, slot] = -1
    return LogDraws(contract, event, holders, _draw_strings(population, rng, event))


def _draw_strings(
    population: Population, rng: np.random.Generator, event: npt.NDArray[np.int8]
) -> StringDraws:
    positions = np.flatnonzero(np.isin(event, _STRING_EVENT_IDS))
    count = len(positions)
    styles = np.searchsorted(_NAME_STYLE_CUMULATIVE, rng.random(count), side="right")
    words = population.word_table.sample(rng, 2 * count).reshape(count, 2)
    numbers = rng.integers(0, 1_000_000, count)
    text_keys = np.searchsorted(_TEXT_KEY_CUMULATIVE, rng.random(count), side="right")
    token_ids = rng.integers(0, TOKEN_IDS, count)
    names: list[str] = []
    topics: list[tuple[bytes | None, bytes | None, bytes | None]] = []
    bits = np.empty((count, 3, 3), dtype=np.int16)
    for i, (kind, style, (first, second), number, key, token) in enumerate(
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
        if kind == Ev.URI:
            names.append("")
            own, own_bits = _token_topics(token)
        else:
            name = ens_name(style, first, second, number)
            names.append(name)
            own, own_bits = _name_topics(kind, name, key if kind == Ev.TEXT_CHANGED else 0)
        topics.append(own)
        bits[i] = own_bits
    return StringDraws(positions, names, text_keys, token_ids, topics, bits)


_OwnTopics = tuple[tuple[bytes | None, bytes | None, bytes | None], npt.NDArray[np.int16]]


def _own_bits(topics: tuple[bytes | None, bytes | None, bytes | None]) -> npt.NDArray[np.int16]:
    bits = np.full((3, 3), -1, dtype=np.int16)
    slots = [slot for slot, topic in enumerate(topics) if topic is not None]
    bits[slots] = bloom_bits_many([topics[slot] or b"" for slot in slots])
    return bits


@lru_cache(maxsize=NAME_CACHE)
def _name_topics(kind: int, name: str, key: int) -> _OwnTopics:
    """Topics (and their bloom bits) that an ENS event's name decides; cached by name."""
    label = keccak256(name.encode())
    topics: tuple[bytes | None, bytes | None, bytes | None]
    if kind == Ev.NAME_REGISTERED:
        topics = (label, None, None)
    else:  # TextChanged
        topics = (ens_node(label), TEXT_KEY_HASHES[key], None)
    return topics, _own_bits(topics)


@lru_cache(maxsize=TOKEN_IDS)
def _token_topics(token: int) -> _OwnTopics:
    topics = (token.to_bytes(32, "big"), None, None)
    return topics, _own_bits(topics)


def value_bits(population: Population, logs: LogDraws) -> npt.NDArray[np.int16]:
    """``(n, 5, 3)``: the bloom bits of each log's address and topics; −1 where absent."""
    count = len(logs)
    bits = np.empty((count, VALUES_PER_LOG, 3), dtype=np.int16)
    population.contracts.ensure(logs.contract)
    bits[:, 0] = population.contracts.bits[logs.contract]
    bits[:, 1] = _EVENT_BITS[logs.event]
    holders = population.holders
    holders.ensure(logs.holders[logs.holders >= 0])
    # Topic slot s of a log holds its holder SLOT_HOLDER[event, s] (or something else: −1).
    column = SLOT_HOLDER[logs.event]
    row = np.maximum(logs.holders, 0)[np.arange(count)[:, None], np.maximum(column, 0)]
    bits[:, 2:] = np.where(column[:, :, None] >= 0, holders.bits[row], -1)
    strings = logs.strings
    if len(strings.positions):
        mine = bits[strings.positions, 2:]
        bits[strings.positions, 2:] = np.where(strings.bits >= 0, strings.bits, mine)
    return bits
