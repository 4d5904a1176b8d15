"""Installed (polling) filters: ``eth_newFilter``, ``eth_newBlockFilter`` and their changes.

go-ethereum's ``FilterAPI`` state machine, driven by :class:`~chainindex.sync.events.ChainEvent`
instead of geth's event feeds:

* a filter is installed with a random id (geth's form: ``0x`` and up to 32 hex digits) and a
  deadline ``timeout`` seconds ahead (geth's default: 5 minutes);
* every chain event appends to each filter what it would have seen: a log filter the logs of
  the removed blocks that match (``removed: true``, chain order) then those of the added
  blocks; a block filter the hashes of the added blocks;
* ``changes`` returns what gathered since the last poll, empties the buffer and moves the
  deadline (geth's ``eth_getFilterChanges``); ``get`` reads a filter without touching its
  deadline (``eth_getFilterLogs``);
* ``expire`` removes the filters whose deadline has passed.

Memory is bounded: a filter that gathers more than ``max_pending`` changes between two polls
is dropped, and its next poll raises :class:`~chainindex.errors.FilterLaggedError` (once)
instead of silently losing changes. Owners (a connection, a client address) are recorded so
that the caller can bound filters per owner (the server: per WebSocket connection) as well as
in all (``len``).

The table is plain synchronous state: the server calls it from the event loop's thread.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from eth_typing import Hash32

from chainindex.errors import FilterLaggedError, FilterNotFoundError
from chainindex.filters.criteria import LogQuery
from chainindex.sync.events import ChainEvent
from chainindex.types import ChainLog

__all__ = ["FilterKind", "FilterTable", "InstalledFilter", "event_logs", "new_id"]

DEFAULT_TIMEOUT = 300.0
"""Seconds without a poll before a filter expires (geth's 5 minutes)."""


def new_id() -> str:
    """A random id in geth's form: ``0x`` and the hex of 16 random bytes, leading zeros
    trimmed."""
    digits = secrets.token_bytes(16).hex().lstrip("0")
    return "0x" + (digits or "0")


def event_logs(event: ChainEvent, query: LogQuery) -> Iterator[ChainLog]:
    """The logs of ``event`` a log filter or subscription on ``query`` receives: the
    removed blocks' matching logs with ``removed=True``, then the added blocks' (chain order
    each), within the query's numeric bounds."""
    criteria = query.criteria
    for block in event.removed:
        if block.logs and query.in_bounds(block.header.number):
            for log in block.logs:
                if criteria.matches(log):
                    yield dataclasses.replace(log, removed=True)
    for block in event.added:
        if block.logs and query.in_bounds(block.header.number):
            for log in block.logs:
                if criteria.matches(log):
                    yield log


class FilterKind(StrEnum):
    """What a filter gathers."""

    LOGS = "logs"
    """Matching logs (``eth_newFilter``)."""
    BLOCKS = "blocks"
    """New block hashes (``eth_newBlockFilter``)."""


@dataclass(slots=True)
class InstalledFilter:
    """One installed filter."""

    id: str
    """Its id, as given to the client."""
    kind: FilterKind
    """Logs or blocks."""
    owner: Hashable
    """Who installed it (for per-owner limits)."""
    deadline: float
    """Clock time after which it expires unless polled."""
    query: LogQuery | None = None
    """The criteria and bounds of a log filter."""
    logs: list[ChainLog] = field(default_factory=list)
    """Logs gathered since the last poll (log filters)."""
    hashes: list[Hash32] = field(default_factory=list)
    """Block hashes gathered since the last poll (block filters)."""

    @property
    def pending(self) -> int:
        """Changes gathered since the last poll."""
        return len(self.logs) + len(self.hashes)


class FilterTable:
    """The installed filters of one service (see the module docstring)."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_pending: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        """Seconds without a poll before a filter expires."""
        self.max_pending = max_pending
        """Most changes a filter buffers between two polls."""
        self.clock = clock
        """The time source (monotonic seconds)."""
        self._filters: dict[str, InstalledFilter] = {}
        self._lagged: dict[str, tuple[str, float]] = {}
        """Ids of filters dropped for lagging: the reason and until when it is told."""
        self._owned: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._filters)

    def owned_by(self, owner: Hashable) -> int:
        """Filters currently installed by ``owner``."""
        return self._owned.get(owner, 0)

    def _install(self, kind: FilterKind, owner: Hashable, query: LogQuery | None) -> str:
        filter_id = new_id()
        while filter_id in self._filters:  # pragma: no cover - 128 random bits
            filter_id = new_id()
        deadline = self.clock() + self.timeout
        self._filters[filter_id] = InstalledFilter(filter_id, kind, owner, deadline, query)
        self._owned[owner] = self._owned.get(owner, 0) + 1
        return filter_id

    def install_logs(self, query: LogQuery, owner: Hashable = None) -> str:
        """Install a log filter; returns its id."""
        return self._install(FilterKind.LOGS, owner, query)

    def install_blocks(self, owner: Hashable = None) -> str:
        """Install a block filter; returns its id."""
        return self._install(FilterKind.BLOCKS, owner, None)

    def get(self, filter_id: str) -> InstalledFilter:
        """The filter ``filter_id`` (its deadline untouched)."""
        found = self._filters.get(filter_id)
        if found is None:
            raise self._not_found(filter_id)
        return found

    def changes(self, filter_id: str) -> list[ChainLog] | list[Hash32]:
        """What the filter gathered since the last poll; moves its deadline."""
        found = self.get(filter_id)
        found.deadline = self.clock() + self.timeout
        if found.kind is FilterKind.BLOCKS:
            hashes, found.hashes = found.hashes, []
            return hashes
        logs, found.logs = found.logs, []
        return logs

    def uninstall(self, filter_id: str) -> bool:
        """Remove a filter; False when there was none with that id."""
        self._lagged.pop(filter_id, None)
        found = self._filters.pop(filter_id, None)
        if found is None:
            return False
        self._disown(found.owner)
        return True

    def expire(self) -> list[str]:
        """Remove the filters past their deadline; returns their ids."""
        now = self.clock()
        gone = [f.id for f in self._filters.values() if f.deadline < now]
        for filter_id in gone:
            self.uninstall(filter_id)
        for filter_id, (_, until) in list(self._lagged.items()):
            if until < now:
                del self._lagged[filter_id]
        return gone

    def drop_all(self, reason: str) -> None:
        """Remove every filter; each one's next poll raises FilterLaggedError(``reason``)
        (the event feed was lost: their changes can no longer be complete)."""
        for filter_id in list(self._filters):
            self._drop(filter_id, reason)

    def on_event(self, event: ChainEvent) -> None:
        """Gather what ``event`` brings into every filter."""
        hashes = [block.header.hash for block in event.added]
        for found in list(self._filters.values()):
            if found.kind is FilterKind.BLOCKS:
                found.hashes.extend(hashes)
            else:
                assert found.query is not None
                found.logs.extend(event_logs(event, found.query))
            if found.pending > self.max_pending:
                self._drop(
                    found.id,
                    f"filter fell behind: more than {self.max_pending} changes gathered "
                    "since the last poll; it was removed (install it again)",
                )

    def _drop(self, filter_id: str, reason: str) -> None:
        self.uninstall(filter_id)
        self._lagged[filter_id] = (reason, self.clock() + self.timeout)

    def _not_found(self, filter_id: str) -> Exception:
        lagged = self._lagged.pop(filter_id, None)
        if lagged is not None:
            return FilterLaggedError(lagged[0])
        return FilterNotFoundError()

    def _disown(self, owner: Hashable) -> None:
        left = self._owned.get(owner, 0) - 1
        if left > 0:
            self._owned[owner] = left
        else:
            self._owned.pop(owner, None)
