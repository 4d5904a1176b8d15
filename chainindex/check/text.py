"""The text index of a data directory: its newest commit point and every file it names.

Lucene's ``CheckIndex`` in small: the commit point (``segments_N``) passes its checksum;
every segment it names opens and passes the checksum of its whole body
(:meth:`~chainindex.textindex.codec.compound.CompoundReader.verify`), holds the documents
the commit says; every live-docs file reads and deletes as many as the commit says. Then,
against the store: the committed block is not above the synced head and, when it is still
canonical, the index holds one document per stored log of the blocks up to it (the feed
indexes every log, decoded or not). The files are read without the writer lock: nothing is
changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chainindex.check.problems import Problems
from chainindex.logsearch.index import TEXT_INDEX_DIR
from chainindex.store.damage import TEXT_INDEX
from chainindex.textindex.codec.compound import CompoundReader
from chainindex.textindex.codec.livedocs import read_live_docs
from chainindex.textindex.commit import CommitPoint, read_latest_commit
from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import IndexCorruptError, TextIndexError

__all__ = ["TextCheck", "check_text_index", "text_index_path"]


@dataclass(frozen=True, slots=True)
class TextCheck:
    """What the check of the text index's files found."""

    docs: int
    """Live documents (logs) in the newest commit."""
    block: int | None
    """The committed block (None: nothing committed)."""
    block_hash: bytes | None
    """Its hash, when the commit recorded it."""
    sound: bool
    """Whether every file checked out."""


def text_index_path(datadir: str | Path) -> Path:
    """Where a data directory's text index lives."""
    return Path(datadir) / TEXT_INDEX_DIR


def _segment_docs(directory: Directory, commit: CommitPoint, *, full: bool) -> int:
    """Live documents of the commit's segments, each checked (``full``: whole checksums)."""
    docs = 0
    for info in commit.segments:
        reader = CompoundReader(directory.file(directory.segment_file(info.name)))
        if full:
            reader.verify()
        if int(reader.meta.get("max_doc", -1)) != info.max_doc:
            raise IndexCorruptError(f"segment {info.name} holds another document count")
        del reader  # unmapped
        if info.del_gen:
            live = read_live_docs(
                directory.file(directory.live_docs_file(info.name, info.del_gen)), info.max_doc
            )
            if int((~live).sum()) != info.del_count:
                raise IndexCorruptError(f"segment {info.name}: deletions do not match the commit")
        docs += info.max_doc - info.del_count
    return docs


def check_text_index(
    datadir: str | Path, tail: int | None, problems: Problems, *, full: bool = True
) -> TextCheck | None:
    """Check the files of the data directory's text index (None: it has none); problems
    name the blocks ``tail`` .. the committed block."""
    path = text_index_path(datadir)
    if not path.is_dir():
        return None
    directory = Directory(path, create=False)
    try:
        commit = read_latest_commit(directory)
    except (IndexCorruptError, OSError):
        problems.add(TEXT_INDEX, None, None, "the commit point is damaged")
        return TextCheck(0, None, None, False)
    if commit is None:
        return TextCheck(0, None, None, True)
    block = commit.user_data.get("block")
    number = None if block is None else int(block)
    raw_hash = commit.user_data.get("hash")
    block_hash = None if raw_hash is None else bytes.fromhex(raw_hash[2:])
    try:
        docs = _segment_docs(directory, commit, full=full)
    except (TextIndexError, OSError, ValueError):
        first = tail if number is not None else None
        problems.add(TEXT_INDEX, first, number, "a segment of the newest commit is damaged")
        return TextCheck(0, number, block_hash, False)
    return TextCheck(docs, number, block_hash, True)
