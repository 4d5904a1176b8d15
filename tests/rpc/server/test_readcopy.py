"""Read-only copies of sealed segments (real LevelDB): table files are hard links to the
originals, the copy opens while the original is open in this process (its own LOCK), answers
the same, and removing it leaves the original whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainindex.segments.history import SegmentHistory
from chainindex.segments.manifest import read_manifest, segment_dir
from chainindex.store.reader import ChainReader, ChainView
from chainindex.types import Header
from rpc.server.readcopy import READERS_DIR, ReadCopies, clear_stale
from tests.chainindex.segments.chain import SEALED_TO, backfill


@pytest.fixture(scope="module")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readcopy") / "dd"
    backfill(path)
    return path


def _headers(reader: ChainReader, first: int, last: int) -> list[Header | None]:
    def read(view: ChainView) -> list[Header | None]:
        return [view.header(n) for n in range(first, last + 1)]

    return reader.view_sync(read)


def test_copies_link_tables_and_open_beside_the_original(datadir: Path) -> None:
    manifest = read_manifest(datadir)
    assert manifest is not None
    original = SegmentHistory.open(datadir)  # holds every segment's LOCK
    assert original is not None
    try:
        with ReadCopies(datadir) as copies:
            assert copies.path == datadir / READERS_DIR / str(os.getpid())
            tables = 0
            for seal in manifest.segments:
                source = segment_dir(datadir, seal.first, seal.last)
                copy = segment_dir(copies.path, seal.first, seal.last)
                for entry in source.iterdir():
                    if entry.suffix == ".ldb":
                        tables += 1
                        assert (copy / entry.name).stat().st_ino == entry.stat().st_ino
                assert (copy / "SEALED.json").read_bytes() == (source / "SEALED.json").read_bytes()
                assert (copy / "CURRENT").stat().st_ino != (source / "CURRENT").stat().st_ino
            assert tables >= len(manifest.segments)
            history = SegmentHistory.open(copies.path)
            assert history is not None
            try:
                assert history.last == SEALED_TO
                for mine, theirs in zip(history.segments, original.segments, strict=True):
                    first, last = mine.seal.first, mine.seal.last
                    assert _headers(mine.reader, first, last) == _headers(
                        theirs.reader, first, last
                    )
            finally:
                history.close()
        assert not (datadir / READERS_DIR).exists()
        for segment in original.segments:  # the originals still read whole
            assert _headers(segment.reader, segment.seal.last, segment.seal.last)[0] is not None
    finally:
        original.close()


def test_clear_stale_removes_what_a_killed_reader_left(datadir: Path) -> None:
    left = datadir / READERS_DIR / "12345" / "segments" / "0-255"
    left.mkdir(parents=True)
    (left / "000005.ldb").write_bytes(b"x")
    clear_stale(datadir)
    assert not (datadir / READERS_DIR).exists()
    assert read_manifest(datadir) is not None
