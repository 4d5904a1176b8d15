"""``logfilter serve --processes 2`` as real processes over a backfilled data directory (4
sealed segments, then the head store): every answer equals ``--processes 1``'s byte for
byte, over fresh connections that the kernel spreads over both processes; installed filters
are found whichever process a poll reaches; WebSockets work through either process; the
reader ends with the writer (SIGTERM, or ``kill -9``) and its copies go with it."""

from __future__ import annotations

import asyncio
import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from chainindex.types import ChainLog
from rpc.server.readcopy import READERS_DIR
from tests.chainindex.segments.chain import BLOCKS, SEALED_TO, backfill, engine, every_log, sync
from tests.fixtures import REPO
from tests.rpc.serve import ServeProcess

LIMITS = ("--max-block-range", "600", "--max-results", "150")
"""Small limits, so that some answers are limit errors (their suggested ranges compared)."""


@pytest.fixture(scope="module")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain backfilled into 4 segments (0..1023), the rest synced into the head store."""
    path = tmp_path_factory.mktemp("processes") / "dd"
    backfill(path)
    sync(path)
    return path


@pytest.fixture(scope="module")
def chain_logs(datadir: Path) -> list[ChainLog]:
    with engine(datadir) as segmented:
        return asyncio.run(every_log(segmented))


def _post(port: int, body: bytes) -> bytes:
    """One request over a new connection (so that each may reach another process)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        conn.close()


def _call(port: int, method: str, *params: Any) -> Any:
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    answer = orjson.loads(_post(port, body))
    assert "error" not in answer, answer
    return answer["result"]


def _hex(n: int) -> str:
    return hex(n)


def _requests(chain_logs: list[ChainLog], seed: int, count: int) -> list[bytes]:
    """Random ``eth_getLogs`` calls: values of real logs (and absent ones), numbered ranges
    inside the history (most), across history and head, in the head, over the limits; tags,
    block hashes and invalid parameters."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        picked = rng.sample(chain_logs, 2)
        criteria: dict[str, Any] = {}
        if rng.random() < 0.6:
            addresses = ["0x" + log.address.hex() for log in picked] + ["0x" + "42" * 20]
            criteria["address"] = rng.sample(addresses, rng.randint(1, 2))
        if rng.random() < 0.6:
            topics = ["0x" + log.topics[0].hex() for log in picked if log.topics]
            criteria["topics"] = [rng.sample([*topics, "0x" + "42" * 32], 1)]
        kind = rng.random()
        if kind < 0.55:  # inside the sealed history
            first = rng.randint(0, SEALED_TO)
            last = rng.randint(first, min(SEALED_TO, first + rng.choice((10, 300, 700))))
        elif kind < 0.7:  # across history and head
            first = rng.randint(SEALED_TO - 300, SEALED_TO)
            last = rng.randint(SEALED_TO + 1, BLOCKS - 1)
        elif kind < 0.8:  # the head store
            first = rng.randint(SEALED_TO + 1, BLOCKS - 1)
            last = rng.randint(first, BLOCKS - 1)
        elif kind < 0.85:
            first, last = 500, 400  # invalid: from > to
        else:
            first = last = -1
        if first >= 0:
            criteria["fromBlock"], criteria["toBlock"] = _hex(first), _hex(last)
        elif rng.random() < 0.5:
            criteria["fromBlock"] = rng.choice(("earliest", "latest", "0x01", "0x3ff"))
            criteria["toBlock"] = rng.choice(("latest", "0x100", "0x4b0"))
        else:
            criteria["blockHash"] = "0x" + rng.choice(chain_logs).block_hash.hex()
        call = {"jsonrpc": "2.0", "id": i, "method": "eth_getLogs", "params": [criteria]}
        out.append(orjson.dumps(call))
    return out


def _serve(datadir: Path, processes: int, *more: str, log: Path | None = None) -> ServeProcess:
    return ServeProcess(
        "--datadir", str(datadir), "--no-sync", "--processes", str(processes), *LIMITS, *more,
        log=log,
    )  # fmt: skip


def _wait_readers(server: ServeProcess, timeout: float = 120.0) -> dict[str, Any]:
    """The writer's status once every reader serves."""
    deadline = time.monotonic() + timeout
    while True:
        status = _call(server.port, "logfilter_status")["process"]
        if status["role"] == "writer" and status["readers"] == status["processes"] - 1:
            return dict(status)
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def _processes(port: int, tries: int = 60) -> dict[str, dict[str, Any]]:
    """``process`` of ``logfilter_status`` by role, over fresh connections."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(tries):
        process = _call(port, "logfilter_status")["process"]
        seen[process["role"]] = process
    return seen


@pytest.fixture(scope="module")
def reference(datadir: Path, chain_logs: list[ChainLog]) -> dict[bytes, bytes]:
    """Every request's answer from ``--processes 1``, which has no ``process`` status."""
    requests = _requests(chain_logs, seed=5, count=160)
    with _serve(datadir, 1) as server:
        assert "process" not in _call(server.port, "logfilter_status")
        return {request: _post(server.port, request) for request in requests}


@pytest.fixture(scope="module")
def two(datadir: Path, reference: dict[bytes, bytes]) -> Iterator[ServeProcess]:
    with _serve(datadir, 2) as server:
        _wait_readers(server)
        yield server


def test_two_processes_answer_as_one(two: ServeProcess, reference: dict[bytes, bytes]) -> None:
    for request, expected in reference.items():
        assert _post(two.port, request) == expected, request
    batch = list(reference)[:20]
    joined = b"[" + b",".join(batch) + b"]"
    assert orjson.loads(_post(two.port, joined)) == [orjson.loads(reference[r]) for r in batch]
    seen = _processes(two.port)
    assert set(seen) == {"writer", "reader"}
    reader = seen["reader"]
    assert reader["pid"] != seen["writer"]["pid"]
    assert reader["sealedHistory"] == [0, SEALED_TO]
    assert reader["getLogs"]["local"] > 0  # the reader answered sealed ranges itself
    assert reader["getLogs"]["forwarded"] > 0  # and passed the head's to the writer


def test_filters_are_found_through_any_process(two: ServeProcess) -> None:
    logs_filter = _call(two.port, "eth_newFilter", {"address": "0x" + "42" * 20})
    blocks_filter = _call(two.port, "eth_newBlockFilter")
    for _ in range(30):
        assert _call(two.port, "eth_getFilterChanges", logs_filter) == []
        assert _call(two.port, "eth_getFilterChanges", blocks_filter) == []
        assert _call(two.port, "eth_getFilterLogs", logs_filter) == []
    assert _call(two.port, "eth_uninstallFilter", logs_filter) is True
    for _ in range(10):
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getFilterChanges", "params": [logs_filter]}
        )
        assert orjson.loads(_post(two.port, body))["error"]["message"] == "filter not found"
    assert _call(two.port, "eth_uninstallFilter", blocks_filter) is True


def test_websockets_work_through_either_process(
    two: ServeProcess, reference: dict[bytes, bytes]
) -> None:
    request = next(iter(reference))

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(12):  # new connections: the kernel spreads them
                async with session.ws_connect(two.ws_url) as ws:
                    await ws.send_bytes(request)
                    assert (await ws.receive()).data == reference[request].decode()
                    sub = b'{"jsonrpc":"2.0","id":"s","method":"eth_subscribe","params":["logs"]}'
                    await ws.send_bytes(sub)
                    subscribed = orjson.loads((await ws.receive()).data)
                    subscription = subscribed["result"]
                    unsub = {"jsonrpc": "2.0", "id": 2, "method": "eth_unsubscribe"}
                    await ws.send_bytes(orjson.dumps({**unsub, "params": [subscription]}))
                    assert orjson.loads((await ws.receive()).data)["result"] is True

    asyncio.run(run())


def _locks(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("LOCK", "logfilter.ipc", READERS_DIR)}


def _gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if _zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_the_reader_ends_with_the_writer(datadir: Path, tmp_path: Path, how: str) -> None:
    datadir = Path(shutil.copytree(datadir, tmp_path / "dd", ignore=_locks))  # `two` has it
    server = _serve(datadir, 2).start()
    try:
        _wait_readers(server)
        reader = _processes(server.port)["reader"]["pid"]
        assert (datadir / READERS_DIR / str(reader)).is_dir()
        if how == "SIGTERM":
            assert server.stop() == 0
        else:
            os.kill(server.pid, signal.SIGKILL)
        assert _gone(reader), "the reader outlived the writer"
        assert not (datadir / READERS_DIR / str(reader)).exists()  # its copies removed
    finally:
        server.stop()


def test_sigint_is_the_writers_and_a_dead_reader_stops_the_command(
    datadir: Path, tmp_path: Path
) -> None:
    datadir = Path(shutil.copytree(datadir, tmp_path / "dd", ignore=_locks))
    log = tmp_path / "serve.log"
    server = _serve(datadir, 2, log=log).start()
    try:
        _wait_readers(server)
        reader = _processes(server.port)["reader"]["pid"]
        os.kill(reader, signal.SIGINT)  # Ctrl-C reaches the readers too: the writer decides
        time.sleep(1.0)
        assert not _gone(reader, timeout=0.5)
        assert _processes(server.port)["reader"]["pid"] == reader
        os.kill(reader, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while server.alive:
            assert time.monotonic() < deadline, "the writer outlived its reader"
            time.sleep(0.05)
        assert server.stop() == 1
        lines = log.read_text().strip().splitlines()
        assert lines[-1] == f"logfilter: reader process {reader} ended with status -9; stopping"
        assert not (datadir / READERS_DIR).exists()  # the writer cleared what the reader left
    finally:
        server.stop()
    left = datadir / READERS_DIR / "99999999" / "segments"  # as after a kill -9 of them all
    left.mkdir(parents=True)
    with _serve(datadir, 2) as again:  # cleared at start
        _wait_readers(again)
        again_reader = _processes(again.port)["reader"]["pid"]
        assert sorted(p.name for p in (datadir / READERS_DIR).iterdir()) == [str(again_reader)]


def test_processes_need_sealed_history(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    sync(plain, until=200)
    command = [sys.executable, "-m", "rpc.cli", "serve", "--datadir", str(plain), "--no-sync"]
    command += ["--port", "0", "--processes", "2"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, timeout=120, check=False)
    assert done.returncode == 1
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "--processes 2" in lines[0]
    assert "logfilter backfill" in lines[0]
