"""How ``logfilter sync`` fails on a damaged archive or before syncing anything, and what it
leaves behind: every good block committed, the real line named, no empty data directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from rpc.cli import main
from tests.fixtures import execution_apis_archive


def _lines() -> list[bytes]:
    return execution_apis_archive().read_bytes().splitlines()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout, and the last line of stderr (progress lines come before it)."""
    status = main(list(argv), environ={})
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err.splitlines()[-1] + "\n" if err else ""


def _head(datadir: Path) -> int | None:
    store = open_datadir(datadir)
    try:
        head = asyncio.run(ChainReader(store).state()).head
    finally:
        store.close()
    return None if head is None else head.number


@pytest.mark.parametrize("batch", ["1", "8", "32"])
def test_a_cut_off_archive_syncs_every_block_before_the_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], batch: str
) -> None:
    lines = _lines()
    archive = tmp_path / "cut.jsonl"
    archive.write_bytes(b"\n".join(lines)[:-100])  # the last line (55) loses its end
    datadir = tmp_path / "dd"
    argv = ["sync", "--upstream", str(archive), "--datadir", str(datadir), "--batch-blocks", batch]
    for _ in range(2):  # and a rerun: nothing more to sync, the same clear failure
        status, out, err = _run(capsys, *argv, "--section-size", "16")
        assert status == 1
        assert err.startswith(f"logfilter: {archive}:{len(lines)}: not JSON"), err
        assert err.count("\n") == 1
        assert out == ""
        assert _head(datadir) == len(lines) - 2


def test_a_corrupt_line_mid_archive_syncs_the_blocks_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _lines()
    archive = tmp_path / "bad.jsonl"
    archive.write_bytes(b"\n".join([*lines[:29], b'{"block": 1', *lines[30:]]) + b"\n")
    datadir = tmp_path / "dd"
    argv = ["sync", "--upstream", str(archive), "--datadir", str(datadir), "--batch-blocks", "8"]
    status, _, err = _run(capsys, *argv)
    assert status == 1
    assert err.startswith(f"logfilter: {archive}:30: not JSON"), err
    assert _head(datadir) == 28  # blocks 0..28 are on lines 1..29
    # Repaired, the archive resumes from block 29.
    archive.write_bytes(b"\n".join(lines) + b"\n")
    status, out, err = _run(capsys, *argv)
    assert status == 0, err
    assert out.startswith("synced blocks 0..54")


def test_a_first_sync_that_fails_leaves_no_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = tmp_path / "new"
    missing = tmp_path / "missing.jsonl"
    status, _, err = _run(capsys, "sync", "--upstream", str(missing), "--datadir", str(datadir))
    assert status == 1
    assert "cannot read archive" in err
    assert not datadir.exists()
    # A directory that was there before stays, even empty.
    datadir.mkdir()
    status, _, _ = _run(capsys, "sync", "--upstream", str(missing), "--datadir", str(datadir))
    assert status == 1
    assert datadir.is_dir()
    # A first line that is already bad: nothing committed, nothing left.
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"block": {"number": "0x0"}}\n' + b"\n".join(_lines()[1:]) + b"\n")
    other = tmp_path / "other"
    status, _, err = _run(capsys, "sync", "--upstream", str(bad), "--datadir", str(other))
    assert status == 1
    assert f"{bad}:1:" in err, err
    assert not other.exists()


def test_search_without_a_text_index_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = tmp_path / "dd"
    archive = str(execution_apis_archive())
    assert _run(capsys, "sync", "--upstream", archive, "--datadir", str(datadir))[0] == 0
    status, _, err = _run(capsys, "search", "x", "--datadir", str(datadir))
    assert status == 1
    assert err.startswith(f"logfilter: no text index at {datadir / 'textindex'}: sync with ")
    assert "--text-index" in err
    assert err.count("\n") == 1
