"""Read-only copies of a data directory's sealed segments, one set per reader process.

LevelDB lets one process open a directory (its ``LOCK`` file), and a sealed segment is open
in the writer process of ``serve --processes N``. A sealed segment never changes (its seal
names its content hash), and LevelDB never rewrites a table file in place: it writes new
tables and deletes old ones. So a reader process gets its own copy of each segment in which
every table file (``*.ldb``, ``*.sst``) is a *hard link* to the segment's file, costing no
space and no time, and the small files (``CURRENT``, ``MANIFEST-*``, the write-ahead
``*.log``, ``SEALED.json``) are real copies; LevelDB may then write its ``LOCK``, ``LOG`` and
a new manifest into the copy without touching the original. The manifest
(``manifest.json``) is copied beside them, so that the copy is a directory that
:class:`~chainindex.segments.history.SegmentHistory` opens as it is.

:class:`ReadCopies` makes the copies under ``DATADIR/serve-readers/<pid>/`` (the same
file system, as hard links need) and removes them on exit; :func:`clear_stale` removes what a
killed reader left (the writer calls it at start: it holds the data directory's lock, so no
other ``serve`` is using them). Where hard links are refused (a file system without them),
the table files are copied.

What differs from go-ethereum: its freezer's immutable files are shared by one process
(``core/rawdb/freezer.go``); here the immutability is what lets several processes share
them, as Lucene's readers share immutable segment files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import TracebackType

from chainindex.segments.manifest import MANIFEST_NAME, read_manifest, segment_dir, write_json

__all__ = ["READERS_DIR", "ReadCopies", "clear_stale", "link_segment"]

READERS_DIR = "serve-readers"
"""The folder of ``DATADIR`` holding the reader processes' copies."""

_SKIPPED = frozenset({"LOCK", "LOG", "LOG.old"})
"""Files of a LevelDB directory a copy does without (LevelDB makes its own)."""


def _is_table(name: str) -> bool:
    return name.endswith((".ldb", ".sst"))


def link_segment(source: Path, target: Path) -> None:
    """``target`` made a copy of the segment directory ``source``: table files hard-linked
    (copied where links are refused), the other files copied."""
    target.mkdir(parents=True)
    for entry in sorted(source.iterdir()):
        if entry.name in _SKIPPED or not entry.is_file():
            continue
        destination = target / entry.name
        if _is_table(entry.name):
            try:
                os.link(entry, destination)
                continue
            except OSError:
                pass
        shutil.copyfile(entry, destination)


def clear_stale(datadir: str | Path) -> None:
    """Remove every reader copy under ``datadir`` (none is in use: see the module)."""
    shutil.rmtree(Path(datadir) / READERS_DIR, ignore_errors=True)


class ReadCopies:
    """This process's copies of ``datadir``'s sealed segments, removed on exit."""

    def __init__(self, datadir: str | Path) -> None:
        self.datadir = Path(datadir)
        """The data directory copied from."""
        self.path = self.datadir / READERS_DIR / str(os.getpid())
        """The copy: a directory with ``manifest.json`` and ``segments/`` (once entered)."""

    def __enter__(self) -> ReadCopies:
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            manifest = read_manifest(self.datadir)
            self.path.mkdir(parents=True)
            if manifest is not None:
                for seal in manifest.segments:
                    source = segment_dir(self.datadir, seal.first, seal.last)
                    link_segment(source, segment_dir(self.path, seal.first, seal.last))
                # the manifest as read (not the file again: the writer may publish a newer one)
                write_json(self.path / MANIFEST_NAME, manifest.to_json())
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove the copy (the originals are untouched: links only drop a name)."""
        shutil.rmtree(self.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # the last reader out removes the folder
