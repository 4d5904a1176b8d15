"""The actors of a synthetic chain: contracts, holders and block producers.

Addresses are random bytes from the chain's seed. Popularity follows Zipf–Mandelbrot laws
(:mod:`~chainindex.synthetic.sampling`); each contract gets a class
(:data:`~chainindex.synthetic.events.CLASSES`) so that the classes' shares of all logs match the
shape's mix. The bloom bits and hex forms of an address are computed the first time a block
uses it and kept (memory bounded by the number of actors, never by the chain's length).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bloombits.keccak import keccak256
from chainindex.synthetic.events import CLASSES
from chainindex.synthetic.sampling import AliasTable, zipf_exponent_for, zipf_table, zipf_weights
from chainindex.synthetic.shape import TOP_FRACTION, ChainShape
from chainindex.synthetic.words import WORDS

__all__ = [
    "AddressBook",
    "Population",
    "assign_classes",
    "bloom_bits_many",
    "contract_exponent",
    "rng_for",
]


def rng_for(key: bytes, *stream: int) -> np.random.Generator:
    """An independent random stream named by ``stream`` under the chain ``key``."""
    return np.random.default_rng([int.from_bytes(key, "big"), *stream])


class AddressBook:
    """``n`` random addresses, their bloom bits and hex forms, filled in on first use.

    ``topic=True`` makes the value the 32-byte left-padded topic form of each address (its
    bloom bits differ from the bare address's).
    """

    def __init__(self, raw: bytes, topic: bool) -> None:
        self.raw = raw
        """The addresses, 20 bytes each, concatenated."""
        self.count = len(raw) // 20
        """Number of addresses."""
        self.topic = topic
        """Whether the value is the 32-byte topic form."""
        self.bits = np.zeros((self.count, 3), dtype=np.int16)
        """The three bloom bits of each value (valid where ``known``)."""
        self.known = np.zeros(self.count, dtype=np.bool_)
        """Which entries have ``bits`` filled in."""
        self.hex: list[str] = [""] * self.count
        """``0x``-hex of each value (40 or 64 digits), filled in by :meth:`ensure_hex`."""
        self._has_hex = np.zeros(self.count, dtype=np.bool_)

    def address(self, index: int) -> bytes:
        """The 20-byte address ``index``."""
        return self.raw[20 * index : 20 * index + 20]

    def value(self, index: int) -> bytes:
        """The value that enters the bloom: the address, or its 32-byte topic form."""
        address = self.address(index)
        return _PADDING + address if self.topic else address

    def ensure(self, indexes: npt.NDArray[np.int32]) -> None:
        """Compute the bloom bits of every address in ``indexes`` not seen before."""
        fresh = np.unique(indexes[~self.known[indexes]])
        if len(fresh):
            value = self.value
            self.bits[fresh] = bloom_bits_many([value(i) for i in fresh.tolist()])
            self.known[fresh] = True

    def ensure_hex(self, indexes: npt.NDArray[np.int32]) -> None:
        """Fill in the hex form of every address in ``indexes`` not seen before."""
        fresh = np.unique(indexes[~self._has_hex[indexes]])
        if len(fresh):
            value, table = self.value, self.hex
            for i in fresh.tolist():
                table[i] = "0x" + value(i).hex()
            self._has_hex[fresh] = True


_PADDING = b"\x00" * 12


def bloom_bits_many(values: list[bytes]) -> npt.NDArray[np.int16]:
    """``(n, 3)``: the bloom bits of each value, as :func:`bloombits.bloom.bloom_indexes`.

    The same formula (bits ``((h[2i] << 8) & 2047) | h[2i+1]`` of ``h = keccak256(value)``)
    applied to all digests at once; the tests check both against eth-bloom.
    """
    digests = np.frombuffer(b"".join(map(keccak256, values)), dtype=np.uint8).reshape(-1, 32)
    high = digests[:, 0:6:2].astype(np.int16)
    low = digests[:, 1:6:2].astype(np.int16)
    return ((high << 8) & 2047) | low


def contract_exponent(shape: ChainShape) -> float:
    """The Zipf exponent that gives the top 1% of contracts ``contract_top_share`` of logs."""
    return zipf_exponent_for(
        shape.contracts, TOP_FRACTION, shape.contract_top_share, shape.contract_zipf_offset
    )


def assign_classes(weights: npt.NDArray[np.float64], shares: list[float]) -> npt.NDArray[np.int8]:
    """Give each contract (most popular first) the class furthest below its target share.

    Greedy balancing: the classes' summed popularity ends close to ``shares``, and every class
    with a positive share gets contracts as soon as its deficit leads.
    """
    deficit = list(shares)
    classes = np.empty(len(weights), dtype=np.int8)
    for index, weight in enumerate(weights.tolist()):
        best = max(range(len(deficit)), key=deficit.__getitem__)
        classes[index] = best
        deficit[best] -= weight
    return classes


class Population:
    """Every actor of one chain, with the tables to draw them."""

    def __init__(self, shape: ChainShape, key: bytes) -> None:
        rng = rng_for(key, 0)
        self.contracts = AddressBook(rng.bytes(20 * shape.contracts), topic=False)
        """Log-emitting contracts, most popular first."""
        self.holders = AddressBook(rng.bytes(20 * shape.holders), topic=True)
        """Accounts in topics and transaction senders, most popular first."""
        self.fee_recipients = AddressBook(rng.bytes(20 * shape.fee_recipients), topic=False)
        """Block producers."""
        exponent = contract_exponent(shape)
        self.contract_exponent = exponent
        """Zipf exponent of contract popularity."""
        self.contract_table: AliasTable = zipf_table(
            shape.contracts, exponent, shape.contract_zipf_offset
        )
        """Draws a log's emitting contract."""
        self.contract_weights = zipf_weights(shape.contracts, exponent, shape.contract_zipf_offset)
        """Expected share of all logs of each contract."""
        self.contract_class = assign_classes(self.contract_weights, shape.class_shares())
        """Class id of each contract."""
        self.holder_table = zipf_table(shape.holders, shape.holder_zipf, shape.holder_zipf_offset)
        """Draws a holder."""
        self.word_table = zipf_table(len(WORDS), shape.word_zipf, 0.0)
        """Draws a word of the vocabulary."""
        self.fee_table = zipf_table(shape.fee_recipients, 1.0, 0.0)
        """Draws a block producer."""

    @property
    def class_counts(self) -> list[int]:
        """Number of contracts per class id."""
        counts: list[int] = np.bincount(self.contract_class, minlength=len(CLASSES)).tolist()
        return counts
