"""Schema stamping and refusal of foreign, corrupt or incompatible data directories."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from chainindex.errors import (
    CorruptDataError,
    ForeignDataError,
    IncompatibleSchemaError,
    StoreError,
)
from chainindex.store import LevelDBStore, open_datadir, schema


def test_new_directory_is_stamped(datadir: Path) -> None:
    store = open_datadir(datadir)
    assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
    store.close()
    open_datadir(datadir).close()  # reopening a directory of the current version works


def test_other_schema_version_is_refused(datadir: Path) -> None:
    store = LevelDBStore(datadir)
    with store.batch() as batch:
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", schema.SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(IncompatibleSchemaError, match=r"schema version 5; .* reads version 4"):
        open_datadir(datadir)
    # The refusal leaves the directory usable by whoever owns it (the lock was released).
    LevelDBStore(datadir).close()


def test_a_version_1_directory_is_migrated(datadir: Path) -> None:
    store = LevelDBStore(datadir)
    with store.batch() as batch:
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", 1))
    store.close()
    open_datadir(datadir).close()
    store = LevelDBStore(datadir)
    assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
    assert store.get(schema.meta_key(schema.META_EXACT_FIRST)) is None  # nothing synced yet
    store.close()


def test_foreign_database_is_refused(datadir: Path) -> None:
    store = LevelDBStore(datadir)
    with store.batch() as batch:
        batch.put(b"LastHeader", b"\x01" * 32)  # what a geth chaindata might hold
    store.close()
    with pytest.raises(ForeignDataError, match="did not write"):
        open_datadir(datadir)
    reopened = LevelDBStore(datadir)
    assert reopened.get(schema.SCHEMA_KEY) is None  # nothing was written into it
    reopened.close()


def test_malformed_version_record_is_corrupt(datadir: Path) -> None:
    store = LevelDBStore(datadir)
    with store.batch() as batch:
        batch.put(schema.SCHEMA_KEY, b"\x01")
    store.close()
    with pytest.raises(CorruptDataError, match="malformed schema version"):
        open_datadir(datadir)


def test_plain_file_is_not_a_data_directory(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("not a database")
    with pytest.raises(StoreError, match="not a directory"):
        open_datadir(path)


def test_directory_with_garbage_files_is_an_error(datadir: Path) -> None:
    datadir.mkdir()
    (datadir / "CURRENT").write_text("MANIFEST-999999\n")
    with pytest.raises(StoreError):
        open_datadir(datadir)


def test_bloom_bits_keys_round_trip_and_sort_by_section() -> None:
    head = bytes(range(32))
    key = schema.bloom_bits_key(2047, 12345, head)  # type: ignore[arg-type]
    assert key == b"B" + (2047).to_bytes(2, "big") + (12345).to_bytes(8, "big") + head
    assert schema.parse_bloom_bits_key(key) == (2047, 12345, head)
    start, stop = schema.bloom_bits_range(2047, 12345, 12345)
    assert start <= key < stop
    later = schema.bloom_bits_key(2047, 12346, b"\x00" * 32)  # type: ignore[arg-type]
    assert stop <= later
    with pytest.raises(CorruptDataError):
        schema.parse_bloom_bits_key(key[:-1])
