"""Sync progress for people: a redrawn bar on a terminal, periodic lines otherwise.

:class:`ProgressReporter` receives every commit from the indexer (it is a
:class:`~chainindex.sync.indexer.SyncObserver`) and shows blocks/s and logs/s over a sliding
window, the ETA to the upstream head, and sections built. On a terminal the bar is redrawn
at most a few times a second; elsewhere (a log file, CI) one line is written every
``interval`` seconds, plus one for each reorg.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from chainindex.sync.indexer import SyncStatus

__all__ = ["ProgressReporter", "format_duration"]

_WINDOW = 10.0
_BAR = 24


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss``) of a non-negative duration."""
    s = int(seconds + 0.5)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressReporter:
    """Prints sync progress to ``stream`` (a bar if it is a terminal)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None, interval: float = 10.0) -> None:
        self.stream = stream
        """Where progress goes."""
        self.tty = stream.isatty() if tty is None else tty
        """Whether to redraw a bar in place."""
        self.interval = interval
        """Seconds between two lines when not a terminal."""
        self._samples: deque[tuple[float, int, int]] = deque([(time.monotonic(), 0, 0)])
        self._blocks = 0
        self._logs = 0
        self._last_draw = 0.0
        self._bar_shown = False

    def _rates(self, now: float) -> tuple[float, float]:
        self._samples.append((now, self._blocks, self._logs))
        while len(self._samples) > 2 and now - self._samples[0][0] > _WINDOW:
            self._samples.popleft()
        t0, b0, l0 = self._samples[0]
        dt = now - t0
        if dt <= 0:
            return 0.0, 0.0
        return (self._blocks - b0) / dt, (self._logs - l0) / dt

    def on_commit(self, status: SyncStatus, blocks: int, logs: int) -> None:
        """A commit of ``blocks`` blocks holding ``logs`` logs."""
        self._blocks += blocks
        self._logs += logs
        now = time.monotonic()
        blocks_rate, logs_rate = self._rates(now)
        if now - self._last_draw < (0.2 if self.tty else self.interval):
            return
        self._last_draw = now
        self._draw(status, blocks_rate, logs_rate)

    def _draw(self, status: SyncStatus, blocks_rate: float, logs_rate: float) -> None:
        head = status.synced_head if status.synced_head is not None else -1
        target = max(status.upstream_head or 0, head)
        start = status.tail or 0
        total = max(target - start + 1, 1)
        done = max(head - start + 1, 0)
        fraction = min(done / total, 1.0)
        remaining = target - head
        eta = format_duration(remaining / blocks_rate) if blocks_rate > 0 and remaining > 0 else "-"
        text = (
            f"{head:,}/{target:,} blocks {fraction:6.1%} · {blocks_rate:,.0f} blocks/s · "
            f"{logs_rate:,.0f} logs/s · ETA {eta} · {status.sections} sections"
        )
        if self.tty:
            filled = int(fraction * _BAR)
            bar = "█" * filled + "·" * (_BAR - filled)
            self.stream.write(f"\r\x1b[2Ksync [{bar}] {text}")
            self._bar_shown = True
        else:
            self.stream.write(f"sync: {text}\n")
        self.stream.flush()

    def on_reorg(self, ancestor: int, removed: int, added: int) -> None:
        """A reorg above block ``ancestor``: ``removed`` blocks replaced by ``added``."""
        self._message(f"reorg: {removed} blocks above {ancestor:,} replaced by {added}")

    def on_section(self, section: int) -> None:
        """Section ``section`` was built (not printed: the bar counts sections)."""

    def _message(self, text: str) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[2K")
            self._bar_shown = False
        self.stream.write(f"sync: {text}\n")
        self.stream.flush()

    def finish(self, status: SyncStatus) -> None:
        """Print the final state."""
        now = time.monotonic()
        blocks_rate, logs_rate = self._rates(now)
        self._draw(status, blocks_rate, logs_rate)
        if self.tty:
            self.stream.write("\n")
            self._bar_shown = False
        self.stream.flush()
