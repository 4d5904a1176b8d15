"""The backup copy (:mod:`chainindex.store.backup`) on real LevelDB and a real text index:
the copy equals the snapshot whatever is written meanwhile, batches stay bounded, the text
index's newest commit survives a newer commit deleting its files, and a failed or stopped
backup leaves nothing at the target."""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.errors import BackupError
from chainindex.store import LevelDBStore, open_datadir
from chainindex.store.backup import BackupProgress, backup_datadir, check_target
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import NoMergePolicy
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.writer import IndexWriter, WriterConfig
from tests.chainindex.reference import dump

SCHEMA = b"meta/schema"
_dirs = itertools.count()

pairs = st.dictionaries(
    st.binary(min_size=1, max_size=40).filter(lambda k: k != SCHEMA),
    st.binary(max_size=300),
    max_size=120,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=pairs, batch=st.integers(1, 2000))
def test_the_copy_holds_every_key_in_bounded_batches(
    tmp_path: Path, data: dict[bytes, bytes], batch: int
) -> None:
    root = tmp_path / str(next(_dirs))
    root.mkdir()
    store = open_datadir(root / "dd")  # stamps meta/schema
    with store.batch() as b:
        for key, value in data.items():
            b.put(key, value)
    expected = dump_open(store)
    seen: list[BackupProgress] = []
    try:
        result = backup_datadir(store, root / "dd", root / "out", batch_bytes=batch,
                                progress=seen.append)  # fmt: skip
    finally:
        store.close()
    assert dump(root / "out") == expected
    assert result.keys == len(expected)
    assert result.bytes == sum(len(k) + len(v) for k, v in expected.items())
    assert result.head is None
    largest = max(len(k) + len(v) for k, v in expected.items())
    steps = [
        b.bytes - a.bytes for a, b in zip([BackupProgress(0, 0), *seen[:-1]], seen, strict=True)
    ]
    assert all(step < batch + largest for step in steps)
    assert seen[-1] == BackupProgress(result.keys, result.bytes)
    assert sorted(os.listdir(root)) == ["dd", "out"]


def dump_open(store: LevelDBStore) -> dict[bytes, bytes]:
    return dict(store.iterate(b""))


def test_writes_during_the_copy_are_not_in_it(tmp_path: Path) -> None:
    store = open_datadir(tmp_path / "dd")
    with store.batch() as b:
        for i in range(2000):
            b.put(b"k%05d" % i, b"v" * 100)
    before = dump_open(store)
    written = []

    def write_meanwhile(progress: BackupProgress) -> None:
        with store.batch() as b:  # a commit of the running service, mid-copy
            b.put(b"k%05d" % progress.keys, b"changed")
            b.put(b"new%05d" % progress.keys, b"x")
            b.delete(b"k00000")
        written.append(progress.keys)

    try:
        backup_datadir(store, tmp_path / "dd", tmp_path / "out", batch_bytes=10_000,
                       progress=write_meanwhile)  # fmt: skip
    finally:
        store.close()
    assert len(written) > 5
    assert dump(tmp_path / "out") == before
    assert dump(tmp_path / "dd") != before


def doc(i: int) -> Document:
    return Document(keywords=[("id", str(i))], points=[("n", i)], stored=str(i).encode())


def test_the_text_index_copy_is_its_newest_commit_even_when_a_newer_one_deletes_its_files(
    tmp_path: Path,
) -> None:
    store = open_datadir(tmp_path / "dd")
    with store.batch() as b:
        for i in range(300):
            b.put(b"k%05d" % i, b"v" * 100)
    config = WriterConfig(background_merges=False, merge_policy=NoMergePolicy)
    writer = IndexWriter(tmp_path / "dd" / "textindex", config)
    for part in range(3):
        writer.add_documents(doc(i) for i in range(part * 100, part * 100 + 100))
        writer.flush()
    writer.commit({"block": "7"})
    old_files = set(os.listdir(tmp_path / "dd" / "textindex"))

    def change_the_index(progress: BackupProgress) -> None:
        if progress.keys <= 100:  # once, at the first batch: merge away every segment
            writer.add_documents(doc(i) for i in range(300, 350))
            writer.force_merge()
            writer.commit({"block": "8"})

    try:
        result = backup_datadir(store, tmp_path / "dd", tmp_path / "out", text_dirs=["textindex"],
                                batch_bytes=10_000, progress=change_the_index)  # fmt: skip
    finally:
        writer.close()
        store.close()
    live = set(os.listdir(tmp_path / "dd" / "textindex"))
    assert {n for n in old_files if n.endswith(".seg")}.isdisjoint(live)  # really deleted
    copied = set(os.listdir(tmp_path / "out" / "textindex"))
    assert copied == {n for n in old_files if n != "write.lock"}
    assert result.text_files == len(copied)
    reader = IndexReader.open(tmp_path / "out" / "textindex")
    assert reader.num_docs == 300
    assert reader.commit is not None
    assert reader.commit.user_data == {"block": "7"}


def test_an_existing_target_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = open_datadir(tmp_path / "dd")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine").write_text("keep")
    try:
        with pytest.raises(BackupError, match="already exists"):
            backup_datadir(store, tmp_path / "dd", tmp_path / "out")
        with pytest.raises(BackupError, match="no directory"):
            backup_datadir(store, tmp_path / "dd", tmp_path / "nowhere" / "out")
    finally:
        store.close()
    assert os.listdir(tmp_path / "out") == ["mine"]
    assert sorted(os.listdir(tmp_path)) == ["dd", "out"]


def test_a_stopped_backup_leaves_nothing(tmp_path: Path) -> None:
    store = open_datadir(tmp_path / "dd")
    with store.batch() as b:
        for i in range(1000):
            b.put(b"k%05d" % i, b"v" * 100)
    stop = threading.Event()

    def stop_after_two(progress: BackupProgress) -> None:
        if progress.keys >= 200:
            stop.set()

    try:
        with pytest.raises(BackupError, match="stopped"):
            backup_datadir(store, tmp_path / "dd", tmp_path / "out", batch_bytes=10_000,
                           progress=stop_after_two, stop=stop)  # fmt: skip
    finally:
        store.close()
    assert sorted(os.listdir(tmp_path)) == ["dd"]


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    store = LevelDBStore(tmp_path / "dd")
    with store.batch() as b:
        b.put(b"someone", b"else")
    try:
        with pytest.raises(BackupError, match="not a logfilter data directory"):
            backup_datadir(store, tmp_path / "dd", tmp_path / "out")
    finally:
        store.close()
    assert sorted(os.listdir(tmp_path)) == ["dd"]


def test_left_partials_are_removed_unless_a_backup_holds_them(tmp_path: Path) -> None:
    killed = tmp_path / "out.partial-abc"
    (killed / "textindex").mkdir(parents=True)
    (killed / "000001.log").write_bytes(b"x")
    running = tmp_path / "out.partial-def"
    running.mkdir()
    (tmp_path / "out.partial").mkdir()  # not ours: another name
    fd = os.open(running, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BackupError, match="another backup is writing"):
            check_target(tmp_path / "out")
        assert not killed.exists()
    finally:
        os.close(fd)
    assert check_target(tmp_path / "out") == [running]
    assert sorted(os.listdir(tmp_path)) == ["out.partial"]
