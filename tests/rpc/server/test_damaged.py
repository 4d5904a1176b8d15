"""A damaged data directory as clients and operators meet it: ``serve`` answers queries over
the damage with -32010 naming the component and blocks, and ``sync``/``serve`` refuse to
start on damaged primary data of the newest section (exit 1, one line), while they rebuild
damaged derived data there by themselves."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from eth_typing import BlockNumber

from chainindex.store import schema
from rpc.cli import main
from tests.chainindex.check.damage import (
    SYNC_ARGS,
    flip_in_table,
    get,
    put,
    synced,
    uncompressed_copy,
)
from tests.chainindex.reference import dump
from tests.fixtures import REPO, execution_apis_archive
from tests.rpc.serve import ServeProcess


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced(tmp_path_factory.mktemp("pristine") / "dd")


def _damaged_logs(pristine: Path, target: Path, block: int) -> Path:
    copy = uncompressed_copy(pristine, target)
    number = BlockNumber(block)
    flip_in_table(copy, schema.logs_key(number, get(copy, schema.canonical_hash_key(number))))
    return copy


def test_queries_over_damaged_logs_answer_32010(pristine: Path, tmp_path: Path) -> None:
    copy = _damaged_logs(pristine, tmp_path / "dd", 20)
    with ServeProcess("--datadir", str(copy), "--no-sync").start() as server:
        answer = server.request("eth_getLogs", {"fromBlock": "0x14", "toBlock": "0x14"})
        assert answer["error"] == {
            "code": -32010,
            "message": "data directory damaged (logs of blocks 20-20): run logfilter check",
            "data": {"component": "logs", "fromBlock": "0x14", "toBlock": "0x14"},
        }
        # Blocks elsewhere still answer (block 30 has one log: tests/data).
        logs = server.call("eth_getLogs", {"fromBlock": "0x1e", "toBlock": "0x1e"})
        assert len(logs) == 1


def _sync(datadir: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "rpc.cli", "sync", "--upstream", str(execution_apis_archive()),
        "--datadir", str(datadir), *SYNC_ARGS,
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=REPO, check=False
    )


def test_sync_stops_on_damaged_logs_of_the_head(pristine: Path, tmp_path: Path) -> None:
    copy = _damaged_logs(pristine, tmp_path / "dd", 48)  # above the sections (0-47)
    done = _sync(copy)
    assert done.returncode == 1
    last = done.stderr.splitlines()[-1]
    match = re.fullmatch(
        r"logfilter: data directory damaged \(logs of blocks (\d+)-(\d+)\): run logfilter check",
        last,
    )
    assert match, done.stderr
    assert int(match[1]) <= 48 <= int(match[2])
    assert "Traceback" not in done.stderr


def test_serve_refuses_damaged_logs_of_the_head(
    pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _damaged_logs(pristine, tmp_path / "dd", 48)
    status = main(["serve", "--datadir", str(copy), "--no-sync", "--port", "0"])
    err = capsys.readouterr().err
    assert status == 1
    assert re.search(r"logfilter: data directory damaged \(logs of blocks \d+-\d+\)", err)


def test_sync_rebuilds_a_damaged_newest_section(
    pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "dd"
    subprocess.run(["cp", "-r", str(pristine), str(copy)], check=True)
    head = get(copy, schema.section_head_key(5))
    put(copy, schema.bloom_bits_key(3, 5, head), None)
    archive = str(execution_apis_archive())
    status = main(["sync", "--upstream", archive, "--datadir", str(copy), *SYNC_ARGS])
    assert status == 0
    assert "rebuilt the bloom sections and exact index" in capsys.readouterr().err
    assert dump(copy) == dump(pristine)
