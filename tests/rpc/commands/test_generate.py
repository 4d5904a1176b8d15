"""``logfilter generate`` as a user runs it: files, stdout, summaries, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from chainindex.synthetic import ChainGenerator, ChainShape, write_archive
from rpc.cli import main

SMALL = ["--contracts", "500", "--holders", "5000"]


def test_writes_the_archive_the_library_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chain.jsonl"
    argv = ["generate", "--blocks", "40", "--fill", "sparse", "--seed", "5", "--out", str(out)]
    assert main([*argv, *SMALL]) == 0
    err = capsys.readouterr().err
    assert err.startswith("wrote blocks 0..39 (")
    assert err.count("\n") == 1
    assert "mean bloom fill" in err
    expected = tmp_path / "expected.jsonl"
    shape = ChainShape(fill=0.05, contracts=500, holders=5000)
    write_archive(ChainGenerator(shape, 5), expected, 40)
    assert out.read_bytes() == expected.read_bytes()


def test_headers_only_to_stdout_from_a_first_block() -> None:
    argv = ["--blocks", "3", "--out", "-", "--headers-only", "--first-block", "7", "--quiet",
            "--chain-id", "0x10"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "generate", *argv, *SMALL],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert done.stderr == b""
    records = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [r["block"]["number"] for r in records] == ["0x7", "0x8", "0x9"]
    assert all(list(r) == ["chainId", "block"] for r in records)
    assert {r["chainId"] for r in records} == {"0x10"}


def test_shape_options_reach_the_chain(tmp_path: Path) -> None:
    out = tmp_path / "chain.jsonl"
    argv = ["generate", "--blocks", "30", "--out", str(out), "--logs-per-block", "50"]
    options = ["--mix", "ens-registrar=1", "--block-time", "2", "--genesis-time", "1000"]
    assert main([*argv, *options, *SMALL, "--quiet"]) == 0
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert records[0]["block"]["timestamp"] == hex(1000)
    assert records[1]["block"]["timestamp"] == hex(1002)
    logs = [log for r in records for rc in r["receipts"] for log in rc["logs"]]
    assert len(logs) > 30 * 25
    assert len({log["topics"][0] for log in logs}) == 1  # only NameRegistered


def test_existing_file_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chain.jsonl"
    out.write_text("keep me")
    argv = ["generate", "--blocks", "2", "--out", str(out), *SMALL]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"logfilter: {out} exists (use --force to overwrite it)\n"
    assert out.read_text() == "keep me"
    assert main([*argv, "--force", "--quiet"]) == 0
    assert out.read_bytes().count(b"\n") == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--blocks", "x"], "argument --blocks: not a whole number"),
        (["--blocks", "0"], "argument --blocks: must be at least 1"),
        (["--blocks", "5", "--fill", "2"], "argument --fill: fill must lie in"),
        (["--blocks", "5", "--fill", "sparse", "--logs-per-block", "3"], "not allowed with"),
        (["--blocks", "5", "--seed", str(2**64)], "argument --seed: must be below 2**64"),
        (["--blocks", "5", "--mix", "erc4626=1"], "unknown contract class 'erc4626'"),
        (["--blocks", "5", "--nope"], "unrecognized arguments: --nope"),
        ([], "the following arguments are required: --blocks"),
    ],
)
def test_bad_flags_are_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--out", str(tmp_path / "x.jsonl"), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err, err
    assert not (tmp_path / "x.jsonl").exists()


def test_bad_shape_values_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "--blocks", "5", "--out", str(tmp_path / "x.jsonl")]
    assert main([*argv, "--contracts", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("logfilter: contracts must be")
    assert err.count("\n") == 1
    assert main([*argv, "--contract-top-share", "0.001"]) == 1
    assert "not reachable" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_created(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir" / "x.jsonl"
    assert main(["generate", "--blocks", "5", "--out", str(out), "--quiet", *SMALL]) == 0
    assert len(out.read_bytes().splitlines()) == 5


def test_impossible_destination_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    argv = ["generate", "--blocks", "5", "--out", str(blocker / "x.jsonl"), *SMALL]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("logfilter: ")
    assert str(blocker) in err
    assert err.count("\n") == 1


def test_progress_goes_to_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["generate", "--blocks", "20", "--out", str(tmp_path / "c.jsonl"), *SMALL]
    assert main(argv) == 0
    err = capsys.readouterr().err
    progress, summary = err.rsplit("\n", 2)[:2]
    assert progress.startswith("\r20/20 blocks (100%), ")
    assert "blocks/s" in progress
    assert "logs/s" in progress
    assert summary.startswith("wrote blocks 0..19")
