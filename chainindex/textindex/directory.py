"""The folder a text index lives in: file names, the writer lock, durable renames.

Files (all in one folder, ``DATADIR/textindex/`` for the service):

================================  =================================================
``segments_<gen>``                commit point of generation ``gen`` (the newest wins)
``<segment>.seg``                 a segment (compound file), immutable
``<segment>_<delgen>.liv``        deletions of a segment, generation ``delgen``
``write.lock``                    held (``flock``) by the one writer
``*.tmp``                         being written; never read, removed at open
================================  =================================================
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from pathlib import Path
from typing import BinaryIO

from chainindex.textindex.errors import IndexLockedError, TextIndexError

__all__ = ["Directory", "WriteLock"]

_OURS = re.compile(r"^(segments_\d+|_[0-9a-z]+\.seg|_[0-9a-z]+_\d+\.liv|.*\.tmp)$")


class WriteLock:
    """An exclusive ``flock`` on ``write.lock``: one writer per index, across processes."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO | None = path.open("ab")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise IndexLockedError(
                f"text index {path.parent} is open for writing by another process"
            ) from None

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class Directory:
    """File naming and durable file operations in the index folder."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        """The index folder."""
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_dir():
            raise TextIndexError(f"no text index at {self.path}")

    def lock(self) -> WriteLock:
        """Take the writer lock (fails at once if another writer holds it)."""
        return WriteLock(self.path / "write.lock")

    def segment_file(self, name: str) -> str:
        """File name of a segment."""
        return f"{name}.seg"

    def live_docs_file(self, name: str, generation: int) -> str:
        """File name of a segment's deletions of a generation."""
        return f"{name}_{generation}.liv"

    def file(self, name: str) -> Path:
        """Path of a file in the folder."""
        return self.path / name

    def index_files(self) -> list[str]:
        """Every file of ours in the folder (commit points, segments, live docs, temporaries)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if _OURS.match(n))

    def sync(self) -> None:
        """fsync the folder itself, so that renames and new names are durable."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def delete(self, names: list[str]) -> None:
        """Remove files (already gone is fine)."""
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path / name)

    def size_bytes(self) -> int:
        """Total size of the index files."""
        total = 0
        for name in self.index_files():
            with contextlib.suppress(FileNotFoundError):
                total += (self.path / name).stat().st_size
        return total
