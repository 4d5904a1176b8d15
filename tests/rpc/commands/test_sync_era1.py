"""``logfilter sync --upstream era1:DIR`` as a user runs it: the same stored chain and the
same eth_getLogs answers as a sync of the same blocks from the chain archive; a damaged
era1 file or a missing --chain-id is one line and leaves no data directory behind."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from rpc.cli import main
from tests.chainindex.reference import dump
from tests.chainindex.source.era1.era1_chain import (
    CHAIN_ID,
    records,
    write_archive_prefix,
    write_fixture_era1,
)
from tests.rpc.serve import RpcCallFailedError, ServeProcess

COMMON = ["--section-size", "8", "--confirmations", "0", "--chain-id", str(CHAIN_ID)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _filters() -> list[dict[str, Any]]:
    """Every single block, ranges across the section and file boundaries (block 2's 10 MB
    of log data kept to a few answers), every address and topic over the whole chain, every
    block hash."""
    logs = [log for r in records() for receipt in r["receipts"] for log in receipt["logs"]]
    bounds = [3, 4, 7, 8, 15, 16, 17, 24, 31, 32, 35]
    filters: list[dict[str, Any]] = [
        {"fromBlock": hex(a), "toBlock": hex(b)}
        for a, b in itertools.chain(
            ((n, n) for n in range(36)),
            itertools.combinations(bounds, 2),
            ((a, 35) for a in range(3)),
        )
    ]
    whole = {"fromBlock": "0x0", "toBlock": "0x23"}
    filters += [{**whole, "address": a} for a in sorted({log["address"] for log in logs})]
    topics = sorted({t for log in logs for t in log["topics"]})
    filters += [{**whole, "topics": [t]} for t in topics]
    filters += [{**whole, "topics": [None, t]} for t in topics]
    filters += [{"blockHash": r["block"]["hash"]} for r in records()]
    filters.append({"fromBlock": "0x0", "toBlock": "0x24"})  # beyond the era1 head: an error
    return filters


def _answers(datadir: Path, filters: list[dict[str, Any]]) -> list[object]:
    out: list[object] = []
    with ServeProcess("--datadir", str(datadir), "--no-sync") as server:
        for f in filters:
            try:
                out.append(server.call("eth_getLogs", f))
            except RpcCallFailedError as err:
                out.append(("error", err.code, err.message))
    return out


def test_sync_from_era1_answers_as_the_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_fixture_era1(tmp_path / "era1", per_file=16)  # three files: 0..15, 16..31, 32..35
    archive = write_archive_prefix(tmp_path / "chain.jsonl")
    status, out, err = run(
        capsys, "sync", "--upstream", f"era1:{tmp_path / 'era1'}",
        "--datadir", str(tmp_path / "from-era1"), *COMMON,
    )  # fmt: skip
    assert status == 0, err
    assert out == f"synced blocks 0..35 (4 sections of 8) into {tmp_path / 'from-era1'}\n"
    status, _, err = run(
        capsys, "sync", "--upstream", str(archive), "--datadir", str(tmp_path / "from-archive"),
        *COMMON,
    )  # fmt: skip
    assert status == 0, err
    assert dump(tmp_path / "from-era1") == dump(tmp_path / "from-archive")
    filters = _filters()
    era1 = _answers(tmp_path / "from-era1", filters)
    assert era1 == _answers(tmp_path / "from-archive", filters)
    whole = filters.index({"fromBlock": "0x0", "toBlock": "0x23"})
    assert len(era1[whole]) == sum(  # type: ignore[arg-type]
        len(receipt["logs"]) for r in records() for receipt in r["receipts"]
    )
    assert era1[-1][0] == "error"  # type: ignore[index]


def test_era1_needs_a_chain_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_fixture_era1(tmp_path / "era1")
    datadir = tmp_path / "dd"
    status, out, err = run(
        capsys, "sync", "--upstream", f"era1:{tmp_path / 'era1'}", "--datadir", str(datadir)
    )
    assert status == 1
    assert out == ""
    assert err == (
        "logfilter: era1 files name no chain: give --chain-id N with --upstream era1:DIR\n"
    )
    assert not datadir.exists()


def _corrupt(path: Path, how: str) -> None:
    raw = bytearray(path.read_bytes())
    if how == "snappy":  # inside the first header's snappy frame (after the version record)
        raw[8 + 8 + 20 : 8 + 8 + 24] = b"\xde\xad\xbe\xef"
    elif how == "accumulator":  # the 32-byte root: just before the index record
        index_at = len(raw) - 8 * (36 + 2) - 8
        raw[index_at - 32] ^= 0xFF
    else:
        raw = raw[: len(raw) // 2]
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("snappy", "block 0 header: bad snappy data"),
        ("accumulator", "is not the root of the file's headers"),
        ("truncated", "truncated or not era1?"),
    ],
)
def test_a_damaged_file_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, message: str
) -> None:
    (path,) = write_fixture_era1(tmp_path / "era1")
    _corrupt(path, how)
    datadir = tmp_path / "dd"
    status, out, err = run(
        capsys, "sync", "--upstream", f"era1:{tmp_path / 'era1'}", "--datadir", str(datadir),
        *COMMON,
    )  # fmt: skip
    assert status == 1
    assert out == ""
    assert err.startswith(f"logfilter: {path}")
    assert message in err
    assert err.count("\n") == 1, err
    assert not datadir.exists()


def test_a_node_or_archive_takes_over_where_the_files_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """era1 files for the pre-merge blocks, then the whole chain's archive (standing for a
    node, which keeps the pre-merge headers): sync goes on from block 36."""
    from tests.fixtures import execution_apis_archive

    write_fixture_era1(tmp_path / "era1")
    datadir = str(tmp_path / "dd")
    status, _, err = run(
        capsys, "sync", "--upstream", f"era1:{tmp_path / 'era1'}", "--datadir", datadir, *COMMON
    )
    assert status == 0, err
    status, out, err = run(
        capsys, "sync", "--upstream", str(execution_apis_archive()), "--datadir", datadir,
        *COMMON,
    )  # fmt: skip
    assert status == 0, err
    assert out == f"synced blocks 0..54 (6 sections of 8) into {datadir}\n"
    with ServeProcess("--datadir", datadir, "--no-sync") as server:
        logs = server.call("eth_getLogs", {"fromBlock": "0x20", "toBlock": "0x28"})
    assert [log["blockNumber"] for log in logs] == [
        log["blockNumber"]
        for line in execution_apis_archive().read_bytes().splitlines()[32:41]
        for receipt in orjson.loads(line)["receipts"]
        for log in receipt["logs"]
    ]


def test_serve_syncs_from_era1(tmp_path: Path) -> None:
    """``serve --upstream era1:DIR --chain-id N`` syncs the files and answers from them."""
    import time

    write_fixture_era1(tmp_path / "era1", per_file=10)
    args = ["--upstream", f"era1:{tmp_path / 'era1'}", "--datadir", str(tmp_path / "dd")]
    with ServeProcess(*args, *COMMON) as server:
        deadline = time.monotonic() + 60
        while True:
            try:
                if server.call("eth_blockNumber") == "0x23":
                    break
            except RpcCallFailedError as err:  # before the first commit
                if err.message != "no blocks synced yet":
                    raise
            assert time.monotonic() < deadline, "serve did not sync the era1 files"
            time.sleep(0.1)
        assert server.call("eth_chainId") == hex(CHAIN_ID)
        logs = server.call("eth_getLogs", {"fromBlock": "0x3", "toBlock": "0x23"})
    assert len(logs) == sum(len(x["logs"]) for r in records()[3:] for x in r["receipts"])
