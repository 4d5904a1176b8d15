"""The LevelDB (plyvel) :class:`~chainindex.store.kv.KeyValueStore` the service runs on.

Tables are written uncompressed (:data:`COMPRESSION`). Every read verifies LevelDB's block
checksums (``verify_checksums``): without it a flipped byte in an uncompressed table block is
handed out as data. A block that fails is :class:`~chainindex.errors.CorruptDataError` (no
file path in the message); the layers above name the component and blocks
(:mod:`chainindex.store.damage`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import plyvel

from chainindex.errors import CorruptDataError, DataDirLockedError, StoreError
from chainindex.store.faults import storage_fault

__all__ = ["COMPRESSION", "LevelDBStore"]

COMPRESSION: Final = None
"""LevelDB's compression of the tables this store writes: none. The snappy that plyvel's
wheels carry takes about 75 µs to expand a saturated block's logs record (40 KB, 1.7 to 1
on synthetic logs, about 2 to 1 on mainnet's), five times the 16 µs of reading it as stored,
and the query path reads one such record per block it answers from (BENCHMARKS.md, "Reading
a logs record"); the price is the disk: 1.5 to 1.6 times the bytes (measured). Tables written with
snappy by an earlier version stay readable (LevelDB marks each block), and are rewritten
uncompressed as compactions reach them. reth and Erigon likewise keep their hot tables
uncompressed (MDBX)."""


def _corrupt(err: Exception) -> CorruptDataError:
    """A LevelDB corruption as the project's error, without the file path LevelDB may name."""
    message = err.args[0] if err.args else err
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return CorruptDataError(f"LevelDB: {text.split(': /')[0]}")


def _scan(
    source: Any, start: bytes, stop: bytes | None, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """:func:`_scan_unchecked` with a damaged block as CorruptDataError."""
    try:
        yield from _scan_unchecked(source, start, stop, reverse)
    except plyvel.CorruptionError as err:
        raise _corrupt(err) from None


def _get(source: Any, key: bytes) -> bytes | None:
    try:
        value: bytes | None = source.get(key, verify_checksums=True)
    except plyvel.CorruptionError as err:
        raise _corrupt(err) from None
    return value


def _scan_unchecked(
    source: Any, start: bytes, stop: bytes | None, reverse: bool
) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` pairs of a plyvel database or snapshot with ``start <= key < stop``.

    A reverse plyvel iterator given both bounds yields nothing when exactly one key lies
    between them (plyvel 1.5.1), so reverse scans pass only the upper bound to plyvel and
    stop at ``start`` themselves.
    """
    if not reverse:
        with source.iterator(start=start, stop=stop, verify_checksums=True) as it:
            yield from it
        return
    with source.iterator(stop=stop, reverse=True, verify_checksums=True) as it:
        for key, value in it:
            if key < start:
                return
            yield key, value


class _SnapshotReader:
    """Reads through a plyvel snapshot."""

    def __init__(self, snapshot: Any) -> None:
        self._snapshot = snapshot

    def get(self, key: bytes) -> bytes | None:
        return _get(self._snapshot, key)

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return _scan(self._snapshot, start, stop, reverse)


class LevelDBStore:
    """One LevelDB database in a directory (created if missing).

    Opening fails with :class:`~chainindex.errors.DataDirLockedError` when another process
    holds the directory, and :class:`~chainindex.errors.CorruptDataError` when LevelDB finds
    it damaged. Batches are applied with ``sync`` so a commit survives power loss and
    ``kill -9`` alike. A full disk, a read-only or forbidden directory or an I/O error, on
    opening or on a batch, is a :class:`~chainindex.errors.StorageFaultError` (see
    :mod:`chainindex.store.faults`); a failed batch writes nothing.
    """

    def __init__(self, path: str | Path, *, create: bool = True, paranoid: bool = False) -> None:
        """Open ``path`` (``paranoid``: LevelDB's ``paranoid_checks``, what ``logfilter
        check`` opens with)."""
        self.path = Path(path)
        """The data directory."""
        try:
            if create:  # LevelDB ignores a failed mkdir, then reports the LOCK file missing
                self.path.mkdir(parents=True, exist_ok=True)
            self._db = plyvel.DB(
                str(self.path),
                create_if_missing=create,
                paranoid_checks=paranoid or None,
                compression=COMPRESSION,
            )
        except OSError as err:
            fault = storage_fault(err, f"open data directory {self.path}")
            if fault is not None:
                raise fault from None
            if not isinstance(err, plyvel.IOError):
                raise
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
        return _get(self._db, key)

    def iterate(
        self, start: bytes, stop: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        return _scan(self._db, start, stop, reverse)

    @contextmanager
    def batch(self) -> Iterator[Any]:
        try:
            with self._db.write_batch(transaction=True, sync=True) as batch:
                yield batch
        except OSError as err:
            fault = storage_fault(err, f"write data directory {self.path}")
            if fault is None:
                raise
            raise fault from None

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
