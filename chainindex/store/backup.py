"""A consistent copy of a data directory while it is in use (``logfilter backup``).

The store is copied from one LevelDB snapshot (LevelDB's ``doc/index.md``, "Snapshots":
a consistent read-only view while writes go on), iterated key by key in order into a new
LevelDB, in batches of a bounded size: memory is bounded by the batch size, not by the
database. The text index folders (``textindex/``) are copied as Lucene's
``SnapshotDeletionPolicy`` makes a backup possible: the files of the newest commit point
are held while they are copied. Here they are held by opening them all first (segments and
live-docs files never change once written, and an open file outlives its deletion on
POSIX), retrying if a newer commit deleted one between the listing and the opening. The
text index is captured *before* the store's snapshot is taken, so it is never ahead of the
store's copy (a reorg in between aside); the text feed repairs an index that is behind or
diverged when the copy is opened by a syncing service.

Everything is written under ``<out>.partial-<random>`` beside the target (held with an
exclusive ``flock`` on that folder while it is written), fsynced file by file, then renamed
to ``<out>`` and the parent folder fsynced: the target appears complete or not at all. A
failure removes the partial folder; a ``kill -9`` leaves it, and the next backup to the
same target removes it (one whose lock is free: a backup still running holds its own).
A full disk or a read-only or forbidden target is one
:class:`~chainindex.errors.StorageFaultError` naming the backup (``cannot write backup OUT:
no space left on device``).

Differs from Lucene's policy in holding open files instead of deferring deletions in the
writer, and from a LevelDB checkpoint (RocksDB's ``Checkpoint``, hard links to the SST
files) in writing a fresh, compacted database that works across file systems.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from chainindex.errors import BackupError, StorageFaultError
from chainindex.store.faults import relabel, storage_fault
from chainindex.store.kv import KeyValueReader, KeyValueStore
from chainindex.store.leveldb import LevelDBStore
from chainindex.store.schema import META_HEAD, SCHEMA_KEY, decode_block_ref, meta_key
from chainindex.textindex.commit import read_latest_commit
from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import TextIndexError

__all__ = [
    "DEFAULT_BATCH_BYTES",
    "BackupProgress",
    "BackupResult",
    "backup_datadir",
    "check_target",
]

DEFAULT_BATCH_BYTES = 8 << 20
"""Keys and values written per batch of the copy (the memory a backup holds)."""

PARTIAL = ".partial-"
"""What a partial copy's folder name adds to the target's."""

_OPEN_TRIES = 50
"""Attempts at opening a text index's newest commit before giving up (each fails only if a
newer commit deleted a file between the listing and the opening)."""


@dataclass(frozen=True, slots=True)
class BackupProgress:
    """How far a copy has come (reported after every batch)."""

    keys: int
    """Keys copied."""
    bytes: int
    """Bytes of keys and values copied."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A finished backup."""

    out: Path
    """The new data directory."""
    keys: int
    """Keys copied from the store's snapshot."""
    bytes: int
    """Bytes of keys and values copied."""
    head: int | None
    """The synced head in the snapshot (None: no block synced)."""
    text_files: int
    """Text-index files copied (0: none, or no text index)."""
    text_bytes: int
    """Their bytes."""


def _partials(out: Path) -> list[Path]:
    try:
        names = os.listdir(out.parent)
    except FileNotFoundError:
        return []
    prefix = out.name + PARTIAL
    return sorted(out.parent / n for n in names if n.startswith(prefix))


@contextlib.contextmanager
def _folder_lock(path: Path) -> Iterator[bool]:
    """An exclusive ``flock`` on a folder, if free (yields whether it was taken)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def check_target(out: Path) -> list[Path]:
    """Check that a backup can be written to ``out`` (absolute): it does not exist, its parent
    is a folder, no other backup is writing it. Removes the partial copies that earlier
    backups left (killed ones) and returns them."""
    if out.exists() or out.is_symlink():
        raise BackupError(f"{out} already exists: a backup goes to a new directory")
    if not out.parent.is_dir():
        raise BackupError(f"cannot write a backup to {out}: no directory {out.parent}")
    removed = []
    for partial in _partials(out):
        with _folder_lock(partial) as free:
            if not free:
                raise BackupError(f"another backup is writing {out} (into {partial})")
            shutil.rmtree(partial)
            removed.append(partial)
    return removed


def _open_commit_files(folder: Path) -> dict[str, BinaryIO]:
    """The files of the newest commit of the text index in ``folder``, open for reading."""
    directory = Directory(folder, create=False)
    for _ in range(_OPEN_TRIES):
        files: dict[str, BinaryIO] = {}
        try:
            commit = read_latest_commit(directory)
            if commit is None:
                return {}
            for name in sorted(commit.files(directory)):
                files[name] = directory.file(name).open("rb")
            return files
        except FileNotFoundError:  # a newer commit deleted it: take that one
            for f in files.values():
                f.close()
    raise TextIndexError(f"the text index {folder} kept changing; try the backup again")


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (folders after their entries)."""
    for folder, _, names in os.walk(root, topdown=False):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Copier:
    """One copy: a snapshot's keys into a new store, then held text-index files."""

    def __init__(
        self,
        batch_bytes: int,
        progress: Callable[[BackupProgress], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.batch_bytes = max(1, batch_bytes)
        self.progress = progress
        self.stop = stop
        self.keys = 0
        self.bytes = 0
        self.text_files = 0
        self.text_bytes = 0

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise BackupError("the backup was stopped before it completed")

    def store(self, snapshot: KeyValueReader, target: KeyValueStore) -> None:
        pending: list[tuple[bytes, bytes]] = []
        size = 0
        for key, value in snapshot.iterate(b""):
            pending.append((key, value))
            size += len(key) + len(value)
            if size >= self.batch_bytes:
                self._write(target, pending, size)
                pending, size = [], 0
        if pending:
            self._write(target, pending, size)

    def _write(self, target: KeyValueStore, pairs: list[tuple[bytes, bytes]], size: int) -> None:
        self._check_stop()
        with target.batch() as batch:
            for key, value in pairs:
                batch.put(key, value)
        self.keys += len(pairs)
        self.bytes += size
        if self.progress is not None:
            self.progress(BackupProgress(self.keys, self.bytes))

    def files(self, files: dict[str, BinaryIO], folder: Path) -> None:
        folder.mkdir()
        for name, source in files.items():
            self._check_stop()
            with (folder / name).open("wb") as f:
                shutil.copyfileobj(source, f, 1 << 20)
                self.text_bytes += f.tell()
            self.text_files += 1


def backup_datadir(
    store: KeyValueStore,
    datadir: str | Path,
    out: str | Path,
    *,
    text_dirs: Sequence[str] = (),
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: Callable[[BackupProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> BackupResult:
    """Copy the data directory ``datadir`` (whose open store is ``store``) to ``out``, a new
    directory, as the module docstring says. ``text_dirs`` are the text-index folders
    (relative to ``datadir``) to copy when present; ``progress`` is called after every batch;
    setting ``stop`` ends the copy with :class:`~chainindex.errors.BackupError` at the next
    batch. Blocks: call it on a thread pool from async code."""
    target = Path(out).absolute()
    check_target(target)
    try:
        return _backup(store, datadir, target, text_dirs, batch_bytes, progress, stop)
    except StorageFaultError as err:  # met in the partial copy: name the backup
        raise relabel(err, f"write backup {target}") from None
    except OSError as err:
        fault = storage_fault(err, f"write backup {target}")
        if fault is None:
            raise
        raise fault from None


def _backup(
    store: KeyValueStore,
    datadir: str | Path,
    target: Path,
    text_dirs: Sequence[str],
    batch_bytes: int,
    progress: Callable[[BackupProgress], None] | None,
    stop: threading.Event | None,
) -> BackupResult:
    partial = Path(tempfile.mkdtemp(prefix=target.name + PARTIAL, dir=target.parent))
    try:
        with _folder_lock(partial):
            result = _copy(store, Path(datadir), partial, target, text_dirs, batch_bytes,
                           progress, stop)  # fmt: skip
            _fsync_tree(partial)
            if target.exists():
                raise BackupError(f"{target} was created while the backup was written")
            os.rename(partial, target)
        _fsync_tree_parent(target)
        return result
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _copy(
    store: KeyValueStore,
    datadir: Path,
    partial: Path,
    target: Path,
    text_dirs: Sequence[str],
    batch_bytes: int,
    progress: Callable[[BackupProgress], None] | None,
    stop: threading.Event | None,
) -> BackupResult:
    copier = _Copier(batch_bytes, progress, stop)
    held: dict[str, dict[str, BinaryIO]] = {}
    try:
        for name in text_dirs:  # first: the text index is never ahead of the store's copy
            if (datadir / name).is_dir():
                held[name] = _open_commit_files(datadir / name)
        with store.snapshot() as snapshot:
            if snapshot.get(SCHEMA_KEY) is None:
                raise BackupError(f"{datadir} is not a logfilter data directory")
            raw_head = snapshot.get(meta_key(META_HEAD))
            copy = LevelDBStore(partial)
            try:
                copier.store(snapshot, copy)
            finally:
                copy.close()
        for name, files in held.items():
            copier.files(files, partial / name)
    finally:
        for files in held.values():
            for f in files.values():
                f.close()
    head = None if raw_head is None else int(decode_block_ref(raw_head)[0])
    return BackupResult(
        target, copier.keys, copier.bytes, head, copier.text_files, copier.text_bytes
    )


def _fsync_tree_parent(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)  # the rename itself
    finally:
        os.close(fd)
