"""Log filter criteria: the arguments of ``eth_getLogs``, normalised once, with geth's meaning.

:meth:`Filter.of` takes the forms people write — an address or a list of them, as bytes or
hex in any letter case; topics as up to four positions, each ``None`` (any), one hash, or a
list of alternatives; block numbers as ints or the tags ``"latest"``, ``"safe"``,
``"finalized"``, ``"earliest"`` — and checks them before anything is sent, the way geth
would (``pending`` is refused, more than four positions too, ``block_hash`` excludes a range).
:meth:`Filter.from_params` takes the same criteria as a web3.py ``FilterParams`` mapping.

Geth's meaning, kept exactly: the addresses are one OR group, each topic position another,
and the groups are ANDed; a position that is ``None``, ``[]`` or holds a ``None`` among its
alternatives matches anything, but a log with fewer topics than the filter has positions does
not match, so trailing ``None`` positions are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, get_args

from eth_typing import Address, BlockNumber, Hash32

from rpc.client.errors import InvalidArgumentError
from rpc.client.hexcodec import (
    HexFormatError,
    decode_data,
    decode_quantity,
    encode_data,
    encode_quantity,
)

__all__ = [
    "MAX_TOPICS",
    "AddressArg",
    "BlockId",
    "BlockTag",
    "Criteria",
    "Filter",
    "TopicsArg",
    "block_id",
    "criteria_of",
    "encode_block_id",
]

BlockTag: TypeAlias = Literal["latest", "safe", "finalized", "earliest"]
"""The block tags ``eth_getLogs`` accepts (``pending`` is refused, as geth does)."""
BlockId: TypeAlias = int | BlockTag
"""A block number or a tag."""

AddressArg: TypeAlias = "bytes | str | Iterable[bytes | str] | None"
"""One address or several (bytes or hex), or None for any address."""
TopicsArg: TypeAlias = "Iterable[bytes | str | Iterable[bytes | str | None] | None] | None"
"""Up to four positions, each None (any), one topic, or a list of alternatives."""

MAX_TOPICS: Final = 4
"""Most topic positions a filter may have (geth: ``exceed max topics``)."""

_TAGS: Final[frozenset[str]] = frozenset(get_args(BlockTag))


def block_id(value: object, what: str) -> BlockId:
    """``value`` as a block id: a non-negative int (or a hex quantity string), or a tag."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{what}: expected a block number or tag, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidArgumentError(f"{what}: block numbers are non-negative, got {value}")
        return BlockNumber(value)
    if isinstance(value, str):
        if value in _TAGS:
            return value  # type: ignore[return-value]  # checked against the Literal's values
        if value == "pending":
            raise InvalidArgumentError(f"{what}: pending logs are not supported")
        if value.startswith(("0x", "0X")):
            try:
                return BlockNumber(decode_quantity(value, what))
            except HexFormatError as err:
                raise InvalidArgumentError(str(err)) from None
        raise InvalidArgumentError(
            f"{what}: unknown block tag {value!r} (use a number, "
            '"latest", "safe", "finalized" or "earliest")'
        )
    raise InvalidArgumentError(f"{what}: expected a block number or tag, got {value!r}")


def encode_block_id(value: BlockId) -> str:
    """A block id on the wire: a hex quantity or the tag itself."""
    return value if isinstance(value, str) else encode_quantity(value)


def _bytes(value: object, size: int, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview) and not isinstance(value, str):
        raw = bytes(value)
        if len(raw) != size:
            raise InvalidArgumentError(f"{what}: expected {size} bytes, got {len(raw)}")
        return raw
    try:
        return decode_data(value, what, size=size)
    except HexFormatError as err:
        raise InvalidArgumentError(str(err)) from None


def _addresses(value: object) -> tuple[Address, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes | bytearray | memoryview):
        return (Address(_bytes(value, 20, "address")),)
    if not isinstance(value, Iterable):
        raise InvalidArgumentError(f"address: expected an address or a list, got {value!r}")
    out = tuple(Address(_bytes(a, 20, f"address {i}")) for i, a in enumerate(value))
    return out or None


def _position(value: object, index: int) -> tuple[Hash32, ...] | None:
    what = f"topic {index}"
    if value is None:
        return None
    if isinstance(value, str | bytes | bytearray | memoryview):
        return (Hash32(_bytes(value, 32, what)),)
    if not isinstance(value, Iterable):
        raise InvalidArgumentError(f"{what}: expected a topic, a list of topics or None")
    alternatives = list(value)
    if not alternatives or any(a is None for a in alternatives):
        return None  # geth: [] or a null among the alternatives matches any topic
    return tuple(Hash32(_bytes(a, 32, f"{what}[{j}]")) for j, a in enumerate(alternatives))


def _topics(value: object) -> tuple[tuple[Hash32, ...] | None, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes | bytearray | memoryview) or not isinstance(value, Iterable):
        raise InvalidArgumentError("topics: expected a list of up to 4 positions")
    positions = list(value)
    if len(positions) > MAX_TOPICS:
        raise InvalidArgumentError(f"topics: exceed max topics ({len(positions)} positions > 4)")
    return tuple(_position(p, i) for i, p in enumerate(positions))


@dataclass(frozen=True, slots=True)
class Filter:
    """Normalised log filter criteria: bytes and ints, hex only in :meth:`to_params`."""

    from_block: BlockId | None = None
    """First block (None: ``latest``, as geth)."""
    to_block: BlockId | None = None
    """Last block (None: ``latest``)."""
    addresses: tuple[Address, ...] | None = None
    """Any of these addresses (None: any address)."""
    topics: tuple[tuple[Hash32, ...] | None, ...] = ()
    """Per position, any of these topics (None: any topic, but the position must exist)."""
    block_hash: Hash32 | None = None
    """The one block to search, instead of a range."""

    @classmethod
    def of(
        cls,
        *,
        from_block: BlockId | str | None = None,
        to_block: BlockId | str | None = None,
        address: AddressArg = None,
        topics: TopicsArg = None,
        block_hash: bytes | str | None = None,
    ) -> Filter:
        """Criteria from the forms people write; :class:`InvalidArgumentError` when one is
        malformed (saying which and why)."""
        if block_hash is not None and (from_block is not None or to_block is not None):
            raise InvalidArgumentError(
                "cannot specify both block_hash and from_block/to_block, choose one or the other"
            )
        first = None if from_block is None else block_id(from_block, "from_block")
        last = None if to_block is None else block_id(to_block, "to_block")
        if isinstance(first, int) and isinstance(last, int) and first > last:
            raise InvalidArgumentError(
                f"invalid block range params: from_block {first} is after to_block {last}"
            )
        return cls(
            from_block=first,
            to_block=last,
            addresses=_addresses(address),
            topics=_topics(topics),
            block_hash=None if block_hash is None else Hash32(_bytes(block_hash, 32, "block_hash")),
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Filter:
        """Criteria from a web3.py-style ``FilterParams`` mapping (``fromBlock``, ``toBlock``,
        ``address``, ``topics``, ``blockHash``; values as web3 takes them)."""
        known = {"fromBlock", "toBlock", "address", "topics", "blockHash"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise InvalidArgumentError(f"unknown filter field(s): {', '.join(unknown)}")
        return cls.of(
            from_block=params.get("fromBlock"),
            to_block=params.get("toBlock"),
            address=params.get("address"),
            topics=params.get("topics"),
            block_hash=params.get("blockHash"),
        )

    def with_range(self, first: int, last: int) -> Filter:
        """The same addresses and topics over blocks ``first..last``."""
        return Filter(BlockNumber(first), BlockNumber(last), self.addresses, self.topics)

    @property
    def is_range(self) -> bool:
        """True unless the filter names one block by hash."""
        return self.block_hash is None

    def to_params(self) -> dict[str, Any]:
        """The ``eth_getLogs`` / ``eth_newFilter`` parameter object (geth's field names)."""
        params: dict[str, Any] = {}
        if self.block_hash is not None:
            params["blockHash"] = encode_data(self.block_hash)
        if self.from_block is not None:
            params["fromBlock"] = encode_block_id(self.from_block)
        if self.to_block is not None:
            params["toBlock"] = encode_block_id(self.to_block)
        if self.addresses is not None:
            encoded = [encode_data(a) for a in self.addresses]
            params["address"] = encoded[0] if len(encoded) == 1 else encoded
        if self.topics:
            params["topics"] = [
                None
                if position is None
                else encode_data(position[0])
                if len(position) == 1
                else [encode_data(t) for t in position]
                for position in self.topics
            ]
        return params

    def subscription_params(self) -> dict[str, Any]:
        """The ``eth_subscribe("logs", ...)`` parameter object (addresses and topics only)."""
        if not self.is_range or self.from_block is not None or self.to_block is not None:
            raise InvalidArgumentError(
                "a logs subscription follows new blocks: give it no from_block, to_block or "
                "block_hash (use get_logs or iter_logs for past blocks)"
            )
        return self.to_params()


Criteria: TypeAlias = "Filter | Mapping[str, Any]"
"""Filter criteria given whole: a :class:`Filter` or a web3.py-style ``FilterParams`` dict."""


def criteria_of(
    criteria: Criteria | None,
    from_block: BlockId | str | None,
    to_block: BlockId | str | None,
    address: AddressArg,
    topics: TopicsArg,
    block_hash: bytes | str | None,
) -> Filter:
    """The criteria of a client method: given whole (``criteria``) or as keywords."""
    if criteria is None:
        return Filter.of(
            from_block=from_block,
            to_block=to_block,
            address=address,
            topics=topics,
            block_hash=block_hash,
        )
    if any(v is not None for v in (from_block, to_block, address, topics, block_hash)):
        raise InvalidArgumentError("give the criteria either whole or as keyword arguments")
    if isinstance(criteria, Filter):
        return criteria
    if isinstance(criteria, Mapping):
        return Filter.from_params(criteria)
    raise InvalidArgumentError(f"criteria: expected a Filter or a mapping, got {criteria!r}")
