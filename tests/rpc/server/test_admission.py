"""Admission control of a real ``logfilter serve``: ``--max-concurrent-requests 2``.

Slow calls are held open for real: the server proxies ``test_sleep`` (``--proxy
--proxy-methods test_sleep``) to a small JSON-RPC node written here, which answers it only
after the number of seconds asked. With two of them running, a third call is refused at
once with ``-32005 server busy`` (over HTTP and over a WebSocket), cheap calls still pass,
the refusals show in ``/metrics`` and ``logfilter_status``, and once the slow calls end the
server answers everything again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.sync.client import connect

from tests.fixtures import REPO
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import ServeProcess
from tests.rpc.server.test_metrics import scrape, value

GET_LOGS = ("eth_getLogs", {"fromBlock": "0x0", "toBlock": "0x36"})
"""A query of the whole execution-apis chain (55 blocks)."""


class SlowNode:
    """A JSON-RPC node that answers ``test_sleep [s]`` after ``s`` seconds, ``eth_chainId``
    at once; it counts the sleeps under way."""

    def __init__(self, chain_id: str) -> None:
        self.sleeping = 0
        self.lock = threading.Lock()
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                result: Any = chain_id
                if request["method"] == "test_sleep":
                    with node.lock:
                        node.sleeping += 1
                    time.sleep(request["params"][0])
                    with node.lock:
                        node.sleeping -= 1
                    result = "slept"
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_sleeping(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.sleeping < count:
            assert time.monotonic() < deadline, f"{self.sleeping} sleeping, wanted {count}"
            time.sleep(0.01)


@pytest.fixture(scope="module")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The execution-apis chain synced, and its chain id."""
    syncing = serve_archive(tmp_path_factory, "--chain-id", "1337")
    chain_id = syncing.call("eth_chainId")
    assert chain_id == "0x539"
    assert syncing.stop() == 0
    datadir = Path(syncing.args[syncing.args.index("--datadir") + 1])
    shutil.copytree(datadir, datadir.parent / "copy")  # a server of its own holds each lock
    return datadir, chain_id


@pytest.fixture(scope="module")
def busy(datadir: tuple[Path, str]) -> Iterator[tuple[ServeProcess, SlowNode]]:
    """A server of two slots proxying ``test_sleep`` to a :class:`SlowNode`."""
    path, chain_id = datadir
    node = SlowNode(chain_id)
    server = ServeProcess(
        "--datadir", str(path), "--no-sync", "--upstream", node.url, "--proxy",
        "--proxy-methods", "test_sleep", "--max-concurrent-requests", "2", "--queue-wait", "0.2",
    ).start()  # fmt: skip
    yield server, node
    assert server.stop() == 0
    node.server.shutdown()


def post(port: int, method: str, *params: Any) -> dict[str, Any]:
    """One call on a connection of its own; the whole response object."""
    body = orjson.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        answer: dict[str, Any] = orjson.loads(response.read())
        return answer


def held(pool: ThreadPoolExecutor, server: ServeProcess, node: SlowNode) -> list[Future[Any]]:
    """Two ``test_sleep 2`` calls under way (both slots taken)."""
    slow = [pool.submit(post, server.port, "test_sleep", 2) for _ in range(2)]
    node.wait_sleeping(2)
    return slow


def test_overload_refused_then_served(busy: tuple[ServeProcess, SlowNode]) -> None:
    server, node = busy
    before = scrape(server.port)
    with ThreadPoolExecutor(4) as pool:
        slow = held(pool, server, node)
        started = time.monotonic()
        refused = post(server.port, *GET_LOGS)
        waited = time.monotonic() - started
        assert refused["error"]["code"] == -32005
        assert refused["error"]["message"] == (
            "server busy: 2 requests running and none finished within 0.2 s; try again"
        )
        assert refused["error"]["data"] == {"limit": "concurrency"}
        assert waited < 1.5  # refused well before the slow calls end (2 s)
        assert post(server.port, "eth_blockNumber")["result"] == "0x36"  # cheap: not gated
        with connect(server.ws_url) as ws:  # a WebSocket goes through the same gate
            ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": GET_LOGS[0],
                                  "params": [GET_LOGS[1]]}).decode())  # fmt: skip
            assert orjson.loads(ws.recv(timeout=5))["error"]["code"] == -32005
        during = scrape(server.port)
        assert value(during, "logfilter_rpc_calls_running") == 2
        assert [f.result()["result"] for f in slow] == ["slept", "slept"]
    after = scrape(server.port)
    refusals = {
        "logfilter_rpc_calls_refused_total": 2,
        "logfilter_rpc_calls_admitted_total": 2,
        "logfilter_rpc_limit_errors_total": 2,
    }
    for name, grew in refusals.items():
        labels = {"limit": "concurrency"} if name == "logfilter_rpc_limit_errors_total" else {}
        assert value(after, name, **labels) - value(before, name, **labels) == grew, name
    assert value(after, "logfilter_rpc_calls_running") == 0
    # The overload has passed: everything is answered again.
    logs = post(server.port, *GET_LOGS)["result"]
    assert len(logs) > 0
    status = post(server.port, "logfilter_status")["result"]["admission"]
    assert status["maxConcurrentRequests"] == "0x2"
    assert status["queueWait"] == 0.2
    assert status["running"] == "0x1"  # this very call
    assert status["waiting"] == "0x0"
    assert int(status["refused"], 16) == value(after, "logfilter_rpc_calls_refused_total")


def test_nothing_refused_under_the_limit(busy: tuple[ServeProcess, SlowNode]) -> None:
    server, node = busy
    before = scrape(server.port)
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(post, server.port, "test_sleep", 1)
        node.wait_sleeping(1)
        for _ in range(20):  # one slot free: each call runs at once
            assert "result" in post(server.port, *GET_LOGS)
        assert slow.result()["result"] == "slept"
    after = scrape(server.port)
    assert value(after, "logfilter_rpc_calls_refused_total") == value(
        before, "logfilter_rpc_calls_refused_total"
    )


def test_a_short_wait_is_admitted(datadir: tuple[Path, str]) -> None:
    """A call that finds every slot taken but one freeing within ``--queue-wait`` runs."""
    path, chain_id = datadir[0].parent / "copy", datadir[1]
    node = SlowNode(chain_id)
    flags = ["--max-concurrent-requests", "1", "--queue-wait", "5"]
    with (
        ServeProcess("--datadir", str(path), "--no-sync", "--upstream", node.url, "--proxy",
                     "--proxy-methods", "test_sleep", *flags) as server,
        ThreadPoolExecutor(1) as pool,
    ):  # fmt: skip
        slow = pool.submit(post, server.port, "test_sleep", 0.5)
        node.wait_sleeping(1)
        assert "result" in post(server.port, *GET_LOGS)
        assert slow.result()["result"] == "slept"
        status = post(server.port, "logfilter_status")["result"]["admission"]
        assert (status["waited"], status["refused"]) == ("0x1", "0x0")
    node.server.shutdown()


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (["--max-concurrent-requests", "0"], {},
         "argument --max-concurrent-requests: must be at least 1"),
        (["--max-concurrent-requests", "-3"], {},
         "argument --max-concurrent-requests: must not be negative: -3"),
        (["--max-concurrent-queries", "0"], {},
         "argument --max-concurrent-queries: must be at least 1"),
        (["--queue-wait", "0"], {}, "argument --queue-wait: must be positive: 0"),
        (["--queue-wait", "-1"], {}, "argument --queue-wait: must be positive: -1"),
        ([], {"LOGFILTER_QUEUE_WAIT": "0"}, "LOGFILTER_QUEUE_WAIT: must be positive: 0"),
    ],
)  # fmt: skip
def test_bad_flags(tmp_path: Path, flags: list[str], env: dict[str, str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "serve", "--datadir", str(tmp_path), "--no-sync",
         *flags],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert message in lines[-1], done.stderr
    assert "Traceback" not in done.stderr
