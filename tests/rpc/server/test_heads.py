"""``newHeads`` of a data directory synced from an archive: every header field of every
block (each fork's header shape of the execution-apis chain) in geth's order; a directory
written by schema 2 still gives the fields it stored."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import orjson
import pytest

from chainindex.store import LevelDBStore, open_datadir, schema
from chainindex.store.headerrecord import decode_header
from rpc.cli import main
from rpc.server.codec import encode_head
from tests.fixtures import execution_apis_archive
from tests.rpc.server.heads import GETH_HEADER_ORDER, header_fields


def synced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    datadir = tmp_path / "dd"
    status = main(
        ["sync", "--upstream", str(execution_apis_archive()), "--datadir", str(datadir),
         "--section-size", "8", "--confirmations", "0"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    return datadir


def stored_heads(store: LevelDBStore) -> list[dict[str, str]]:
    start, stop = schema.header_range(0, 2**62)
    return [
        encode_head(decode_header(*schema.parse_header_key(key), value))
        for key, value in store.iterate(start, stop)
    ]


def archive_blocks() -> list[dict[str, Any]]:
    lines = execution_apis_archive().read_bytes().splitlines()
    return [orjson.loads(line)["block"] for line in lines]


def test_heads_are_the_archive_headers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_datadir(synced(tmp_path, capsys))
    heads = stored_heads(store)
    store.close()
    blocks = archive_blocks()
    assert heads == [header_fields(block) for block in blocks]
    for head in heads:
        assert list(head) == [name for name in GETH_HEADER_ORDER if name in head]
    assert {len(head) for head in heads} == {16, 17, 18, 21, 22}  # each fork's shape


def test_a_schema_2_directory_gives_what_it_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = synced(tmp_path, capsys)
    store = LevelDBStore(datadir)
    start, stop = schema.header_range(0, 2**62)
    with store.batch() as batch:
        for key, value in list(store.iterate(start, stop)):
            batch.put(key, b"\x01" + value[1:297])  # a format-1 record: the prefix alone
        batch.put(schema.SCHEMA_KEY, struct.pack(">I", 2))
    store.close()
    store = open_datadir(datadir)
    assert store.get(schema.SCHEMA_KEY) == struct.pack(">I", schema.SCHEMA_VERSION)
    heads = stored_heads(store)
    store.close()
    kept = ("parentHash", "logsBloom", "number", "timestamp", "hash")
    assert heads == [{name: block[name] for name in kept} for block in archive_blocks()]
