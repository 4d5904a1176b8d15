"""``logfilter backfill`` as a real process: ``kill -9`` at several moments, then the same
command again (the final directory answers as a plain sync; no partial segment is ever
listed), and flags that cannot work (one line, exit 1, nothing written)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainindex.filters.criteria import LogCriteria, LogQuery
from chainindex.segments.history import SegmentHistory
from chainindex.segments.manifest import Manifest, read_manifest, read_sealed, segments_root
from tests.chainindex.segments.chain import (
    BLOCKS,
    SEALED_TO,
    SECTION,
    SEGMENT,
    SPEC,
    answer,
    backfill,
    engine,
    sync,
)
from tests.fixtures import REPO

COMMAND = [
    "backfill", "--upstream", SPEC, "--to-block", str(SEALED_TO), "--section-size", str(SECTION),
    "--segment-blocks", str(SEGMENT), "--workers", "2", "--max-requests", "2",
    "--batch-blocks", "4",
]  # fmt: skip
"""The backfill of the shared test chain (4 segments), small fetches so that it takes a few
seconds: time to kill it in the middle."""
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain synced the plain way: the reference answers."""
    path = tmp_path_factory.mktemp("plain") / "dd"
    sync(path)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The manifest of an undisturbed backfill (in this process, a process pool)."""
    return backfill(tmp_path_factory.mktemp("reference") / "dd")


def _start(datadir: Path, stderr: Path) -> subprocess.Popen[bytes]:
    with stderr.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "rpc.cli", *COMMAND, "--datadir", str(datadir)],
            cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip


def _wait_for(process: subprocess.Popen[bytes], stderr: Path, text: str) -> bool:
    """Whether ``text`` showed up on stderr before the process ended."""
    deadline = time.monotonic() + 120
    while text not in stderr.read_text():
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, stderr.read_text()
        time.sleep(0.02)
    return True


def _content(manifest: Manifest) -> list[tuple[object, ...]]:
    """What the segments hold (all but ``bytes``, LevelDB's file sizes, which depend on when
    its background compactions ran)."""
    return [
        (s.first, s.last, s.parent_hash, s.last_hash, s.entries, s.content_hash)
        for s in manifest.segments
    ]


def _check_killed(datadir: Path, reference: Manifest) -> int:
    """What a killed backfill left: a manifest only if complete (the reference's), every
    sealed segment exactly the reference's and readable, no worker left behind; returns the
    sealed count. Unsealed directories are allowed: the rerun deletes them."""
    manifest = read_manifest(datadir)
    assert manifest is None or _content(manifest) == _content(reference)
    expected = _content(reference)
    seals = []
    root = segments_root(datadir)
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        seal = read_sealed(directory)
        if seal is not None:
            assert _content(Manifest((seal,)))[0] in expected, seal
            seals.append(seal)
    if seals:
        seals.sort(key=lambda s: s.first)
        history = SegmentHistory(datadir, Manifest(tuple(seals)))  # opens and checks each
        history.close()
    return len(seals)


def _no_orphans(datadir: Path) -> None:
    """No process still has the data directory on its command line or open (the workers die
    with the command)."""
    deadline = time.monotonic() + 15
    while True:
        holders = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds]
            except OSError:
                continue
            if any(str(datadir) in t for t in targets):
                holders.append(pid)
        if not holders:
            return
        assert time.monotonic() < deadline, f"processes still hold {datadir}: {holders}"
        time.sleep(0.2)


def test_kill_9_then_rerun_answers_as_a_plain_sync(
    plain: Path, reference: Manifest, tmp_path: Path
) -> None:
    datadir = tmp_path / "dd"
    rng = random.Random(14)
    # Kill moments: as the workers start, then twice after the first seal of the run (plus a
    # random delay); each run resumes the last one's directory.
    moments = ["sealed already) on", "sealed (", "sealed ("]
    killed_mid_run = 0
    for n, moment in enumerate(moments):
        stderr = tmp_path / f"kill{n}.err"
        process = _start(datadir, stderr)
        try:
            reached = _wait_for(process, stderr, moment)
            time.sleep(rng.uniform(0, 0.3))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                killed_mid_run += reached
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
        _no_orphans(datadir)
        _check_killed(datadir, reference)
    assert killed_mid_run >= 2, "the backfill ended before it could be killed"
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", *COMMAND, "--datadir", str(datadir)],
        cwd=REPO, env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = read_manifest(datadir)
    assert manifest is not None
    assert _content(manifest) == _content(reference)
    assert sorted(p.name for p in segments_root(datadir).iterdir()) == sorted(
        s.name for s in reference.segments
    )
    sync(datadir)
    queries = [LogQuery(LogCriteria(), 0, BLOCKS - 1)]
    queries += [LogQuery(LogCriteria(), b - 5, b + 5) for b in range(SEGMENT, BLOCKS, SEGMENT)]

    async def both() -> None:
        with engine(plain) as expected, engine(datadir) as got:
            for query in queries:
                for limit in (0, 7):
                    assert await answer(got, query, limit) == await answer(expected, query, limit)

    asyncio.run(both())


def _fails_with_one_line(tmp_path: Path, *flags: str, expected: str) -> None:
    datadir = tmp_path / "dd"
    argv = [*COMMAND, "--datadir", str(datadir)]
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", *argv],
        cwd=REPO, env=ENV, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("logfilter: INFO")]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("logfilter: "), done.stderr
    assert expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not datadir.exists()  # nothing written


def test_segment_size_not_whole_sections(tmp_path: Path) -> None:
    _fails_with_one_line(
        tmp_path, "--segment-blocks", "100", expected="not a multiple of the section size 64"
    )


def test_to_block_above_the_final_head(tmp_path: Path) -> None:
    _fails_with_one_line(
        tmp_path, "--to-block", str(BLOCKS), expected=f"the upstream's final block is {BLOCKS - 1}"
    )


def test_unreachable_scheduler(tmp_path: Path) -> None:
    _fails_with_one_line(
        tmp_path, "--scheduler", "tcp://127.0.0.1:9", expected="cannot reach the Dask scheduler"
    )
