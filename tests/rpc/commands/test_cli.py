"""The command line as a user runs it: real archive, real data directory, exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainindex.store import SectionStore, open_datadir
from rpc.cli import main
from tests.fixtures import execution_apis_archive


def test_build_sections_from_fixture_archive(
    datadir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = str(execution_apis_archive())
    assert (
        main(
            [
                "build-sections",
                "--archive",
                archive,
                "--datadir",
                str(datadir),
                "--section-size",
                "16",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "55 headers read, 3 new sections built (3 stored)" in out
    store = open_datadir(datadir)
    assert SectionStore(store, 16).count() == 3  # 55 blocks = 3 full sections of 16
    store.close()
    # Run again: nothing new to build.
    assert (
        main(
            [
                "build-sections",
                "--archive",
                archive,
                "--datadir",
                str(datadir),
                "--section-size",
                "16",
            ]
        )
        == 0
    )
    assert "0 new sections built (3 stored)" in capsys.readouterr().out


def test_errors_are_one_line_and_nonzero(
    datadir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "build-sections",
                "--archive",
                str(tmp_path / "missing.jsonl"),
                "--datadir",
                str(datadir),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("logfilter: No such file or directory")
    assert err.count("\n") == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"block": {"number": "0x0"}}\n')
    assert main(["build-sections", "--archive", str(bad), "--datadir", str(datadir)]) == 1
    assert "bad.jsonl:1: not a block record" in capsys.readouterr().err
