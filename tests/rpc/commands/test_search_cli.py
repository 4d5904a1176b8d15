"""``logfilter search`` on a data directory indexed from the real mainnet fixtures."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from chainindex.logsearch.index import TextIndex
from rpc.cli import main
from tests.chainindex.fixture_logs import mainnet_log_json, mainnet_logs


@pytest.fixture(scope="module")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datadir")
    with TextIndex.open(path / "textindex") as index:
        index.add_logs(mainnet_logs())
        index.commit(22869878)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_search_prints_hits_and_a_cursor(datadir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "search", "event:NameRegistered", "--datadir", str(datadir))
    assert status == 0
    assert out.count("NameRegistered(") == 6
    assert "6 of 6 matching logs" in out
    assert "next page" not in out
    status, out, _ = run(
        capsys, "search", "name:/[0-9]+/", "--datadir", str(datadir), "--highlight"
    )
    assert status == 0
    assert "name: -[0753]" in out  # highlights bracketed when not on a terminal


def test_json_output_is_the_rpc_result(datadir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weth = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
    transfer = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    argv = ["search", "", "--datadir", str(datadir), "--address", weth]
    argv += ["--topics", f'["{transfer}"]', "--sort", "block_asc", "--limit", "3", "--json"]
    status, out, _ = run(capsys, *argv)
    assert status == 0
    result = orjson.loads(out)
    expected = [
        e
        for e in mainnet_log_json()
        if e["address"] == weth and e["topics"] and e["topics"][0] == transfer
    ]
    assert result["total"] == len(expected)
    assert [h["log"] for h in result["hits"]] == expected[:3]  # geth's log objects, exactly
    first = result["hits"][0]["event"]
    assert first["name"] == "Transfer"
    assert first["args"][2] == {
        "name": "value",
        "type": "uint256",
        "indexed": False,
        "value": str(int(expected[0]["data"], 16)),
    }
    # The next page continues where this one stopped.
    status, out, _ = run(capsys, *argv, "--after", result["cursor"])
    assert [h["log"] for h in orjson.loads(out)["hits"]] == expected[3:6]


def test_errors_are_one_line(
    datadir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "search", "name:(vitalik", "--datadir", str(datadir))
    assert status == 1
    assert err.startswith("logfilter: bad query: missing ')'")
    assert err.count("\n") == 1
    status, _, err = run(capsys, "search", "x", "--datadir", str(tmp_path / "nothing"))
    assert status == 1
    assert "no text index at" in err
    status, _, err = run(capsys, "search", "x", "--datadir", str(datadir), "--after", "zz")
    assert status == 1
    assert "invalid cursor" in err
    with pytest.raises(SystemExit):
        main(["search", "x", "--datadir", str(datadir), "--address", "0x12"])
    assert "not an address (0x + 40 hex digits): '0x12'" in capsys.readouterr().err


def test_sync_with_text_index_then_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fixtures import execution_apis_archive

    datadir = tmp_path / "dd"
    archive = str(execution_apis_archive())
    argv = ["sync", "--upstream", archive, "--datadir", str(datadir), "--no-follow"]
    argv += ["--section-size", "16", "--confirmations", "0", "--text-index"]
    assert main(argv) == 0
    capsys.readouterr()
    status, out, _ = run(capsys, "search", "", "--datadir", str(datadir), "--json", "--limit", "1")
    assert status == 0
    assert orjson.loads(out)["total"] == 383  # every log of the archive
    # Run again: nothing new, the text index stays consistent.
    assert main(argv) == 0
    capsys.readouterr()
    status, out, _ = run(capsys, "search", "", "--datadir", str(datadir), "--json", "--limit", "1")
    assert orjson.loads(out)["total"] == 383
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    status, _, err = run(capsys, *argv[:-1], "--abi", str(bad))
    assert status == 1
    assert err.startswith(f"logfilter: {bad}: not JSON")
