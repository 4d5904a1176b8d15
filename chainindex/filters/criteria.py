"""What a log query asks for, typed: :class:`LogCriteria` (addresses and topics) and
:class:`LogQuery` (the criteria plus where to look: a block range or one block hash).

Bytes and ints only; the JSON-RPC edge (``rpc/server/codec.py``) builds these from hex strings and
checks their shapes. The matching rule is go-ethereum's ``filterLogs``:

* the address list is one OR group (empty: any address);
* each topic position is another OR group (empty: any topic at that position);
* the groups are ANDed;
* a log with fewer topics than the filter has positions does not match, whatever those
  positions hold (even trailing wildcards).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from eth_typing import Address, Hash32

from chainindex.types import ChainLog

__all__ = ["BlockRef", "BlockTag", "LogCriteria", "LogQuery"]


class BlockTag(StrEnum):
    """The named block bounds of the JSON-RPC API."""

    EARLIEST = "earliest"
    """The first synced block (geth: the history cutoff)."""
    LATEST = "latest"
    """The synced head."""
    SAFE = "safe"
    """The upstream's safe block, clamped to the synced head (see ``planning``)."""
    FINALIZED = "finalized"
    """The upstream's finalized block, clamped to the synced head (see ``planning``)."""
    PENDING = "pending"
    """Accepted by the decoder, rejected by the query path as geth does."""


BlockRef = int | BlockTag
"""A block bound: a number or a tag."""


@dataclass(frozen=True, slots=True)
class LogCriteria:
    """Address and topic conditions (see the module docstring for the rule)."""

    addresses: tuple[Address, ...] = ()
    """Any of these emitters; empty means any address."""
    topics: tuple[tuple[Hash32, ...], ...] = ()
    """Per topic position, any of these values; an empty position is a wildcard. At most
    four positions (the decoder enforces it)."""

    @property
    def groups(self) -> list[list[bytes]]:
        """The criteria as the bloom matcher takes them: address group, then one group per
        topic position (an empty group is a wildcard)."""
        groups: list[list[bytes]] = [list(self.addresses)]
        groups.extend(list(position) for position in self.topics)
        return groups

    @property
    def value_groups(self) -> list[tuple[bytes, ...]]:
        """The non-wildcard groups only (what a bloom must contain, one value per group)."""
        return [g for g in (self.addresses, *self.topics) if g]

    @property
    def is_wildcard(self) -> bool:
        """Whether every log with enough topics matches, whatever its address and topics."""
        return not self.value_groups

    def matches(self, log: ChainLog) -> bool:
        """Whether ``log`` matches (one log at a time; the query path uses the vectorised
        :class:`~chainindex.filters.verify.RecordMatcher`)."""
        if self.addresses and log.address not in self.addresses:
            return False
        if len(log.topics) < len(self.topics):
            return False
        return all(
            not position or topic in position
            for position, topic in zip(self.topics, log.topics, strict=False)
        )


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A log query: the criteria and where to look.

    Either ``block_hash`` (one block) or a range; a missing bound means ``latest``. The
    decoder refuses a block hash together with a bound, as geth does.
    """

    criteria: LogCriteria = LogCriteria()
    """Which logs."""
    from_block: BlockRef | None = None
    """First block (None: latest)."""
    to_block: BlockRef | None = None
    """Last block (None: latest)."""
    block_hash: Hash32 | None = None
    """The one block to look in, instead of a range."""

    def tags(self) -> set[BlockTag]:
        """The tags the bounds use."""
        return {b for b in (self.from_block, self.to_block) if isinstance(b, BlockTag)}

    def in_bounds(self, number: int) -> bool:
        """Whether block ``number`` is within the numeric bounds (tags do not bound): the
        rule geth's installed filters apply to new logs."""
        if isinstance(self.from_block, int) and number < self.from_block:
            return False
        return not (isinstance(self.to_block, int) and number > self.to_block)
