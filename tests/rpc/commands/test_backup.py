"""``logfilter backup`` as a user runs it: of an idle data directory, of one that ``serve``
or ``sync`` holds (through its admin socket) while they sync a growing chain, its one-line
errors, and ``kill -9`` mid-copy. Every backup is opened as a normal data directory by a
real ``logfilter serve --no-sync`` and answers as the original did at the backup's head."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import plyvel
import pytest

from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, node_records
from tests.chainindex.reference import assert_stored_chain
from tests.chainindex.sync.test_sync_archive import check_sections
from tests.fixtures import REPO, execution_apis_archive, hexbytes
from tests.rpc.serve import ServeProcess

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rpc.cli", *argv], cwd=REPO, env=ENV, capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip


def archive_filters() -> list[dict[str, Any]]:
    """Filters over the execution-apis chain, picked from its receipts by the test."""
    lines = execution_apis_archive().read_bytes().splitlines()
    logs = [log for line in lines for r in orjson.loads(line)["receipts"] for log in r["logs"]]
    addresses = sorted({log["address"] for log in logs})
    topics = sorted({log["topics"][0] for log in logs if log["topics"]})
    assert len(addresses) >= 2
    assert topics
    return [
        {"fromBlock": "0x0", "toBlock": "latest"},
        {"fromBlock": "0x0", "toBlock": "latest", "address": addresses[0]},
        {"fromBlock": "0x0", "toBlock": "latest", "address": addresses[:2]},
        {"fromBlock": "0x0", "toBlock": "latest", "topics": [topics[0]]},
        {"fromBlock": "0x10", "toBlock": "0x20", "topics": [topics[-1:], None]},
        {"blockHash": logs[len(logs) // 2]["blockHash"]},
    ]


def answers(server: ServeProcess, filters: list[dict[str, Any]]) -> list[Any]:
    return [server.call("eth_getLogs", f) for f in filters]


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    """A data directory synced from the execution-apis archive, with its text index."""
    datadir = tmp_path / "dd"
    done = cli("sync", "--upstream", str(execution_apis_archive()), "--datadir", str(datadir),
               "--section-size", "8", "--text-index")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return datadir


def test_backups_of_an_idle_and_of_a_served_directory_answer_as_the_original(
    synced: Path, tmp_path: Path
) -> None:
    idle = cli("backup", "--datadir", str(synced), "--out", str(tmp_path / "idle"))
    assert idle.returncode == 0, idle.stderr
    assert idle.stdout.startswith(f"backed up {synced} to {tmp_path / 'idle'} (directly): head 54")
    assert "backup: " in idle.stderr  # progress
    filters = archive_filters()
    search = {"query": "", "limit": 50}
    with ServeProcess("--no-sync", "--datadir", str(synced), "--text-index") as original:
        assert (synced / "logfilter.ipc").exists()
        assert (synced / "logfilter.ipc").stat().st_mode & 0o777 == 0o600
        held = cli("backup", "--datadir", str(synced), "--out", str(tmp_path / "held"),
                   "--batch-mb", "1")  # fmt: skip
        assert held.returncode == 0, held.stderr
        assert "(by the process holding it): head 54" in held.stdout
        assert held.stderr.count("backup: ") >= 2  # batches of 1 MiB (one value is ~10 MiB)
        expected = answers(original, filters)
        expected_search = original.call("logfilter_search", search)
    assert not (synced / "logfilter.ipc").exists()  # removed on exit
    assert sum(len(a) for a in expected) > 20
    assert expected_search["hits"]
    for copy in ("idle", "held"):
        assert sorted(os.listdir(tmp_path)) == ["dd", "held", "idle"]
        with ServeProcess("--no-sync", "--datadir", str(tmp_path / copy), "--text-index") as s:
            assert answers(s, filters) == expected, copy
            assert s.call("logfilter_search", search) == expected_search, copy


def check_backup(backup: Path, anvil: Anvil, size: int) -> int:
    """The backup is one consistent state of anvil's chain: every block tail..head as the node
    has it, every built section's vectors from those blocks' blooms. Returns the head."""
    store = open_datadir(backup)
    try:
        reader = ChainReader(store)
        state = reader.view_sync(lambda view: view.state())
        assert state.head is not None
        head = state.head.number
        records = node_records(anvil, 0, head)
        assert assert_stored_chain(reader, records) == head + 1
        blooms = {n: hexbytes(r["block"]["logsBloom"]) for n, r in enumerate(records)}
        complete = (head - 2 + 1) // size  # sections whose last block has 2 confirmations
        assert state.sections in (complete - 1, complete)  # built in the commit after
        check_sections(reader, blooms, size, state.sections)
    finally:
        store.close()
    return head


@pytest.fixture
def growing(anvil: Anvil) -> list[Any]:
    return build_chain(anvil, 20, seed=7)


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


SYNC = ["--section-size", "8", "--confirmations", "2"]


def test_backup_while_sync_follows_a_growing_chain(
    anvil: Anvil, growing: list[Any], tmp_path: Path
) -> None:
    datadir = tmp_path / "dd"
    sync = subprocess.Popen(
        [sys.executable, "-m", "rpc.cli", "sync", "--upstream", anvil.url, "--datadir",
         str(datadir), *SYNC],
        cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(datadir / "logfilter.ipc")
        heads = []
        for round_ in range(3):
            build_chain(anvil, 15, seed=round_, emitters=growing)  # the sync follows meanwhile
            done = cli("backup", "--datadir", str(datadir), "--out", str(tmp_path / f"b{round_}"))
            assert done.returncode == 0, done.stderr
            assert "(by the process holding it)" in done.stdout
            heads.append(check_backup(tmp_path / f"b{round_}", anvil, 8))
        assert heads == sorted(heads)
        assert heads[-1] > 20
    finally:
        sync.send_signal(signal.SIGTERM)
        assert sync.wait(30) == 143
    filters = [{"fromBlock": "0x0", "toBlock": hex(heads[-1])}]
    with ServeProcess("--no-sync", "--datadir", str(datadir)) as original:
        expected = answers(original, filters)
    with ServeProcess("--no-sync", "--datadir", str(tmp_path / "b2")) as copy:
        assert answers(copy, filters) == expected
    assert len(expected[0]) > 20


def test_backup_while_serve_syncs_a_growing_chain(
    anvil: Anvil, growing: list[Any], tmp_path: Path
) -> None:
    datadir = tmp_path / "dd"
    with ServeProcess("--upstream", anvil.url, "--datadir", str(datadir), *SYNC) as original:
        original.wait_synced(anvil.block_number())
        build_chain(anvil, 15, seed=3, emitters=growing)
        done = cli("backup", "--datadir", str(datadir), "--out", str(tmp_path / "b"))
        assert done.returncode == 0, done.stderr
        build_chain(anvil, 5, seed=4, emitters=growing)
        head = check_backup(tmp_path / "b", anvil, 8)
        filters = [{"fromBlock": "0x0", "toBlock": hex(head)}, {"fromBlock": hex(head - 5),
                   "toBlock": hex(head), "address": growing[0].address}]  # fmt: skip
        original.wait_synced(head)
        expected = answers(original, filters)
    with ServeProcess("--no-sync", "--datadir", str(tmp_path / "b")) as copy:
        assert answers(copy, filters) == expected
    assert expected[0]


def test_errors_are_one_line_and_write_nothing(synced: Path, tmp_path: Path) -> None:
    (tmp_path / "exists").mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import plyvel, sys, time; db = plyvel.DB(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(synced)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "open\n"
        cases = [
            (synced, tmp_path / "exists", f"{tmp_path / 'exists'} already exists"),
            (tmp_path / "missing", tmp_path / "b", f"no data directory at {tmp_path / 'missing'}"),
            (synced, tmp_path / "b", f"data directory {synced} is in use by another process, "
             "and no logfilter process answers"),
        ]  # fmt: skip
        for datadir, out, message in cases:
            done = cli("backup", "--datadir", str(datadir), "--out", str(out))
            assert done.returncode == 1, done
            assert done.stdout == ""
            assert done.stderr.startswith(f"logfilter: {message}"), done.stderr
            assert done.stderr.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()
    assert sorted(os.listdir(tmp_path)) == ["dd", "exists"]
    assert os.listdir(tmp_path / "exists") == []


def padded(synced: Path) -> None:
    """Make the copy long enough to be killed in the middle: 150 MiB more keys."""
    db = plyvel.DB(str(synced))
    try:
        for chunk in range(150):
            with db.write_batch() as batch:
                for i in range(64):
                    batch.put(b"zpad%03d%03d" % (chunk, i), os.urandom(16 << 10))
    finally:
        db.close()


def kill_mid_copy(argv: list[str]) -> None:
    backup = subprocess.Popen(
        [sys.executable, "-m", "rpc.cli", "backup", *argv, "--batch-mb", "1"],
        cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert backup.stderr is not None
    assert backup.stderr.readline().startswith("backup: ")  # the copy has begun
    backup.kill()
    backup.wait()


def test_kill_9_mid_copy_leaves_no_backup(synced: Path, tmp_path: Path) -> None:
    padded(synced)
    out = tmp_path / "b"
    kill_mid_copy(["--datadir", str(synced), "--out", str(out)])
    left = sorted(os.listdir(tmp_path))
    assert len(left) == 2
    assert left[0].startswith("b.partial-")  # never b itself
    with ServeProcess("--no-sync", "--datadir", str(synced)) as server:
        kill_mid_copy(["--datadir", str(synced), "--out", str(out)])  # the server's copy stops
        deadline = time.monotonic() + 30
        while sorted(os.listdir(tmp_path)) != ["dd"]:  # the killed partial, then the server's
            assert time.monotonic() < deadline, os.listdir(tmp_path)
            time.sleep(0.1)
        assert server.call("eth_blockNumber") == hex(54)
        done = cli("backup", "--datadir", str(synced), "--out", str(out))
        assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path)) == ["b", "dd"]


def test_a_socket_that_cannot_be_made_does_not_stop_sync(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    (datadir / "logfilter.ipc").mkdir(parents=True)  # in the socket's way
    done = cli("sync", "--upstream", str(execution_apis_archive()), "--datadir", str(datadir))
    assert done.returncode == 0, done.stderr
    assert f"no admin socket at {datadir / 'logfilter.ipc'}" in done.stderr
    assert "synced blocks 0..54" in done.stdout
