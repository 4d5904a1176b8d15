"""Commit points: the durable list of an index's segments (Lucene's ``segments_N``).

A commit point names every segment of the index with its deletion generation, the next
segment number, and the user's data (the service keeps the last block durably indexed
there). Committing is::

    write segments_<N>.tmp  →  fsync it  →  rename to segments_<N>  →  fsync the folder

then (and only then) the files of older commits are deleted. A crash at any step leaves
either the previous commit or the new one complete: readers and writers open the newest
``segments_<N>`` and never look at ``.tmp`` files. Each commit point carries a checksum;
one that fails it is an error, never silently skipped.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import IndexCorruptError

__all__ = [
    "CommitPoint",
    "SegmentCommitInfo",
    "commit_generations",
    "read_latest_commit",
    "write_commit",
]

_MAGIC = b"LFTICMT\x01"
_CRC = struct.Struct("<I")
_NAME = re.compile(r"^segments_(\d+)$")


@dataclass(frozen=True, slots=True)
class SegmentCommitInfo:
    """One segment as a commit records it."""

    name: str
    """Segment name (``_<n>`` in base 36)."""
    max_doc: int
    """Documents in the segment."""
    del_gen: int
    """Generation of its live-docs file; 0 when it has no deletions."""
    del_count: int
    """Deleted documents."""


@dataclass(frozen=True, slots=True)
class CommitPoint:
    """A durable state of the index."""

    generation: int
    """The ``N`` of ``segments_N``; 0 for an index never committed."""
    counter: int
    """Next segment number."""
    segments: tuple[SegmentCommitInfo, ...] = ()
    """Segments in order."""
    user_data: dict[str, str] = field(default_factory=dict)
    """The caller's data, committed atomically with the segments."""

    def file_name(self) -> str:
        """The commit point's own file."""
        return f"segments_{self.generation}"

    def files(self, directory: Directory) -> set[str]:
        """Every file this commit needs."""
        names = {self.file_name()}
        for info in self.segments:
            names.add(directory.segment_file(info.name))
            if info.del_gen:
                names.add(directory.live_docs_file(info.name, info.del_gen))
        return names


def _encode(commit: CommitPoint) -> bytes:
    body = orjson.dumps(
        {
            "generation": commit.generation,
            "counter": commit.counter,
            "segments": [[s.name, s.max_doc, s.del_gen, s.del_count] for s in commit.segments],
            "user_data": commit.user_data,
        }
    )
    payload = _MAGIC + body
    return payload + _CRC.pack(zlib.crc32(payload))


def _decode(raw: bytes, where: str) -> CommitPoint:
    if len(raw) < len(_MAGIC) + _CRC.size or not raw.startswith(_MAGIC):
        raise IndexCorruptError(f"{where}: not a text-index commit point")
    if zlib.crc32(raw[:-4]) != _CRC.unpack(raw[-4:])[0]:
        raise IndexCorruptError(f"{where}: damaged commit point (checksum mismatch)")
    try:
        data: dict[str, Any] = orjson.loads(raw[len(_MAGIC) : -4])
        segments = tuple(
            SegmentCommitInfo(str(n), int(m), int(g), int(c)) for n, m, g, c in data["segments"]
        )
        user = {str(k): str(v) for k, v in data["user_data"].items()}
        return CommitPoint(int(data["generation"]), int(data["counter"]), segments, user)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise IndexCorruptError(f"{where}: unreadable commit point") from None


def commit_generations(directory: Directory) -> list[int]:
    """Generations of the commit points in the folder, ascending."""
    gens = []
    for name in directory.index_files():
        match = _NAME.match(name)
        if match:
            gens.append(int(match.group(1)))
    return sorted(gens)


def read_latest_commit(directory: Directory) -> CommitPoint | None:
    """The newest commit point, or ``None`` for an empty folder."""
    gens = commit_generations(directory)
    if not gens:
        return None
    name = f"segments_{gens[-1]}"
    try:
        raw = directory.file(name).read_bytes()
    except FileNotFoundError:
        raise  # deleted between listing and reading: the caller retries
    commit = _decode(raw, str(directory.file(name)))
    if commit.generation != gens[-1]:
        raise IndexCorruptError(f"{directory.file(name)}: generation mismatch")
    return commit


def write_commit(directory: Directory, commit: CommitPoint) -> None:
    """Write a commit point atomically and durably (the steps in the module docstring)."""
    final = directory.file(commit.file_name())
    tmp = directory.file(commit.file_name() + ".tmp")
    with tmp.open("wb") as f:
        f.write(_encode(commit))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    directory.sync()
