"""A data directory removed while ``serve`` or ``sync`` runs: the process notices within
seconds (LevelDB itself would keep writing into the unlinked files) and exits 1 with one
line, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures import REPO

SMALL = [
    "--upstream", "synthetic:sparse?blocks=50&seed=3", "--no-follow", "--confirmations", "0",
]  # fmt: skip


def _start(*argv: str, stderr: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with stderr.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "rpc.cli", *argv], cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def _wait_for(stderr: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in stderr.read_text():
        assert time.monotonic() < deadline, stderr.read_text()
        time.sleep(0.1)


def _stopped_with_one_line(process: subprocess.Popen[bytes], stderr: Path, datadir: Path) -> None:
    removed = time.monotonic()
    try:
        status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert status == 1
    assert time.monotonic() - removed < 10  # the presence check runs every second
    text = stderr.read_text()
    assert "Traceback" not in text, text
    assert "ExceptionGroup" not in text, text
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"logfilter: data directory {datadir} was removed"), text


def test_serve_stops_when_its_data_directory_is_removed(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "sync", *SMALL, "--datadir", str(datadir)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stderr = tmp_path / "serve.err"
    process = _start("serve", "--datadir", str(datadir), "--no-sync", "--port", "0", stderr=stderr)
    _wait_for(stderr, "serving http://")
    shutil.rmtree(datadir)
    _stopped_with_one_line(process, stderr, datadir)


def test_sync_stops_when_its_data_directory_is_replaced(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    stderr = tmp_path / "sync.err"
    upstream = "synthetic:sparse?blocks=40000&seed=3"  # far more than the test waits for
    process = _start(
        "sync", "--upstream", upstream, "--datadir", str(datadir), "--log-interval", "0.2",
        stderr=stderr,
    )  # fmt: skip
    _wait_for(stderr, "blocks/s")
    datadir.rename(tmp_path / "moved")
    datadir.mkdir()  # another directory at the same path is not the one opened
    _stopped_with_one_line(process, stderr, datadir)
