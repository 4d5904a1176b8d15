"""Storage faults on real file systems: a tmpfs that fills up, one remounted read-only, a
directory the command's user may not write. Every command ends with one clear line on
stderr and exit status 1, no traceback, nothing half-written; after the fault is cleared a
rerun resumes and ends where a clean run does.

The commands run as real processes (``python -m rpc.cli``), as a user runs them. These tests
need root to mount (marker ``mounts``); they skip, saying why, only where mounting is
impossible.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import plyvel
import pytest

from tests.fixtures import REPO
from tests.mounts import Tmpfs, mount_unavailable

pytestmark = pytest.mark.mounts

SYNC = [
    "sync", "--upstream", "synthetic:sparse?blocks=3000&seed=7", "--no-follow",
    "--confirmations", "0", "--section-size", "512",
]  # fmt: skip
"""A sync of about 9 MB: a 3 MiB tmpfs fills up about a third of the way."""


@pytest.fixture
def tmpfs() -> type[Tmpfs]:
    """The :class:`Tmpfs` class, once mounting is known to work here (else: skip, why)."""
    reason = mount_unavailable()
    if reason is not None:
        pytest.skip(reason)
    return Tmpfs


def _cli(*argv: str, user: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "rpc.cli", *argv]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _failure(done: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed command (its logs and progress lines come before)."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "ExceptionGroup" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if _is_error(line)]
    assert len(errors) == 1, done.stderr
    assert done.stderr.rstrip("\n").endswith(errors[0])
    return errors[0]


def _is_error(line: str) -> bool:
    return line.startswith("logfilter: ") and not line.startswith(
        ("logfilter: INFO", "logfilter: WARNING")
    )


def _contents(datadir: Path) -> list[tuple[bytes, bytes]]:
    db = plyvel.DB(str(datadir), create_if_missing=False)
    try:
        return list(db.iterator())
    finally:
        db.close()


def test_a_full_disk_stops_sync_with_one_line_and_a_rerun_resumes(
    tmpfs: type[Tmpfs], tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    assert _cli(*SYNC, "--datadir", str(clean)).returncode == 0
    with tmpfs("3m") as fs:
        datadir = fs.path / "dd"
        line = _failure(_cli(*SYNC, "--datadir", str(datadir)))
        assert line == f"logfilter: cannot write data directory {datadir}: no space left on device"
        fs.remount("size=64m")  # space freed
        done = _cli(*SYNC, "--datadir", str(datadir))
        assert done.returncode == 0, done.stderr
        assert "resuming at block" in done.stderr  # the first run had committed blocks
        assert done.stdout.startswith("synced blocks 0..2999")
        assert _contents(datadir) == _contents(clean)


def test_a_full_disk_leaves_no_partial_archive(tmpfs: type[Tmpfs]) -> None:
    with tmpfs("1m") as fs:
        out = fs.path / "chain.jsonl"
        line = _failure(_cli("generate", "--blocks", "500", "--fill", "sparse", "--out", str(out)))
        assert line == f"logfilter: cannot write archive {out}: no space left on device"
        assert list(fs.path.iterdir()) == []


def test_a_full_disk_leaves_no_partial_backup(tmpfs: type[Tmpfs], tmp_path: Path) -> None:
    source = tmp_path / "source"
    assert _cli(*SYNC, "--datadir", str(source)).returncode == 0
    with tmpfs("1m") as fs:
        out = fs.path / "copy"
        line = _failure(_cli("backup", "--datadir", str(source), "--out", str(out)))
        assert line == f"logfilter: cannot write backup {out}: no space left on device"
        assert list(fs.path.iterdir()) == []


def test_a_read_only_file_system(tmpfs: type[Tmpfs], tmp_path: Path) -> None:
    small = [*SYNC[:2], "synthetic:sparse?blocks=50", *SYNC[3:]]
    source = tmp_path / "source"
    assert _cli(*small, "--datadir", str(source)).returncode == 0
    with tmpfs("16m") as fs:
        synced = fs.path / "synced"
        assert _cli(*small, "--datadir", str(synced)).returncode == 0
        fs.remount("ro")
        new = fs.path / "new"
        line = _failure(_cli(*SYNC, "--datadir", str(new)))
        assert line == f"logfilter: cannot open data directory {new}: read-only file system"
        line = _failure(_cli(*SYNC, "--datadir", str(synced)))
        assert line == f"logfilter: cannot open data directory {synced}: read-only file system"
        out = fs.path / "chain.jsonl"
        line = _failure(_cli("generate", "--blocks", "5", "--out", str(out)))
        assert line == f"logfilter: cannot write archive {out}: read-only file system"
        line = _failure(_cli("backup", "--datadir", str(source), "--out", str(new)))
        assert line == f"logfilter: cannot write backup {new}: read-only file system"
        assert sorted(p.name for p in fs.path.iterdir()) == ["synced"]


def test_permission_denied(tmpfs: type[Tmpfs]) -> None:
    nobody = 65534
    with tmpfs("16m") as fs:  # owned by root, mode 0755: nobody may read, not write
        datadir = fs.path / "dd"
        line = _failure(_cli(*SYNC, "--datadir", str(datadir), user=nobody))
        assert line == f"logfilter: cannot open data directory {datadir}: permission denied"
        out = fs.path / "chain.jsonl"
        line = _failure(_cli("generate", "--blocks", "5", "--out", str(out), user=nobody))
        assert line == f"logfilter: cannot write archive {out}: permission denied"
        assert list(fs.path.iterdir()) == []
