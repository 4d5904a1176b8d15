"""`--no-verify` and `--checkpoint` of `logfilter sync` and `serve`, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rpc.cli import main
from tests.fixtures import execution_apis_archive, mainnet_block_files


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("command", ["sync", "serve"])
def test_help_names_the_flags(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--no-verify do not check that each block's hash is keccak256 of its header" in text
    assert "--checkpoint NUMBER:HASH refuse a chain that does not contain this block" in text


def test_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(execution_apis_archive())
    block_10 = orjson.loads(execution_apis_archive().read_bytes().splitlines()[10])["block"]
    common = ["sync", "--upstream", archive, "--section-size", "8", "--confirmations", "0"]
    status, _, err = run(capsys, *common, "--datadir", str(tmp_path / "a"), "--checkpoint", "x")
    assert (status, err) == (1, "logfilter: --checkpoint 'x' is not NUMBER:HASH (a block number "
                                "and its 0x hash)\n")  # fmt: skip
    wrong = "0x" + "ab" * 32
    status, _, err = run(
        capsys, *common, "--datadir", str(tmp_path / "b"), "--checkpoint", f"10:{wrong}"
    )
    assert status == 1
    assert err.startswith(f"logfilter: {archive} has block 10 with hash {block_10['hash']}, ")
    assert err.endswith("it is another chain (--checkpoint)\n")
    assert err.count("\n") == 1
    good = f"10:{block_10['hash']}"
    status, out, err = run(capsys, *common, "--datadir", str(tmp_path / "c"), "--checkpoint", good)
    assert status == 0, err
    assert out.startswith("synced blocks 0..54")
    # The synced directory is checked at start, before anything is fetched.
    status, _, err = run(
        capsys, *common, "--datadir", str(tmp_path / "c"), "--checkpoint", f"10:{wrong}"
    )
    assert status == 1
    assert err.startswith("logfilter: the data directory has block 10 with hash")


def test_a_source_without_mix_hash_needs_no_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {int(p.stem): p for p in mainnet_block_files()}
    first = next(n for n, p in sorted(files.items()) if b'"mixHash"' not in p.read_bytes())
    archive = tmp_path / "etl.jsonl"
    archive.write_bytes(b"".join(files[n].read_bytes().strip() + b"\n" for n in (first, first + 1)))
    common = ["sync", "--upstream", str(archive), "--datadir", str(tmp_path / "dd")]
    common += ["--from-block", str(first), "--section-size", "8", "--confirmations", "0"]
    status, _, err = run(capsys, *common)
    assert status == 1
    assert f"block {first}: the header has no mixHash: its hash cannot be checked" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "dd").exists()  # nothing half-written
    status, out, err = run(capsys, *common, "--no-verify")
    assert status == 0, err
    assert out.startswith(f"synced blocks {first}..{first + 1}")
