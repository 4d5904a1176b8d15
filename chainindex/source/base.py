"""What the indexer needs from wherever blocks come from: the :class:`ChainSource` protocol.

Two implementations: :class:`~chainindex.source.upstream.RpcSource` (a node over JSON-RPC,
HTTP or WebSocket) and :class:`~chainindex.source.archive.ArchiveSource` (a chain archive
file). Every block a source returns has passed :mod:`chainindex.source.parse`'s checks, and a
run of blocks is hash-linked; a source never returns a block it has not validated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from chainindex.source.wire import ArchiveRecord
from chainindex.types import Block, ChainLog, Header

__all__ = ["ERA1_PREFIX", "SYNTHETIC_SCHEME", "ChainSource", "HeadCallback", "SourceOptions"]

ERA1_PREFIX = "era1:"
"""What starts an ``--upstream`` naming a directory of era1 files."""
SYNTHETIC_SCHEME = "synthetic:"
"""How an ``--upstream`` names a generated chain (any case)."""

HeadCallback = Callable[[Header], Awaitable[None] | None]
"""Called with each new upstream head (it may be a reorg's replacement head)."""


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How an upstream is talked to. The defaults suit a local node."""

    timeout: float = 30.0
    """Seconds to wait for one JSON-RPC answer (a whole batch)."""
    max_concurrency: int = 4
    """JSON-RPC requests (batches) in flight at once."""
    max_batch: int = 200
    """Calls per JSON-RPC batch request."""
    attempts: int = 6
    """Tries of one fetch before its error is raised (1 = no retry)."""
    backoff: float = 0.25
    """Seconds before the first retry; doubled at each further retry."""
    max_backoff: float = 8.0
    """Longest wait between two tries."""
    poll_interval: float = 1.0
    """Seconds between two polls of the head on HTTP (WebSocket uses newHeads)."""
    max_message_bytes: int = 512 * 2**20
    """Largest WebSocket message accepted (a block's receipts can be tens of MB)."""
    verify: bool = True
    """Check every block's hash (keccak256 of its header) and ``receiptsRoot`` (the trie root
    of its receipts) before it is used (:mod:`chainindex.source.verify`)."""
    chain_id: int | None = None
    """The chain id the user names (``--chain-id``): what a source whose files name no
    chain serves (era1 files, which require it)."""
    verify_transactions: bool = False
    """Also fetch full transactions (``eth_getBlockByNumber(n, true)``) and check
    ``transactionsRoot`` (with ``verify``); the records keep only their hashes."""


class ChainSource(Protocol):
    """A source of validated blocks: a node or an archive."""

    @property
    def name(self) -> str:
        """What the source is, for messages (URL or file path)."""
        ...

    @property
    def finite(self) -> bool:
        """True when no block will ever come past :meth:`latest` (an archive)."""
        ...

    async def chain_id(self) -> int | None:
        """The chain id (``eth_chainId``), or None when the source cannot tell (archive)."""
        ...

    async def latest(self) -> Header:
        """The source's current head."""
        ...

    async def header_at(self, number: int) -> Header | None:
        """The source's canonical header at ``number``, or None if it has none."""
        ...

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        """Blocks ``first..last``, validated and hash-linked (``logs`` None unless
        ``with_logs``). Raises :class:`~chainindex.errors.MissingBlockError` when the source
        has no block at one of the heights."""
        ...

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        """The raw records of blocks ``first..last`` (validated like :meth:`blocks`), as a
        chain archive stores them."""
        ...

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The logs of the block ``header`` (fetched by hash, checked against its bloom)."""
        ...

    async def watch_heads(self, on_head: HeadCallback) -> None:
        """Call ``on_head`` with every new head until cancelled (returns at once for a finite
        source)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...
