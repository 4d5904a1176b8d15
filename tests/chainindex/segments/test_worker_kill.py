"""``kill -9`` of a process-pool worker half way through a segment: the pool breaks, the
segments it was building are deleted and built again from scratch, and the published
segments hold exactly what an undisturbed backfill's hold (nothing twice, nothing missing)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from chainindex.segments.build import SegmentTask, build_segment
from chainindex.segments.manifest import Manifest, SealedSegment, read_sealed, segment_dir
from chainindex.store.writer import ChainWriter
from chainindex.types import Block
from tests.chainindex.segments.chain import SEGMENT, backfill

VICTIM = (SEGMENT, 2 * SEGMENT - 1)
"""The segment whose worker is killed."""
STALL_AT = SEGMENT + 128
"""The victim's first attempt stalls once this block is committed (half of the segment)."""


def stalling_build(task: SegmentTask) -> SealedSegment:
    """The real build; on the victim's first attempt the worker records its pid, commits
    blocks up to :data:`STALL_AT` into the segment's store, says so and stalls there (to be
    killed). Every attempt is logged, one line each, beside the data directory."""
    datadir = Path(task.directory).parent.parent
    with (datadir.parent / "attempts").open("a") as log:
        log.write(f"{task.first}\n")
    first_attempt = not (datadir.parent / "stalled").exists()
    if (task.first, task.last) == VICTIM and first_attempt:
        (datadir.parent / "pid").write_text(str(os.getpid()))
        original = ChainWriter.append

        def append(self: ChainWriter, blocks: Sequence[Block], **kw: object) -> None:
            original(self, blocks, **kw)  # type: ignore[arg-type]
            if blocks and blocks[-1].header.number >= STALL_AT:
                (datadir.parent / "stalled").touch()
                time.sleep(600)

        ChainWriter.append = append  # type: ignore[method-assign]
    return build_segment(task)


def _content(manifest: Manifest) -> list[tuple[object, ...]]:
    """What the segments hold (all but LevelDB's file sizes)."""
    return [
        (s.first, s.last, s.parent_hash, s.last_hash, s.entries, s.content_hash)
        for s in manifest.segments
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """An undisturbed backfill's manifest."""
    return backfill(tmp_path_factory.mktemp("reference") / "dd")


def test_a_killed_worker_s_segment_is_rebuilt(reference: Manifest, tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    result: list[Manifest | BaseException] = []

    def run() -> None:
        try:
            result.append(backfill(datadir, build=stalling_build))
        except BaseException as err:
            result.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not (tmp_path / "stalled").exists():
        assert thread.is_alive(), result
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victim = segment_dir(datadir, *VICTIM)
    assert read_sealed(victim) is None  # half built: blocks in its store, no seal
    assert any(p.suffix in (".log", ".ldb") for p in victim.iterdir())
    os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)
    thread.join(timeout=180)
    assert not thread.is_alive()
    [manifest] = result
    assert isinstance(manifest, Manifest), manifest
    assert _content(manifest) == _content(reference)
    attempts = (tmp_path / "attempts").read_text().split()
    assert attempts.count(str(VICTIM[0])) == 2  # the victim ran again, once
    assert sorted(p.name for p in (datadir / "segments").iterdir()) == [
        s.name for s in reference.segments
    ]
