"""The LevelDB (plyvel) :class:`~chainindex.store.kv.KeyValueStore` the service runs on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plyvel

from chainindex.errors import CorruptDataError, DataDirLockedError, StoreError

__all__ = ["LevelDBStore"]


def _scan(
    source: Any, start: bytes, stop: bytes | None, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` pairs of a plyvel database or snapshot with ``start <= key < stop``.

    A reverse plyvel iterator given both bounds yields nothing when exactly one key lies
    between them (plyvel 1.5.1), so reverse scans pass only the upper bound to plyvel and
    stop at ``start`` themselves.
    """
    if not reverse:
        with source.iterator(start=start, stop=stop) as it:
            yield from it
        return
    with source.iterator(stop=stop, reverse=True) as it:
        for key, value in it:
            if key < start:
                return
            yield key, value


class _SnapshotReader:
    """Reads through a plyvel snapshot."""

    def __init__(self, snapshot: Any) -> None:
        self._snapshot = snapshot

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._snapshot.get(key)
        return value

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return _scan(self._snapshot, start, stop, reverse)


class LevelDBStore:
    """One LevelDB database in a directory (created if missing).

    Opening fails with :class:`~chainindex.errors.DataDirLockedError` when another process
    holds the directory, and :class:`~chainindex.errors.CorruptDataError` when LevelDB finds
    it damaged. Batches are applied with ``sync`` so a commit survives power loss and
    ``kill -9`` alike.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        """The data directory."""
        try:
            self._db = plyvel.DB(str(self.path), create_if_missing=create)
        except plyvel.IOError as err:
            if "lock" in str(err).lower():
                raise DataDirLockedError(
                    f"data directory {self.path} is in use by another process"
                ) from None
            raise StoreError(f"cannot open data directory {self.path}: {err}") from None
        except plyvel.CorruptionError as err:
            raise CorruptDataError(f"data directory {self.path} is corrupt: {err}") from None
        except plyvel.Error as err:
            raise StoreError(f"cannot open data directory {self.path}: {err}") from None

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._db.get(key)
        return value

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return _scan(self._db, start, stop, reverse)

    @contextmanager
    def batch(self) -> Iterator[Any]:
        with self._db.write_batch(transaction=True, sync=True) as batch:
            yield batch

    @contextmanager
    def snapshot(self) -> Iterator[_SnapshotReader]:
        snapshot = self._db.snapshot()
        try:
            yield _SnapshotReader(snapshot)
        finally:
            snapshot.close()

    def compact(self) -> None:
        """Compact the whole key range (a sealed history segment is written once, then
        compacted into its smallest, read-only form)."""
        self._db.compact_range()

    def close(self) -> None:
        self._db.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return bool(self._db.closed)
