"""What to sync and how (:class:`SyncConfig`), where it stands (:class:`SyncStatus`), what it
has done (:class:`SyncCounters`), and who is told about progress (:class:`SyncObserver`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from chainindex.sync.checkpoint import Checkpoint

__all__ = ["SyncConfig", "SyncCounters", "SyncObserver", "SyncPhase", "SyncStatus"]

SyncPhase = Literal["starting", "syncing", "following", "stopped"]
"""What the indexer is doing: ``"starting"``, ``"syncing"`` (behind the head),
``"following"`` (at the head) or ``"stopped"``."""


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """What to sync and how."""

    section_size: int = 4096
    """Blocks per bloom section (a multiple of 8; fixed per data directory)."""
    confirmations: int = 256
    """Blocks on top of a section's last block before the section is built (0 allowed)."""
    from_block: int | None = None
    """First block to sync into a new data directory (default 0); must match on resume."""
    until: int | None = None
    """Stop once this block is synced (None: no limit)."""
    follow: bool = True
    """Keep following new heads after catching up (ignored for a finite source)."""
    headers_only: bool = False
    """Store headers and sections only; logs are fetched on demand (``--no-logs``)."""
    chain_id: int | None = None
    """The chain id (``--chain-id``): checked against the upstream's and the directory's, and
    stored when the directory has none (an archive without one); None: the upstream's."""
    max_reorg_depth: int = 1024
    """Deepest reorg handled; a deeper one stops sync with an error."""
    blocks_per_fetch: int = 32
    """Most blocks (with logs) per upstream fetch."""
    headers_per_fetch: int = 512
    """Most headers per upstream fetch in headers-only mode."""
    logs_per_fetch: int = 20_000
    """Fetches are shrunk so that one holds about this many logs (adapted as sync goes)."""
    fetch_ahead: int = 4
    """Fetches in flight ahead of the commit."""
    refresh_interval: float = 2.0
    """Seconds without news from the head watcher before the indexer asks for the head."""
    max_inconsistent: int = 6
    """Answers in a row that contradict the upstream's own chain (a block not extending the
    head the upstream still reports) before sync stops with an error."""
    checkpoint: Checkpoint | None = None
    """A block the chain must contain (``--checkpoint``), checked against the data directory
    at start and against the upstream's headers at its height."""

    def __post_init__(self) -> None:
        if self.section_size <= 0 or self.section_size % 8:
            raise ValueError(f"section size {self.section_size} is not a positive multiple of 8")
        for name in ("confirmations", "max_reorg_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in ("blocks_per_fetch", "headers_per_fetch", "logs_per_fetch", "fetch_ahead"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.from_block is not None and self.from_block < 0:
            raise ValueError("from_block must not be negative")


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where sync stands."""

    phase: SyncPhase
    """``"starting"``, ``"syncing"`` (behind the head), ``"following"`` (at the head) or
    ``"stopped"``."""
    tail: int | None
    """First synced block (None before the first commit)."""
    synced_head: int | None
    """Highest synced block (None before the first commit)."""
    upstream_head: int | None
    """The upstream's head as last seen."""
    sections: int
    """Index of the next section to build (sections below it, from the tail's, are stored)."""


@dataclass(slots=True)
class SyncCounters:
    """What the indexer has done since it was created: plain ints bumped once per commit,
    reorg or section (read by whoever reports them, e.g. the server's metrics)."""

    blocks: int = 0
    """Blocks committed (a reorg's replacements among them)."""
    logs: int = 0
    """Logs of those blocks."""
    reorgs: int = 0
    """Reorgs handled."""
    reorged_blocks: int = 0
    """Blocks removed by those reorgs."""
    sections: int = 0
    """Sections built."""
    section_seconds: float = 0.0
    """Seconds spent building them (the store write included)."""

    def committed(self, blocks: int, logs: int) -> None:
        """``blocks`` blocks holding ``logs`` logs were committed."""
        self.blocks += blocks
        self.logs += logs

    def reorged(self, removed: int, blocks: int, logs: int) -> None:
        """A reorg removed ``removed`` blocks and committed ``blocks`` with ``logs`` logs."""
        self.reorgs += 1
        self.reorged_blocks += removed
        self.committed(blocks, logs)

    def section_built(self, seconds: float) -> None:
        """A section was built in ``seconds``."""
        self.sections += 1
        self.section_seconds += seconds


class SyncObserver(Protocol):
    """Told about sync progress (e.g. :class:`~rpc.commands.progress.ProgressReporter`)."""

    def on_commit(self, status: SyncStatus, blocks: int, logs: int) -> None:
        """``blocks`` blocks with ``logs`` logs were committed."""
        ...

    def on_reorg(self, ancestor: int, removed: int, added: int) -> None:
        """Blocks above ``ancestor`` were replaced."""
        ...

    def on_section(self, section: int) -> None:
        """A section was built."""
        ...
