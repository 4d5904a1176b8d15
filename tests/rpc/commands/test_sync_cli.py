"""`logfilter sync` and `logfilter export` as a user runs them, against anvil and archives."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from chainindex.sync.indexer import SyncStatus
from rpc.cli import main
from rpc.commands.progress import ProgressReporter
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain
from tests.chainindex.reference import dump
from tests.fixtures import REPO, execution_apis_archive


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_sync_export_and_sync_the_export(
    anvil: Anvil, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_chain(anvil, 40, seed=31)
    head = anvil.block_number()
    common = ["--section-size", "8", "--confirmations", "2"]
    status, out, err = run(
        capsys, "sync", "--upstream", anvil.url, "--datadir", str(tmp_path / "node"),
        "--no-follow", *common,
    )  # fmt: skip
    assert status == 0, err
    assert out == f"synced blocks 0..{head} (5 sections of 8) into {tmp_path / 'node'}\n"
    assert "sync: " in err  # progress lines (stderr is not a terminal here)

    archive = tmp_path / "chain.jsonl"
    status, out, err = run(capsys, "export", "--upstream", anvil.ws_url, "--out", str(archive))
    assert status == 0, err
    assert out == f"wrote blocks 0..{head} ({head + 1} records) to {archive}\n"
    lines = archive.read_bytes().splitlines()
    assert [orjson.loads(line)["block"]["number"] for line in lines] == [
        hex(n) for n in range(head + 1)
    ]
    assert {orjson.loads(line)["chainId"] for line in lines} == {"0x7a69"}  # anvil's, 31337

    status, out, err = run(
        capsys, "sync", "--upstream", str(archive), "--datadir", str(tmp_path / "file"), *common
    )
    assert status == 0, err
    assert dump(tmp_path / "file") == dump(tmp_path / "node")  # the chain id included


def test_errors_are_one_line_and_nonzero(
    anvil: Anvil, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = str(tmp_path / "dd")
    status, _, err = run(
        capsys, "sync", "--upstream", anvil.url, "--datadir", datadir, "--until", "0"
    )
    assert status == 0, err
    cases = [
        (
            ["--upstream", str(tmp_path / "nope.jsonl")],
            f"logfilter: cannot read archive {tmp_path / 'nope.jsonl'}: No such file or directory",
        ),
        (["--upstream", "ftp://example.org"], "logfilter: unsupported upstream URL scheme 'ftp'"),
        (
            ["--upstream", "http://127.0.0.1:9", "--retries", "0"],
            "logfilter: cannot reach http://127.0.0.1:9",
        ),
        (
            ["--upstream", str(execution_apis_archive())],
            f"logfilter: {execution_apis_archive()} does not have the data directory's first "
            "block 0",
        ),
        (
            ["--upstream", anvil.url, "--section-size", "12"],
            "logfilter: --section-size 12 is not a multiple of 8",
        ),
        (
            ["--upstream", anvil.url, "--section-size", "16"],
            "logfilter: the data directory was built with section size 4096, not 16",
        ),
        (
            ["--upstream", anvil.url, "--from-block", "5"],
            "logfilter: the data directory starts at block 0, not 5 (--from-block)",
        ),
        (
            ["--upstream", anvil.url, "--no-logs"],
            "logfilter: the data directory was synced with logs; run sync with the same mode",
        ),
    ]
    for args, message in cases:
        status, out, err = run(capsys, "sync", "--datadir", datadir, *args)
        assert status == 1, args
        assert err.startswith(message), (args, err)
        assert err.count("\n") == 1, err
        assert out == ""
    with Anvil(chain_id=1337) as other:
        status, _, err = run(capsys, "sync", "--upstream", other.url, "--datadir", datadir)
        assert status == 1
        assert (
            err == "logfilter: the data directory indexes chain 31337, the upstream is chain 1337\n"
        )
    for bad in (["--from-block", "-1"], ["--confirmations", "x"], ["--bogus"], ["--until"]):
        with pytest.raises(SystemExit) as info:
            main(["sync", "--upstream", anvil.url, "--datadir", datadir, *bad])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("logfilter"), err


def test_sigterm_stops_a_following_sync_cleanly(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 10, seed=32)
    command = [
        sys.executable, "-m", "rpc.cli", "sync", "--upstream", anvil.ws_url,
        "--datadir", str(tmp_path / "dd"), "--section-size", "8", "--confirmations", "0",
        "--log-interval", "0.05",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    while (line := process.stderr.readline()) and f"{anvil.block_number()}/" not in line:
        pass
    build_chain(anvil, 3, seed=33)  # followed while running
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 143
    assert time.monotonic() - started < 5
    process.stderr.close()
    # The directory resumes: a final sync finds the followed blocks already there.
    assert main(["sync", "--upstream", anvil.url, "--datadir", str(tmp_path / "dd"),
                 "--section-size", "8", "--confirmations", "0", "--no-follow"]) == 0  # fmt: skip


def test_progress_bar_on_a_terminal() -> None:
    stream = io.StringIO()
    reporter = ProgressReporter(stream, tty=True)
    for head in range(0, 1000, 300):
        reporter.on_commit(SyncStatus("syncing", 0, head, 1999, head // 512), 300, 7500)
        time.sleep(0.21)
    reporter.on_reorg(850, 3, 4)
    reporter.finish(SyncStatus("following", 0, 1999, 1999, 3))
    text = stream.getvalue()
    assert "\r\x1b[2Ksync [" in text
    for part in ("blocks/s", "logs/s", "ETA"):
        assert part in text
    assert "sync: reorg: 3 blocks above 850 replaced by 4\n" in text
    assert text.endswith("3 sections\n")
