"""The background merge thread (Lucene's ConcurrentMergeScheduler, with one thread).

The writer asks for merges after flushes and commits (:meth:`MergeScheduler.trigger`); the
thread takes registered merges one at a time and runs them outside the writer's lock. On
close the thread is told to stop: a merge in progress aborts at its next checkpoint, its
partial file is removed, and the segments it was merging stay as they were: the index is
never left in a torn state (a merge only becomes visible when the writer swaps it in, and
durable with the next commit).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["MergeScheduler"]

log = logging.getLogger(__name__)


class MergeScheduler:
    """Runs merges on one owned thread."""

    def __init__(self, run_pending: Callable[[threading.Event], None]) -> None:
        self._run_pending = run_pending
        self._wake = threading.Event()
        self.abort = threading.Event()
        """Set when merging must stop (the writer is closing)."""
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self.errors: list[BaseException] = []
        """Errors of merges that failed (their segments were left unmerged)."""

    def trigger(self) -> None:
        """Ask for pending merges to be run (starts the thread on first use)."""
        with self._lock:
            if self.abort.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="textindex-merge", daemon=True
                )
                self._thread.start()
            self._idle.clear()
            self._wake.set()

    def _loop(self) -> None:
        while not self.abort.is_set():
            self._wake.wait()
            self._wake.clear()
            if self.abort.is_set():
                break
            try:
                self._run_pending(self.abort)
            except Exception as err:  # a failed merge must not kill the thread
                log.exception("text index merge failed")
                self.errors.append(err)
            if not self._wake.is_set():
                self._idle.set()
        self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no merge is pending or running; True if so."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop: abort the running merge and join the thread."""
        with self._lock:
            self.abort.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join()
