"""``logfilter serve --processes 2`` as real processes over a backfilled data directory (4
sealed segments, then the head store): every answer equals ``--processes 1``'s byte for
byte, over fresh connections that the kernel spreads over both processes; installed filters
are found whichever process a poll reaches; WebSockets work through either process; the
reader ends with the writer (SIGTERM, or ``kill -9``) and its copies go with it."""

from __future__ import annotations

import asyncio
import http.client
import os
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _request(chain_logs: list[ChainLog], data: st.DataObject) -> bytes:
    """A random ``eth_getLogs`` call: values of real logs (and absent ones); a numbered range
    inside the history (a reader answers it), across history and head, in the head, over the
    limits, reversed; a block hash, sealed (a reader answers it), in the head or unknown; or
    tags, invalid bounds (the writer's)."""
    picked = data.draw(st.lists(st.sampled_from(chain_logs), min_size=1, max_size=2))
    criteria: dict[str, Any] = {}
    addresses = ["0x" + log.address.hex() for log in picked] + ["0x" + "42" * 20]
    chosen = data.draw(st.lists(st.sampled_from(addresses), max_size=2))
    if chosen:
        criteria["address"] = chosen
    topics = ["0x" + log.topics[0].hex() for log in picked if log.topics] + ["0x" + "42" * 32]
    if data.draw(st.booleans()):
        criteria["topics"] = [data.draw(st.lists(st.sampled_from(topics), max_size=2))]
    kind = data.draw(
        st.sampled_from(["history", "history", "edge", "edge", "across", "head", "tags", "hash"])
    )
    if kind == "history":
        first = data.draw(st.integers(0, SEALED_TO))
        span = data.draw(st.sampled_from([0, 10, 300, 700]))  # 700: over --max-block-range
        last = data.draw(st.integers(max(0, first - 5), min(SEALED_TO, first + span)))
        criteria["fromBlock"], criteria["toBlock"] = hex(first), hex(last)
    elif kind == "edge":  # bounds a few blocks either side of the last sealed block
        first = data.draw(st.integers(SEALED_TO - 20, SEALED_TO + 20))
        last = data.draw(st.integers(first - 2, SEALED_TO + 20))
        criteria["fromBlock"], criteria["toBlock"] = hex(first), hex(last)
    elif kind in ("across", "head"):
        low = SEALED_TO - 300 if kind == "across" else SEALED_TO + 1
        first = data.draw(st.integers(low, BLOCKS - 1))
        criteria["fromBlock"] = hex(first)
        criteria["toBlock"] = hex(data.draw(st.integers(first, BLOCKS - 1)))
    elif kind == "tags":
        bounds = ["earliest", "latest", "0x01", "0x3ff", "0x100", "0x4b0", "0x10000"]
        criteria["fromBlock"] = data.draw(st.sampled_from(bounds))
        criteria["toBlock"] = data.draw(st.sampled_from(bounds))
    else:
        known = "0x" + data.draw(st.sampled_from(chain_logs)).block_hash.hex()
        criteria["blockHash"] = data.draw(st.sampled_from([known, known, "0x" + "42" * 32]))
        if data.draw(st.integers(0, 5)) == 0:  # with a range too: invalid
            criteria["fromBlock"] = "0x1"
    return orjson.dumps({"jsonrpc": "2.0", "id": 7, "method": "eth_getLogs", "params": [criteria]})


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
def one(datadir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``--processes 1`` over a copy of the directory (LevelDB: one process per store)."""
    copy = Path(shutil.copytree(datadir, tmp_path_factory.mktemp("one") / "dd", ignore=_locks))
    with _serve(copy, 1) as server:
        yield server


@pytest.fixture(scope="module")
def two(datadir: Path, chain_logs: list[ChainLog]) -> Iterator[ServeProcess]:
    """``--processes 2`` over the directory (after ``chain_logs``, which reads it)."""
    with _serve(datadir, 2) as server:
        _wait_readers(server)
        yield server


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_two_processes_answer_as_one(
    one: ServeProcess, two: ServeProcess, chain_logs: list[ChainLog], data: st.DataObject
) -> None:
    request = _request(chain_logs, data)
    assert _post(two.port, request) == _post(one.port, request)


def test_batches_and_status(
    one: ServeProcess, two: ServeProcess, chain_logs: list[ChainLog]
) -> None:
    assert "process" not in _call(one.port, "logfilter_status")  # one process: as before
    log = chain_logs[len(chain_logs) // 3]
    assert log.block_number <= SEALED_TO
    sealed = {"fromBlock": hex(log.block_number), "toBlock": hex(log.block_number + 3)}
    head = {"fromBlock": hex(SEALED_TO + 1), "toBlock": hex(BLOCKS - 1)}
    calls = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_getLogs", "params": [criteria]}
        for i, criteria in enumerate([sealed, head, {**sealed, "address": "0x" + "42" * 20}])
    ]
    calls.append({"jsonrpc": "2.0", "id": 9, "method": "eth_blockNumber", "params": []})
    calls.append({"jsonrpc": "2.0", "id": 10, "method": "eth_nope", "params": []})
    batch = orjson.dumps(calls)
    for _ in range(20):  # over fresh connections: both processes answer the same
        assert _post(two.port, batch) == _post(one.port, batch)
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
    one: ServeProcess, two: ServeProcess, chain_logs: list[ChainLog]
) -> None:
    log = chain_logs[len(chain_logs) // 2]
    criteria = {"fromBlock": hex(log.block_number), "toBlock": hex(log.block_number)}
    request = orjson.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [criteria]}
    )
    expected = _post(one.port, request).decode()

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(12):  # new connections: the kernel spreads them
                async with session.ws_connect(two.ws_url) as ws:
                    await ws.send_bytes(request)
                    assert (await ws.receive()).data == expected
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
        writer = server.pid
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
        assert any(line.endswith(f"share the port: writer {writer}, readers {reader}")
                   for line in lines), lines  # fmt: skip
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


def test_a_headers_only_history_is_left_to_the_writer(tmp_path: Path) -> None:
    """Without logs in the segments a reader answers no ``eth_getLogs`` itself (the writer
    may fetch logs from its upstream; a reader has none)."""
    spec = "synthetic:sparse?blocks=600&seed=4"
    datadir = str(tmp_path / "ho")
    for command in (
        ["backfill", "--to-block", "511", "--segment-blocks", "256", "--workers", "1"],
        ["sync", "--confirmations", "0", "--no-follow"],
    ):
        subprocess.run(
            [sys.executable, "-m", "rpc.cli", *command, "--upstream", spec, "--datadir", datadir,
             "--section-size", "64", "--no-logs"],
            cwd=REPO, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    with _serve(Path(datadir), 2) as server:
        _wait_readers(server)
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs",
             "params": [{"fromBlock": "0x10", "toBlock": "0x20"}]}
        )  # fmt: skip
        answers = {_post(server.port, body) for _ in range(20)}
        assert len(answers) == 1  # the writer's, through either process
        reader = _processes(server.port)["reader"]
        assert reader["sealedHistory"] is None
        assert reader["getLogs"]["local"] == 0
        assert reader["getLogs"]["forwarded"] > 0


def test_a_second_serve_leaves_the_first_ones_readers_alone(
    two: ServeProcess, datadir: Path
) -> None:
    reader = _processes(two.port)["reader"]["pid"]
    command = [sys.executable, "-m", "rpc.cli", "serve", "--datadir", str(datadir), "--no-sync"]
    command += ["--port", "0", "--processes", "2"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "in use by another process" in done.stderr.decode()
    assert (datadir / READERS_DIR / str(reader) / "manifest.json").is_file()
    before = _processes(two.port)["reader"]["getLogs"]["local"]
    for k in range(10):  # blocks of every segment
        criteria = {"fromBlock": hex(k * 100), "toBlock": hex(k * 100 + 4)}
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [criteria]}
        )
        assert "result" in orjson.loads(_post(two.port, body))
    assert _processes(two.port)["reader"]["getLogs"]["local"] > before


def test_sealed_block_hashes_are_answered_by_the_reader(
    one: ServeProcess, two: ServeProcess, chain_logs: list[ChainLog]
) -> None:
    before = _processes(two.port)["reader"]["getLogs"]
    sealed = [log for log in chain_logs if log.block_number <= SEALED_TO][::50][:20]
    for log in sealed:
        criteria = {"blockHash": "0x" + log.block_hash.hex()}
        body = orjson.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [criteria]}
        )
        assert _post(two.port, body) == _post(one.port, body)
    after = _processes(two.port)["reader"]["getLogs"]
    assert after["local"] > before["local"]
    assert after["forwarded"] == before["forwarded"]
