"""The key-value protocol every store implements.

Keys and values are bytes; keys sort bytewise. A store offers point reads, ordered range
scans, atomic write batches and consistent read snapshots. Calls block: async code runs them
in a thread pool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

__all__ = ["KeyValueReader", "KeyValueStore", "WriteBatch"]


class KeyValueReader(Protocol):
    """Read access: to a live store, or to a snapshot of one."""

    def get(self, key: bytes) -> bytes | None:
        """The value under ``key``, or None."""
        ...

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """``(key, value)`` pairs with ``start <= key < stop`` (no upper bound if ``stop`` is
        None), ascending, or descending when ``reverse``."""
        ...


class WriteBatch(Protocol):
    """Writes collected to be applied all at once, or not at all."""

    def put(self, key: bytes, value: bytes) -> None:
        """Set ``key`` to ``value``."""
        ...

    def delete(self, key: bytes) -> None:
        """Remove ``key`` (no error if absent)."""
        ...


class KeyValueStore(KeyValueReader, Protocol):
    """A whole store: reads, atomic batches, snapshots."""

    def batch(self) -> AbstractContextManager[WriteBatch]:
        """A batch applied atomically when the ``with`` block exits normally; discarded, with
        nothing written, when it raises."""
        ...

    def snapshot(self) -> AbstractContextManager[KeyValueReader]:
        """A reader that sees the store as it was when the snapshot was taken."""
        ...

    def close(self) -> None:
        """Release the store; further use is an error."""
        ...


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: unbounded)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
