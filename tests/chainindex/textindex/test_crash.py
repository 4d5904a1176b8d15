"""Crash safety: a failure at any step of a commit, and kill -9 of a writing process.

Either way the index must open, hold exactly the documents of its last complete commit, and
take writes again.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from chainindex.textindex import commit as commit_module
from chainindex.textindex import writer as writer_module
from chainindex.textindex.directory import Directory
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import NoMergePolicy
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.writer import IndexWriter, WriterConfig

REPO = Path(__file__).resolve().parents[3]


def block_docs(block: int, per_block: int = 5) -> list[Document]:
    return [
        Document(
            keywords=[("tag", f"b{block}")],
            points=[("block", block)],
            doc_values={"block": block, "logIndex": i},
            stored=f"{block}:{i}".encode(),
        )
        for i in range(per_block)
    ]


def contents(path: Path) -> tuple[str | None, Counter[str]]:
    reader = IndexReader.open(path)
    seen: Counter[str] = Counter()
    for leaf in reader.leaves:
        for d in range(leaf.max_doc):
            if leaf.live is None or leaf.live[d]:
                seen[leaf.segment.stored(d).decode()] += 1
    block = None if reader.commit is None else reader.commit.user_data.get("block")
    return block, seen


def expected(last_block: int, per_block: int = 5) -> Counter[str]:
    return Counter(f"{b}:{i}" for b in range(last_block + 1) for i in range(per_block))


class BoomError(RuntimeError):
    pass


def _fail(*args: object, **kwargs: object) -> None:
    raise BoomError("injected failure")


_real_fsync = os.fsync
_real_replace = os.replace


def _fsync_failing_on_commit_point(fd: int) -> None:
    if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith("segments_"):
        raise BoomError("injected fsync failure")
    _real_fsync(fd)


def _replace_failing_on_commit_point(src: str | Path, dst: str | Path) -> None:
    if os.path.basename(dst).startswith("segments_"):
        raise BoomError("injected rename failure")
    _real_replace(src, dst)


STEPS = {
    "live-docs file": "write_live_docs",
    "commit body": "_encode",
    "commit fsync": "fsync",
    "commit rename": "replace",
    "folder fsync": "sync",
}


@pytest.mark.parametrize("step", list(STEPS))
def test_failure_at_each_commit_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    config = WriterConfig(background_merges=False, merge_policy=NoMergePolicy)
    with IndexWriter(tmp_path, config) as writer:
        writer.add_documents(block_docs(0))
        writer.add_documents(block_docs(1))
        writer.commit({"block": "1"})
        writer.add_documents(block_docs(2))
        writer.delete_documents(PointRangeQuery("block", 1, 1))  # deletions to write, too
        writer.flush()
        with monkeypatch.context() as patch:
            if step == "live-docs file":
                patch.setattr(writer_module, "write_live_docs", _fail)
            elif step == "commit body":
                patch.setattr(commit_module, "_encode", _fail)
            elif step == "commit fsync":
                patch.setattr(os, "fsync", _fsync_failing_on_commit_point)
            elif step == "commit rename":
                patch.setattr(os, "replace", _replace_failing_on_commit_point)
            else:
                patch.setattr(Directory, "sync", _fail)
            with pytest.raises(BoomError):
                writer.commit({"block": "2"})
    block, seen = contents(tmp_path)
    if step == "folder fsync":
        # The rename happened before the failing folder fsync: the new commit is complete.
        assert block == "2"
        assert seen == expected(2) - expected(1) + expected(0)
    else:
        assert block == "1"
        assert seen == expected(1)
    with IndexWriter(tmp_path, config) as writer:  # and the index takes writes again
        writer.add_documents(block_docs(9))
        writer.commit({"block": "9"})
    assert contents(tmp_path)[1]["9:0"] == 1


CHILD = r"""
import sys
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import TieredMergePolicy
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.writer import IndexWriter, WriterConfig

path, per_block = sys.argv[1], int(sys.argv[2])
policy = TieredMergePolicy(segments_per_tier=3, max_merge_at_once=4, floor_segment_bytes=1)
writer = IndexWriter(path, WriterConfig(max_buffered_docs=7, merge_policy=policy))
start = int(writer.committed.user_data.get("block", "-1")) + 1

def docs(block):
    return [Document(keywords=[("tag", f"b{block}")], points=[("block", block)],
                     doc_values={"block": block, "logIndex": i},
                     stored=f"{block}:{i}".encode()) for i in range(per_block)]

print("ready", flush=True)
block = start
while True:
    if block % 4 == 3 and block > 0:
        # A reorganisation: drop the previous block and index it again.
        writer.delete_documents(PointRangeQuery("block", block - 1, None))
        writer.add_documents(docs(block - 1))
    writer.add_documents(docs(block))
    writer.commit({"block": str(block)})
    block += 1
"""


@pytest.mark.slow
def test_kill_9_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(1234)
    index = tmp_path / "index"
    per_block = 5
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    kills = 0
    last = -1
    for _ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(index), str(per_block)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=REPO,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready", (
            child.stderr.read() if child.stderr else ""
        )
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        block, seen = contents(index)
        committed = -1 if block is None else int(block)
        assert committed >= last  # a commit once made is never lost
        assert seen == expected(committed, per_block), f"after kill {kills} at block {block}"
        last = committed
    assert kills == 20
    assert last > 0  # the writer made progress between kills
