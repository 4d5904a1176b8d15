"""The bookkeeping of a ``logs`` subscription, without I/O: what was delivered, what to
deliver next, and when the chain under it changed.

A :class:`LogWindow` remembers every log delivered for the blocks from :attr:`~LogWindow.start`
on (the last ``depth`` blocks below the highest delivered one, and everything above), and the
block hash of each height it has seen in a log or a head. With that it:

- drops a notification already delivered (same block hash and log index), so a re-subscribed
  or backfilled stream is seen once (:meth:`~LogWindow.accept`);
- tells the caller when a notification or a head contradicts a hash it knows: the chain was
  reorganised (:meth:`~LogWindow.accept` returns None, :meth:`~LogWindow.head` True);
- diffs the canonical logs of a range, as ``eth_getLogs`` returns them, against what was
  delivered: the delivered logs that are no longer canonical come back with ``removed=True``,
  the canonical ones never delivered are new (:meth:`~LogWindow.reconcile`).

The delivered stream thus describes the canonical chain from ``start`` on: applying its
``removed`` logs as deletions leaves every canonical log exactly once, as long as reorgs stay
within ``depth`` blocks and the notifications of a block come in block order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rpc.client.types import Header, Log, log_key

__all__ = ["LogWindow"]


def _order(log: Log) -> tuple[int, int]:
    return log.block_number, log.log_index


class LogWindow:
    """What a logs subscription delivered over its recent blocks."""

    def __init__(self, start: int, depth: int = 64) -> None:
        if depth < 1:
            raise ValueError(f"the reorg window is at least one block, got {depth}")
        self.start = start
        """First block whose delivered logs are all remembered; notifications for blocks
        below it are taken as already delivered."""
        self.depth = depth
        """Blocks kept below the highest delivered one."""
        self.highest = start - 1
        """Highest block a delivered log came from."""
        self._logs: dict[int, dict[tuple[bytes, int], Log]] = {}
        self._hashes: dict[int, bytes] = {}

    def __len__(self) -> int:
        return sum(len(block) for block in self._logs.values())

    def delivered(self) -> list[Log]:
        """The remembered delivered logs, in chain order."""
        return sorted((log for block in self._logs.values() for log in block.values()), key=_order)

    def _contradicts(self, number: int, block_hash: bytes) -> bool:
        known = self._hashes.get(number)
        return known is not None and known != block_hash

    def _record(self, log: Log) -> None:
        self._logs.setdefault(log.block_number, {})[log_key(log)] = log
        self._hashes[log.block_number] = log.block_hash
        if log.block_number > self.highest:
            self.highest = log.block_number
            self._prune()

    def _prune(self) -> None:
        floor = self.highest - self.depth
        if floor <= self.start:
            return
        self.start = floor
        for number in [n for n in self._logs if n < floor]:
            del self._logs[number]
        for number in [n for n in self._hashes if n < floor - 1]:
            del self._hashes[number]

    def accept(self, log: Log, *, force: bool = False) -> list[Log] | None:
        """A live notification: the logs to deliver for it (none when it was delivered
        already), or None when it shows a reorg not yet reconciled. With ``force``, a
        contradiction is settled by the notification itself: the delivered logs at its height
        from another block, and all above it, come first with ``removed=True``."""
        if log.block_number < self.start:
            return []
        block = self._logs.get(log.block_number, {})
        key = log_key(log)
        if log.removed:
            if key not in block:
                return []  # surfaced by a reconcile already, or never delivered
            del block[key]
            return [log]
        if key in block:
            return []
        out: list[Log] = []
        if self._contradicts(log.block_number, log.block_hash):
            if not force:
                return None
            out = self._remove_from(log.block_number, keep=log.block_hash)
        self._record(log)
        out.append(log)
        return out

    def settle(self, log: Log, reconciled_to: int) -> list[Log]:
        """A notification that showed a reorg, once blocks up to ``reconciled_to`` were
        reconciled: dropped if still contradicted within them (it came from a branch that is
        gone already), forced past them (the node answering ``eth_getLogs`` was behind)."""
        out = self.accept(log)
        if out is not None:
            return out
        if log.block_number <= reconciled_to:
            return []
        return self.accept(log, force=True) or []

    def _remove_from(self, number: int, keep: bytes) -> list[Log]:
        """Forget the delivered logs at ``number`` not in block ``keep``, and all above it;
        they come back with ``removed=True``, in chain order."""
        removed = []
        for height in sorted(n for n in self._logs if n >= number):
            block = self._logs[height]
            for key in [k for k, old in block.items() if height > number or old.block_hash != keep]:
                removed.append(dataclasses.replace(block.pop(key), removed=True))
        for height in [n for n in self._hashes if n >= number]:
            del self._hashes[height]
        self.highest = min(self.highest, number - 1)
        return removed

    def head(self, header: Header) -> bool:
        """A new head: True when it contradicts what was seen (a reorg to reconcile)."""
        number = header.number
        reorg = (
            self._contradicts(number, header.hash)
            or self._contradicts(number - 1, header.parent_hash)
            or any(n > number for n in self._logs if self._logs[n])
        )
        if not reorg:
            self._hashes[number] = header.hash
            if number - 1 >= self.start - 1:
                self._hashes[number - 1] = header.parent_hash
        return reorg

    def reconcile(
        self, first: int, last: int, canonical: Iterable[Log], *, at_head: bool = False
    ) -> list[Log]:
        """The canonical logs of blocks ``first..last`` (all of them, from ``eth_getLogs``):
        what to deliver so the stream matches them — the delivered logs of those blocks that
        are gone, with ``removed=True`` (first), then the canonical ones not delivered yet.
        ``at_head`` says ``last`` is the chain's head: delivered logs above it are gone too."""
        first = max(first, self.start)
        logs = sorted(
            (log for log in canonical if first <= log.block_number <= last and not log.removed),
            key=_order,
        )
        keys = {log_key(log) for log in logs}
        top = None if at_head else last
        removed: list[Log] = []
        for number in sorted(n for n in self._logs if n >= first and (top is None or n <= top)):
            block = self._logs[number]
            for key in [k for k in block if k not in keys]:
                removed.append(dataclasses.replace(block.pop(key), removed=True))
        for number in [n for n in self._hashes if n >= first and (top is None or n <= top)]:
            del self._hashes[number]
        if at_head:
            self.highest = min(self.highest, max(last, self.start - 1))
        added = []
        for log in logs:
            if log_key(log) not in self._logs.get(log.block_number, {}):
                added.append(log)
            self._record(log)
        removed.sort(key=_order)
        return removed + added
