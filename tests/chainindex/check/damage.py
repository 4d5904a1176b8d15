"""Damaging copies of a real synced data directory, as a failing disk would.

:func:`synced` syncs the execution-apis chain (tests/data) with ``logfilter sync`` into a
directory (sections of 8 blocks, the text index on). :func:`uncompressed_copy` copies it into
a LevelDB written without compression, so that a record's value lies as such in a table
file and :func:`flip_in_table` can flip a byte of it there: LevelDB's block checksum then
fails, as it would after a bad sector. The other helpers change records with plyvel
directly (a deleted or altered record that still passes its checksums).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import plyvel
from eth_typing import Hash32

from rpc.cli import main
from tests.fixtures import execution_apis_archive

SYNC_ARGS = ["--section-size", "8", "--confirmations", "0", "--no-follow", "--text-index"]
"""How :func:`synced` syncs: 55 blocks, 6 sections (blocks 0-47), the head index above."""


def synced(datadir: Path) -> Path:
    """``datadir`` synced from the execution-apis archive."""
    archive = str(execution_apis_archive())
    status = main(["sync", "--upstream", archive, "--datadir", str(datadir), *SYNC_ARGS])
    assert status == 0
    return datadir


def uncompressed_copy(source: Path, target: Path) -> Path:
    """``source`` (closed) copied to ``target`` with every record in uncompressed table files
    (none left in the write-ahead log), its text index as it is."""
    if (source / "textindex").is_dir():
        shutil.copytree(source / "textindex", target / "textindex")
    src = plyvel.DB(str(source))
    dst = plyvel.DB(str(target), create_if_missing=True, compression=None)
    try:
        with dst.write_batch() as batch:
            for key, value in src.iterator():
                batch.put(key, value)
        dst.compact_range()  # the memtable into a table file
    finally:
        src.close()
        dst.close()
    return target


def get(datadir: Path, key: bytes) -> Hash32:
    """The value under ``key`` (read with checksums verified), typed as a hash since the
    tests read hashes with it to build other keys."""
    db = plyvel.DB(str(datadir))
    try:
        value = db.get(key, verify_checksums=True)
    finally:
        db.close()
    assert isinstance(value, bytes)
    return Hash32(value)


def flip_in_table(datadir: Path, key: bytes) -> None:
    """Flip a byte in the middle of ``key``'s value where it lies in a table file."""
    value = get(datadir, key)
    hits = []
    for table in sorted(datadir.glob("*.ldb")):
        data = table.read_bytes()
        at = data.find(value)
        if at >= 0:
            hits.append((table, at))
    assert len(hits) == 1, f"the value lies in {len(hits)} table files"
    table, at = hits[0]
    flipped = bytearray(table.read_bytes())
    flipped[at + len(value) // 2] ^= 0x5A
    table.write_bytes(bytes(flipped))


def put(datadir: Path, key: bytes, value: bytes | None) -> None:
    """Set (None: delete) one record, as a stray write would."""
    db = plyvel.DB(str(datadir))
    try:
        if value is None:
            db.delete(key)
        else:
            db.put(key, value)
    finally:
        db.close()


def keys(datadir: Path, prefix: bytes) -> list[bytes]:
    """The keys under ``prefix``, in order."""
    db = plyvel.DB(str(datadir))
    try:
        return list(db.iterator(prefix=prefix, include_value=False))
    finally:
        db.close()
