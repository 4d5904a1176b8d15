"""``logfilter demo`` as a user runs it: setup, printed examples that work, reuse, Ctrl-C.

The reference answers are computed here by brute force over the demo's own archive
(``DIR/chain.jsonl``: plain JSON lines), sharing no code with the service.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from tests.fixtures import REPO

BLOCKS = 512
SMALL = ["--blocks", str(BLOCKS), "--section-size", "128", "--port", "0"]
NAME_REGISTERED = (
    "0x" + keccak(text="NameRegistered(string,bytes32,address,uint256,uint256,uint256)").hex()
)
"""topic0 of ENS's NameRegistered (hashed here, not by the code under test)."""


def _command(datadir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "rpc.cli", "demo", "--datadir", str(datadir), *SMALL, *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _run(datadir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(datadir, *extra), cwd=REPO, env=_env(), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def _archive_logs(datadir: Path, last: int) -> list[dict[str, Any]]:
    """Every log of blocks 0..last, from the archive's JSON."""
    out = []
    with (datadir / "chain.jsonl").open("rb") as f:
        for number, line in enumerate(f):
            if number > last:
                break
            for receipt in orjson.loads(line)["receipts"]:
                out.extend(receipt["logs"])
    return out


def _matches(log: dict[str, Any], criteria: dict[str, Any]) -> bool:
    number = int(log["blockNumber"], 16)
    if not int(criteria["fromBlock"], 16) <= number <= int(criteria["toBlock"], 16):
        return False
    if "address" in criteria and log["address"] != criteria["address"]:
        return False
    topics = criteria.get("topics", [])
    return all(
        want is None or (i < len(log["topics"]) and log["topics"][i] == want)
        for i, want in enumerate(topics)
    )


def _post(url: str, body: str) -> Any:
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return orjson.loads(response.read())


def _curls(stdout: str) -> list[tuple[str, str]]:
    """(url, body) of every printed curl command (the paste-ready ones, not the tour's)."""
    pattern = re.compile(r"^curl -s (\S+) -H 'Content-Type: application/json' -d '(.*)'$")
    return [(m[1], m[2]) for m in map(pattern.match, stdout.splitlines()) if m]


def _snippet(stdout: str, heading: str) -> str:
    """The code printed under the line starting with ``heading``, up to the blank line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1
    end = lines.index("", start)
    return "\n".join(lines[start:end])


def _counts(stdout: str) -> list[int]:
    """The ``→ N logs`` lines of the tour (eth_getLogs answers), in order."""
    return [int(m[1]) for m in re.finditer(r"^→ (\d+) logs", stdout, re.M)]


def _name_hits(datadir: Path, word: str, last: int) -> int:
    """NameRegistered logs whose name has a word starting with ``word``."""
    hits = 0
    for log in _archive_logs(datadir, last):
        if log["topics"][0] != NAME_REGISTERED:
            continue
        name = abi_decode(
            ["string", "uint256", "uint256", "uint256"], bytes.fromhex(log["data"][2:])
        )[0]
        if any(token.startswith(word) for token in re.split(r"[^a-z0-9]+", name.lower())):
            hits += 1
    return hits


def test_demo_serves_working_examples_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    datadir = tmp_path / "demo"
    process = subprocess.Popen(
        _command(datadir), cwd=REPO, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, f"demo exited early: {''.join(lines)}"
            lines.append(line)
            if line.startswith("demo ready in"):
                break
        stdout = "".join(lines)
        assert "until Ctrl-C" in lines[-1]
        curls = _curls(stdout)
        assert [orjson.loads(body)["method"] for _, body in curls] == [
            "eth_getLogs", "eth_getLogs", "logfilter_status", "logfilter_search",
        ]  # fmt: skip
        # The printed commands answer what a brute-force scan of the archive finds.
        for url, body in curls[:2]:
            criteria = orjson.loads(body)["params"][0]
            expected = [
                log for log in _archive_logs(datadir, int(criteria["toBlock"], 16))
                if _matches(log, criteria)
            ]  # fmt: skip
            answer = _post(url, body)["result"]
            assert answer
            assert [
                (a["blockNumber"], a["logIndex"], a["transactionHash"], a["data"]) for a in answer
            ] == [
                (e["blockNumber"], e["logIndex"], e["transactionHash"], e["data"]) for e in expected
            ]
        assert _counts(stdout) == [len(_post(url, body)["result"]) for url, body in curls[:2]]
        # The printed web3.py snippet runs as pasted and finds the same logs.
        snippet = _snippet(stdout, "# web3.py")
        ran = subprocess.run(
            [sys.executable, "-c", snippet], env=_env(), capture_output=True, text=True, timeout=60
        )
        busy = _post(*curls[1])["result"]
        first_block = int(busy[0]["blockNumber"], 16)
        assert ran.stdout.strip() == f"{len(busy)} Transfer logs; first in block {first_block}"
        status = _post(*curls[2])["result"]
        assert status["chainId"] == "0x539"  # the generated chain's (1337), for ethers & co.
        assert int(status["syncedHead"]["number"], 16) >= BLOCKS - 1
        assert int(status["sections"], 16) >= BLOCKS // 128
        # The filter poll showed the Transfers of the new blocks it names.
        poll = re.search(r"^→ (\d+) new logs, in blocks ([\d, ]+)$", stdout, re.M)
        assert poll is not None
        blocks = [int(b) for b in poll[2].split(", ")]
        last = max(blocks)
        transfer = orjson.loads(curls[1][1])["params"][0]["topics"][0]
        new = [
            log for log in _archive_logs(datadir, last)
            if int(log["blockNumber"], 16) > BLOCKS - 1 and log["topics"][:1] == [transfer]
        ]  # fmt: skip
        assert int(poll[1]) == len(new) > 0
        # The text search's total is the brute-force count of matching names.
        word = re.search(r"name:(\w+)\*", curls[3][1])
        shown = re.search(r"^→ \d+ of (\d+) hits", stdout, re.M)
        assert word is not None
        assert shown is not None
        names = _name_hits(datadir, word[1], BLOCKS - 1)
        assert int(shown[1]) == names > 0
        # The printed logfilter_search curl works too (new blocks may add names).
        found = _post(*curls[3])["result"]
        assert found["total"] >= names
        assert all(word[1] in hit["highlights"]["name"][0] for hit in found["hits"])
        # The printed client-library snippet runs as pasted (it waits for new blocks).
        ran = subprocess.run(
            [sys.executable, "-c", _snippet(stdout, "# the client library")],
            cwd=REPO, env=_env(), capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        out = ran.stdout.splitlines()
        rare = orjson.loads(curls[0][1])["params"][0]
        rare_logs = [log for log in _archive_logs(datadir, BLOCKS - 1) if _matches(log, rare)]
        assert int(out[0].split()[0]) >= len(rare_logs)
        assert out[0].split()[1:] == [
            str(int(rare_logs[0]["blockNumber"], 16)), rare_logs[0]["transactionHash"][2:]
        ]  # fmt: skip
        assert re.fullmatch(r"\d+ new Transfer logs", out[1])
        assert int(out[2].split()[0]) >= names
        assert len(out) == 3 + min(3, names)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert rest.strip().endswith("demo: stopped")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_second_run_reuses_the_demo_directory(tmp_path: Path) -> None:
    datadir = tmp_path / "demo"
    first = _run(datadir, "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "generating" in first.stderr
    assert re.search(r"^demo ready in [\d.]+ s \(generate [\d.]+ s, sync", first.stdout, re.M)
    archive = (datadir / "chain.jsonl").stat()
    second = _run(datadir, "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "generating" not in second.stderr
    assert "reusing" in second.stderr
    assert re.search(r"^demo ready in [\d.]+ s \(reused .*nothing generated", second.stdout, re.M)
    assert (datadir / "chain.jsonl").stat().st_mtime_ns == archive.st_mtime_ns
    # Same picks, same answers over the synced range.
    assert _counts(first.stdout) == _counts(second.stdout)
    assert _curls(first.stdout)[0][1] == _curls(second.stdout)[0][1]
    # A taken port: one clear line naming the way out.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = _run(datadir, "--no-serve", "--port", port)
    assert busy.returncode == 1
    assert busy.stderr.strip().splitlines()[-1] == (
        f"logfilter: port {port} on 127.0.0.1 is taken: pass --port P (0 picks a free one)"
    )
    # Other parameters on the same directory: one clear line, nothing touched.
    other = subprocess.run(
        [*_command(datadir, "--no-serve"), "--fill", "saturated"], cwd=REPO, env=_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert other.returncode == 1
    assert other.stderr.startswith("logfilter: ")
    assert "another demo chain" in other.stderr
    assert "Traceback" not in other.stderr


def test_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = _run(tmp_path, "--no-serve")
    assert result.returncode == 1
    assert "is not a demo directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
