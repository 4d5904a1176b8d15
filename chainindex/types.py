"""The chain's data as the index holds it: frozen dataclasses of bytes and ints.

Hex strings never appear here; they exist only at the JSON-RPC edges (the upstream source and
the server's codec). Scalars use eth-typing's ``NewType`` names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_typing import Address, BlockNumber, Hash32

__all__ = ["Address", "Block", "BlockNumber", "ChainLog", "Hash32", "Header"]


@dataclass(frozen=True, slots=True)
class Header:
    """The parts of a block header the index needs."""

    number: BlockNumber
    """Height of the block."""
    hash: Hash32
    """keccak256 of the RLP header, as reported by the upstream."""
    parent_hash: Hash32
    """Hash of the block this one extends."""
    timestamp: int
    """Unix time of the block, seconds."""
    logs_bloom: bytes
    """The 256-byte bloom of every log in the block."""
    extra: bytes = field(default=b"", compare=False)
    """The header's other fields as the node gave them, encoded
    (:meth:`chainindex.header_extra.HeaderExtra.encode`; decoded only where they are handed
    out, never on the query path), or empty when not known (a header stored by schema 2).
    Not compared: a header is identified by its hash."""


@dataclass(frozen=True, slots=True)
class ChainLog:
    """One log (event) emitted by a transaction, with its position in the chain: geth's
    ``core/types.Log`` in bytes and ints (the client library's ``rpc.client.Log`` is the
    same fields as a client decodes them)."""

    address: Address
    """The 20-byte address of the emitting contract."""
    topics: tuple[Hash32, ...]
    """Zero to four 32-byte topics; topic 0 is usually the event signature hash."""
    data: bytes
    """The non-indexed event arguments, ABI-encoded."""
    block_number: BlockNumber
    """Height of the block holding the log."""
    block_hash: Hash32
    """Hash of the block holding the log."""
    block_timestamp: int
    """Timestamp of the block holding the log."""
    transaction_hash: Hash32
    """Hash of the transaction that emitted the log."""
    transaction_index: int
    """Position of that transaction in the block."""
    log_index: int
    """Position of the log in the block (counted across all its transactions)."""
    removed: bool = False
    """True when the log was undone by a reorg (only in notifications)."""


@dataclass(frozen=True, slots=True)
class Block:
    """A header with the logs of all its transactions, in block order."""

    header: Header
    """The block's header."""
    logs: tuple[ChainLog, ...] | None
    """Every log of the block (``logIndex`` 0, 1, ...), or None when they were not fetched
    (headers-only mode)."""
