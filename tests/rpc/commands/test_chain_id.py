"""Chain ids: ``generate --chain-id`` writes one into every archive record, ``sync`` stores it
or checks it, ``sync --chain-id`` gives one to a directory synced from an archive without
one, and every conflict is one clear line with nothing written."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from chainindex.store import LevelDBStore, schema
from rpc.cli import main
from tests.chainindex.reference import dump
from tests.fixtures import execution_apis_archive

SMALL = ["--contracts", "500", "--holders", "5000", "--quiet"]
COMMON = ["--section-size", "8", "--confirmations", "0"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def stored_chain_id(datadir: Path) -> int | None:
    store = LevelDBStore(datadir)
    try:
        raw = store.get(schema.meta_key(schema.META_CHAIN_ID))
    finally:
        store.close()
    return None if raw is None else int.from_bytes(raw, "big")


def generated(tmp_path: Path, *extra: str) -> Path:
    archive = tmp_path / "chain.jsonl"
    assert main(["generate", "--blocks", "20", "--out", str(archive), *SMALL, *extra]) == 0
    return archive


def test_an_archives_chain_id_is_stored_and_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = generated(tmp_path, "--chain-id", "7")
    assert {orjson.loads(line)["chainId"] for line in archive.read_bytes().splitlines()} == {"0x7"}
    datadir = tmp_path / "dd"
    sync = ["sync", "--upstream", str(archive), "--datadir", str(datadir), *COMMON]
    status, _, err = run(capsys, *sync)
    assert status == 0, err
    assert stored_chain_id(datadir) == 7
    assert run(capsys, *sync, "--chain-id", "7")[0] == 0
    status, out, err = run(capsys, *sync, "--chain-id", "8")
    assert (status, out) == (1, "")
    assert err == f"logfilter: {archive} serves chain 7, not chain 8 (--chain-id)\n"
    status, out, err = run(capsys, "sync", "--datadir", str(datadir), "--chain-id", "8")
    assert (status, out) == (1, "")
    assert err == "logfilter: the data directory indexes chain 7, not chain 8\n"
    assert stored_chain_id(datadir) == 7


def test_the_default_chain_id_is_1337(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = generated(tmp_path)
    datadir = tmp_path / "dd"
    status, _, err = run(
        capsys, "sync", "--upstream", str(archive), "--datadir", str(datadir), *COMMON
    )
    assert status == 0, err
    assert stored_chain_id(datadir) == 1337


def test_a_directory_without_one_gets_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = tmp_path / "dd"
    upstream = ["--upstream", str(execution_apis_archive())]
    status, _, err = run(capsys, "sync", *upstream, "--datadir", str(datadir), *COMMON)
    assert status == 0, err
    assert stored_chain_id(datadir) is None  # a recorded archive says nothing of its chain
    before = dump(datadir)
    status, out, err = run(capsys, "sync", "--datadir", str(datadir), "--chain-id", "0x7")
    assert (status, out, err) == (0, f"set chain id 7 of {datadir}\n", "")
    after = dump(datadir)
    assert after.pop(schema.meta_key(schema.META_CHAIN_ID)) == (7).to_bytes(8, "big")
    assert after == before  # nothing else written
    status, out, err = run(capsys, "sync", "--datadir", str(datadir), "--chain-id", "7")
    assert (status, out) == (0, f"checked chain id 7 of {datadir}\n")


def test_resyncing_with_a_chain_id_sets_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = tmp_path / "dd"
    sync = ["sync", "--upstream", str(execution_apis_archive()), "--datadir", str(datadir)]
    assert run(capsys, *sync, *COMMON)[0] == 0
    assert run(capsys, *sync, *COMMON, "--chain-id", "3503995874084926")[0] == 0
    assert stored_chain_id(datadir) == 3503995874084926


def test_a_record_of_another_chain_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = generated(tmp_path, "--chain-id", "7")
    lines = archive.read_bytes().splitlines()
    lines[12] = lines[12].replace(b'"chainId":"0x7"', b'"chainId":"0x9"')
    archive.write_bytes(b"\n".join(lines) + b"\n")
    datadir = tmp_path / "dd"
    status, _, err = run(
        capsys, "sync", "--upstream", str(archive), "--datadir", str(datadir), *COMMON
    )
    assert status == 1
    # progress lines may come first on a slow machine; the error is the last line, alone
    assert err.splitlines()[-1] == (
        f"logfilter: {archive}:13: chainId 0x9, but the archive's first record says 0x7"
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --upstream (a node URL or an archive), or --chain-id alone"),
        (["--chain-id", "0"], "argument --chain-id: must be at least 1"),
        (["--chain-id", str(2**64)], "argument --chain-id: a chain id is below 2**64"),
    ],
)
def test_bad_chain_id_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    argv = ["sync", "--datadir", str(tmp_path / "dd"), *args]
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = int(str(exit_.code))
    err = capsys.readouterr().err
    assert status in (1, 2)
    assert err.count("\n") == 1, err
    assert message in err
