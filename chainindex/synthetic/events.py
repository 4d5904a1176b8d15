"""The events a synthetic chain emits, and the kinds of contract that emit them.

Every event is a real one, with its real signature and topic 0, so that an ABI registry that
knows the common events decodes the synthetic logs exactly as it decodes mainnet's. A contract
belongs to one :class:`ContractClass`, which says which events it emits and how often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from bloombits.keccak import keccak256

__all__ = [
    "CLASSES",
    "CLASS_NAMES",
    "EVENTS",
    "SPECIAL_EVENTS",
    "STRING_EVENTS",
    "ContractClass",
    "Ev",
    "EventType",
    "TopicSource",
    "event_lookup",
    "topic_table",
]


class TopicSource(IntEnum):
    """What an indexed argument (topic 1..3) holds."""

    HOLDER_1 = 0
    """The log's first holder draw, as a 32-byte left-padded address."""
    HOLDER_2 = 1
    """The log's second holder draw."""
    HOLDER_3 = 2
    """The log's third holder draw."""
    LABEL = 3
    """ENS label hash: keccak256 of the registered name."""
    NODE = 4
    """ENS node: namehash of ``<name>.eth``."""
    TEXT_KEY = 5
    """keccak256 of an ENS text record key (a string ``indexed`` argument)."""
    TOKEN_ID = 6
    """An ERC-1155 token id, as a 32-byte big-endian integer."""


@dataclass(frozen=True, slots=True)
class EventType:
    """One event: signature, what its topics hold, the shape of its data."""

    name: str
    """Event name as in the ABI."""
    signature: str
    """Canonical signature; topic 0 is its keccak256."""
    abi: str
    """Human-readable ABI line (argument names, ``indexed`` markers) for registries and docs."""
    topics: tuple[TopicSource, ...]
    """Sources of topics 1.. (topic 0 is the signature hash)."""
    words: int
    """Number of static 32-byte data words; 0 for events whose data holds strings."""
    topic0: bytes = field(init=False)
    """keccak256 of the signature."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "topic0", keccak256(self.signature.encode()))


class Ev(IntEnum):
    """Event ids: indexes into :data:`EVENTS`."""

    TRANSFER = 0
    APPROVAL = 1
    SWAP = 2
    DEPOSIT = 3
    WITHDRAWAL = 4
    NAME_REGISTERED = 5
    TEXT_CHANGED = 6
    URI = 7
    TRANSFER_SINGLE = 8
    TRANSFER_721 = 9
    APPROVAL_FOR_ALL = 10


H1, H2, H3 = TopicSource.HOLDER_1, TopicSource.HOLDER_2, TopicSource.HOLDER_3

EVENTS: tuple[EventType, ...] = (
    EventType(
        "Transfer",
        "Transfer(address,address,uint256)",
        "event Transfer(address indexed from, address indexed to, uint256 value)",
        (H1, H2),
        1,
    ),
    EventType(
        "Approval",
        "Approval(address,address,uint256)",
        "event Approval(address indexed owner, address indexed spender, uint256 value)",
        (H1, H2),
        1,
    ),
    EventType(
        "Swap",
        "Swap(address,uint256,uint256,uint256,uint256,address)",
        "event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, "
        "uint256 amount0Out, uint256 amount1Out, address indexed to)",
        (H1, H2),
        4,
    ),
    EventType(
        "Deposit",
        "Deposit(address,uint256)",
        "event Deposit(address indexed dst, uint256 wad)",
        (H1,),
        1,
    ),
    EventType(
        "Withdrawal",
        "Withdrawal(address,uint256)",
        "event Withdrawal(address indexed src, uint256 wad)",
        (H1,),
        1,
    ),
    EventType(
        "NameRegistered",
        "NameRegistered(string,bytes32,address,uint256,uint256,uint256)",
        "event NameRegistered(string name, bytes32 indexed label, address indexed owner, "
        "uint256 baseCost, uint256 premium, uint256 expires)",
        (TopicSource.LABEL, H1),
        0,
    ),
    EventType(
        "TextChanged",
        "TextChanged(bytes32,string,string,string)",
        "event TextChanged(bytes32 indexed node, string indexed indexedKey, string key, "
        "string value)",
        (TopicSource.NODE, TopicSource.TEXT_KEY),
        0,
    ),
    EventType(
        "URI",
        "URI(string,uint256)",
        "event URI(string value, uint256 indexed id)",
        (TopicSource.TOKEN_ID,),
        0,
    ),
    EventType(
        "TransferSingle",
        "TransferSingle(address,address,address,uint256,uint256)",
        "event TransferSingle(address indexed operator, address indexed from, "
        "address indexed to, uint256 id, uint256 value)",
        (H1, H2, H3),
        2,
    ),
    EventType(
        "Transfer",
        "Transfer(address,address,uint256)",
        "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
        (H1, H2, TopicSource.TOKEN_ID),
        0,
    ),
    EventType(
        "ApprovalForAll",
        "ApprovalForAll(address,address,bool)",
        "event ApprovalForAll(address indexed owner, address indexed operator, bool approved)",
        (H1, H2),
        1,
    ),
)
"""Every event, indexed by :class:`Ev`. ERC-721's ``Transfer`` shares ERC-20's signature and
topic 0; its token id is a third topic (four in all), and it has no data."""

STRING_EVENTS = frozenset({Ev.NAME_REGISTERED, Ev.TEXT_CHANGED, Ev.URI})
"""Events whose data is ABI-encoded strings (built one by one, not as static words)."""

SPECIAL_EVENTS = STRING_EVENTS | {Ev.TRANSFER_721}
"""Events with topics other than holders (names, nodes, token ids): finished one by one."""


@dataclass(frozen=True, slots=True)
class ContractClass:
    """A kind of contract: the events it emits and their relative frequencies."""

    name: str
    """Name used in the ``mix`` parameter (``erc20``, ``weth``, ...)."""
    events: tuple[tuple[Ev, float], ...]
    """(event, weight) pairs; weights are relative within the class."""


CLASSES: tuple[ContractClass, ...] = (
    ContractClass("erc20", ((Ev.TRANSFER, 0.85), (Ev.APPROVAL, 0.15))),
    ContractClass(
        "weth",
        ((Ev.TRANSFER, 0.45), (Ev.APPROVAL, 0.05), (Ev.DEPOSIT, 0.25), (Ev.WITHDRAWAL, 0.25)),
    ),
    ContractClass("uniswap-pair", ((Ev.SWAP, 1.0),)),
    ContractClass("erc721", ((Ev.TRANSFER_721, 0.9), (Ev.APPROVAL_FOR_ALL, 0.1))),
    ContractClass("ens-registrar", ((Ev.NAME_REGISTERED, 1.0),)),
    ContractClass("ens-resolver", ((Ev.TEXT_CHANGED, 1.0),)),
    ContractClass("erc1155", ((Ev.TRANSFER_SINGLE, 0.7), (Ev.URI, 0.3))),
)
"""Every contract class, in the order of the class ids used inside the generator."""

CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
"""Class names, indexed by class id."""


EVENT_RESOLUTION = 1 << 16
"""Cells of :func:`event_lookup`: event probabilities are exact to within 1/65536."""


def event_lookup() -> npt.NDArray[np.int8]:
    """``(classes, EVENT_RESOLUTION)``: the event a uniform ``u`` picks in class ``c`` is
    ``table[c, floor(u * EVENT_RESOLUTION)]`` (one gather per log instead of a search)."""
    cells = (np.arange(EVENT_RESOLUTION) + 0.5) / EVENT_RESOLUTION
    table = np.empty((len(CLASSES), EVENT_RESOLUTION), dtype=np.int8)
    for row, cls in enumerate(CLASSES):
        weights = np.array([w for _, w in cls.events], dtype=np.float64)
        cumulative = np.cumsum(weights / weights.sum())
        choice = np.minimum(np.searchsorted(cumulative, cells, side="right"), len(weights) - 1)
        table[row] = np.array([int(e) for e, _ in cls.events], dtype=np.int8)[choice]
    return table


def topic_table() -> npt.NDArray[np.int8]:
    """``(events, 3)``: the :class:`TopicSource` of topics 1..3 of each event, −1 when absent."""
    table = np.full((len(EVENTS), 3), -1, dtype=np.int8)
    for row, event in enumerate(EVENTS):
        table[row, : len(event.topics)] = [int(t) for t in event.topics]
    return table
