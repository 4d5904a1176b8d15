"""The key-value protocol on a real LevelDB, with the in-memory store held to the same
behaviour (a reference model: a plain dict, sorted on demand)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import plyvel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.errors import DataDirLockedError
from chainindex.store import KeyValueStore, LevelDBStore, MemoryStore
from chainindex.store.kv import prefix_end


@pytest.fixture(params=["leveldb", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyValueStore]:
    kv: KeyValueStore = (
        LevelDBStore(tmp_path / "db") if request.param == "leveldb" else MemoryStore()
    )
    yield kv
    kv.close()


def test_put_get_delete(store: KeyValueStore) -> None:
    with store.batch() as batch:
        batch.put(b"a", b"1")
        batch.put(b"b", b"2")
    assert store.get(b"a") == b"1"
    with store.batch() as batch:
        batch.delete(b"a")
        batch.delete(b"missing")
    assert store.get(b"a") is None
    assert store.get(b"b") == b"2"


def test_range_scans(store: KeyValueStore) -> None:
    keys = [bytes([i, j]) for i in range(4) for j in (0, 128, 255)]
    with store.batch() as batch:
        for k in keys:
            batch.put(k, k * 2)
    assert [k for k, _ in store.iterate(b"\x01", b"\x03")] == keys[3:9]
    assert [k for k, _ in store.iterate(b"\x02\x80")] == keys[7:]
    assert [k for k, _ in store.iterate(b"\x01", b"\x02", reverse=True)] == keys[5:2:-1]
    assert all(v == k * 2 for k, v in store.iterate(b""))


def test_reverse_scan_of_a_range_holding_one_key(store: KeyValueStore) -> None:
    # plyvel 1.5.1 yields nothing for this when given both bounds in reverse.
    with store.batch() as batch:
        batch.put(b"a", b"1")
        batch.put(b"z", b"2")
    assert list(store.iterate(b"a", b"b", reverse=True)) == [(b"a", b"1")]
    with store.snapshot() as snapshot:
        assert list(snapshot.iterate(b"a", b"b", reverse=True)) == [(b"a", b"1")]


def test_batch_is_atomic_when_the_block_raises(store: KeyValueStore) -> None:
    with store.batch() as batch:
        batch.put(b"kept", b"1")

    def fail() -> None:
        with store.batch() as batch:
            batch.put(b"lost", b"1")
            batch.delete(b"kept")
            raise RuntimeError("crash in the middle of a commit")

    with pytest.raises(RuntimeError):
        fail()
    assert store.get(b"lost") is None
    assert store.get(b"kept") == b"1"


def test_snapshot_does_not_see_later_writes(store: KeyValueStore) -> None:
    with store.batch() as batch:
        batch.put(b"k", b"old")
    with store.snapshot() as snap:
        with store.batch() as batch:
            batch.put(b"k", b"new")
            batch.put(b"k2", b"x")
        assert snap.get(b"k") == b"old"
        assert [k for k, _ in snap.iterate(b"")] == [b"k"]
    assert store.get(b"k") == b"new"


ops = st.lists(
    st.tuples(st.booleans(), st.binary(min_size=1, max_size=3), st.binary(max_size=3)),
    max_size=30,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(ops, max_size=5), st.binary(max_size=2), st.binary(max_size=2))
def test_batches_and_scans_match_a_dict(
    store: KeyValueStore, batches: list[list[tuple[bool, bytes, bytes]]], lo: bytes, hi: bytes
) -> None:
    # Start from an empty store each example.
    with store.batch() as batch:
        for key, _ in list(store.iterate(b"")):
            batch.delete(key)
    model: dict[bytes, bytes] = {}
    for ops_ in batches:
        with store.batch() as batch:
            for is_put, key, value in ops_:
                if is_put:
                    batch.put(key, value)
                    model[key] = value
                else:
                    batch.delete(key)
                    model.pop(key, None)
    expected = sorted((k, v) for k, v in model.items() if lo <= k < hi)
    assert list(store.iterate(lo, hi)) == expected
    assert list(store.iterate(lo, hi, reverse=True)) == expected[::-1]


def test_reopen_after_close_keeps_data(tmp_path: Path) -> None:
    store = LevelDBStore(tmp_path / "db")
    with store.batch() as batch:
        batch.put(b"persisted", b"yes")
    store.close()
    reopened = LevelDBStore(tmp_path / "db")
    assert reopened.get(b"persisted") == b"yes"
    reopened.close()


def test_second_opener_gets_a_clear_lock_error(tmp_path: Path) -> None:
    store = LevelDBStore(tmp_path / "db")
    try:
        with pytest.raises(DataDirLockedError, match="in use by another process"):
            LevelDBStore(tmp_path / "db")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("prefix", "end"),
    [(b"a", b"b"), (b"a\xff", b"b"), (b"\xff\xff", None), (b"ab\x00", b"ab\x01")],
)
def test_prefix_end(prefix: bytes, end: bytes | None) -> None:
    assert prefix_end(prefix) == end


def _table_bytes(path: Path) -> int:
    return sum(table.stat().st_size for table in path.glob("*.ldb"))


def test_tables_are_written_uncompressed(tmp_path: Path) -> None:
    """A value that snappy would shrink to almost nothing takes its whole size on disk."""
    store = LevelDBStore(tmp_path / "db")
    with store.batch() as batch:
        for i in range(4):
            batch.put(bytes([i]), bytes(256 << 10))
    store.compact()
    store.close()
    assert _table_bytes(tmp_path / "db") >= 4 * (256 << 10)


def test_tables_written_with_snappy_stay_readable_and_are_rewritten(tmp_path: Path) -> None:
    """A directory whose tables an earlier version wrote with snappy: read as before, and
    uncompressed once a compaction rewrites them."""
    path = tmp_path / "db"
    old = plyvel.DB(str(path), create_if_missing=True, compression="snappy")
    for i in range(4):
        old.put(bytes([i]), bytes(256 << 10))
    old.compact_range()
    old.close()
    assert _table_bytes(path) < 256 << 10  # snappy did shrink them
    store = LevelDBStore(path)
    assert [store.get(bytes([i])) for i in range(4)] == [bytes(256 << 10)] * 4
    with store.batch() as batch:  # overwritten: the compaction writes new tables
        for i in range(4):
            batch.put(bytes([i]), bytes([i]) * (256 << 10))
    store.compact()
    assert [store.get(bytes([i])) for i in range(4)] == [bytes([i]) * (256 << 10) for i in range(4)]
    store.close()
    assert _table_bytes(path) >= 4 * (256 << 10)
