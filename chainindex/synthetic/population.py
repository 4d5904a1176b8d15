"""The actors of a synthetic chain: contracts, holders and block producers.

Addresses are random bytes from the chain's seed. Popularity follows Zipf–Mandelbrot laws
(:mod:`~chainindex.synthetic.sampling`); each contract gets a class
(:data:`~chainindex.synthetic.events.CLASSES`) so that the classes' shares of all logs match the
shape's mix. The bloom bits of an address are computed the first time a block uses it and
kept in a numpy table (7 bytes an actor); its hex forms are computed in bulk each time a
batch needs them (:meth:`AddressBook.hex_many`), never kept: a table of Python strings took
about 37 MiB per generator once the 300,000 holders had all been met (115 bytes a string).
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
    "hex_rows",
    "rng_for",
]


def rng_for(key: bytes, *stream: int) -> np.random.Generator:
    """An independent random stream named by ``stream`` under the chain ``key``."""
    return np.random.default_rng([int.from_bytes(key, "big"), *stream])


class AddressBook:
    """``n`` random addresses and their bloom bits, filled in on first use; hex on demand.

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
        self.rows: npt.NDArray[np.uint8] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 20)
        """``(n, 20)``: the addresses as rows (a view of :attr:`raw`)."""
        self.bits = np.zeros((self.count, 3), dtype=np.int16)
        """The three bloom bits of each value (valid where ``known``)."""
        self.known = np.zeros(self.count, dtype=np.bool_)
        """Which entries have ``bits`` filled in."""

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

    def hex_many(self, indexes: npt.NDArray[np.integer], *, bare: bool = False) -> list[str]:
        """``0x``-hex of the value of each entry of ``indexes`` (40 or 64 digits), or of the
        bare address when ``bare``; in one pass over the rows."""
        prefix = _TOPIC_PREFIX if self.topic and not bare else "0x"
        return hex_rows(self.rows[indexes], prefix)


def hex_rows(rows: npt.NDArray[np.uint8], prefix: str = "0x") -> list[str]:
    """``prefix`` and the hex of each row of a ``(n, width)`` byte table, in one pass."""
    width = 2 * rows.shape[1]
    text = np.ascontiguousarray(rows).tobytes().hex()
    return [prefix + text[start : start + width] for start in range(0, len(text), width)]


_TOPIC_PREFIX = "0x" + "00" * 12


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
