"""``logfilter serve`` over HTTP and WebSocket: answers, streaming, read-only serving, the
command line."""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from websockets.sync.client import connect

from tests.fixtures import REPO, execution_apis_archive
from tests.rpc.conftest import ARCHIVE_ARGS
from tests.rpc.serve import RpcCallFailedError, ServeProcess


def all_logs(first: int, last: int) -> list[object]:
    out = []
    with execution_apis_archive().open("rb") as f:
        for number, line in enumerate(f):
            if first <= number <= last:
                out += [log for r in orjson.loads(line)["receipts"] for log in r["logs"]]
    return out


def test_chain_methods(archive_server: ServeProcess) -> None:
    assert archive_server.call("eth_blockNumber") == "0x36"
    with pytest.raises(RpcCallFailedError) as caught:
        archive_server.call("eth_chainId")
    assert caught.value.code == -32000
    assert "archive" in str(caught.value.message)
    assert "run `logfilter sync --chain-id N --datadir DIR` on it" in str(caught.value.message)
    status = archive_server.call("logfilter_status")
    assert status["upstreamHead"] == "0x36"
    assert status["lag"] == "0x0"
    assert status["phase"] in ("following", "stopped")
    assert status["headersOnly"] is False
    assert status["tail"] == "0x0"


def test_unknown_methods_without_proxy(archive_server: ServeProcess) -> None:
    with pytest.raises(RpcCallFailedError) as caught:
        archive_server.call("eth_getBalance", "0x" + "00" * 20, "latest")
    assert caught.value.error == {
        "code": -32601,
        "message": "the method eth_getBalance does not exist/is not available",
    }


def test_a_notification_gets_an_empty_answer(archive_server: ServeProcess) -> None:
    status, body = archive_server.post(b'{"jsonrpc":"2.0","method":"eth_blockNumber"}')
    assert (status, body) == (200, b"")


def test_subscriptions_need_a_websocket(archive_server: ServeProcess) -> None:
    with pytest.raises(RpcCallFailedError) as caught:
        archive_server.call("eth_subscribe", "newHeads")
    assert caught.value.error == {"code": -32601, "message": "notifications not supported"}


def test_websocket_calls_batches_and_subscriptions(archive_server: ServeProcess) -> None:
    with connect(archive_server.ws_url) as ws:
        ws.send(
            '{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x3","toBlock":"0x4"}]}'
        )
        assert orjson.loads(ws.recv(timeout=10))["result"] == all_logs(3, 4)
        ws.send(
            '[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":2,"method":"x"}]'
        )
        batch = orjson.loads(ws.recv(timeout=10))
        assert batch[0] == {"jsonrpc": "2.0", "id": 1, "result": "0x36"}
        assert batch[1]["error"]["code"] == -32601
        ws.send(
            '{"jsonrpc":"2.0","id":3,"method":"eth_subscribe","params":["logs",{"address":"0x7dcd17433742f4c0ca53122ab541d0ba67fc27df"}]}'
        )
        sub = orjson.loads(ws.recv(timeout=10))["result"]
        assert sub.startswith("0x")
        ws.send('{"jsonrpc":"2.0","id":4,"method":"eth_subscribe","params":["syncing"]}')
        assert orjson.loads(ws.recv(timeout=10))["error"] == {
            "code": -32601, "message": 'no "syncing" subscription in eth namespace'
        }  # fmt: skip
        ws.send(
            orjson.dumps(
                {"jsonrpc": "2.0", "id": 5, "method": "eth_unsubscribe", "params": [sub]}
            ).decode()
        )
        assert orjson.loads(ws.recv(timeout=10))["result"] is True
        ws.send(
            orjson.dumps(
                {"jsonrpc": "2.0", "id": 6, "method": "eth_unsubscribe", "params": [sub]}
            ).decode()
        )
        assert orjson.loads(ws.recv(timeout=10))["error"] == {
            "code": -32000, "message": "subscription not found"
        }  # fmt: skip


def test_filters_over_a_finished_chain(archive_server: ServeProcess) -> None:
    query = {
        "fromBlock": "0x1",
        "toBlock": "0x5",
        "topics": [[], ["0x95b7276947f6331672b0c63eca28c1d39f25286d5e2793d6a487837ff1475ba0"]],
    }
    filter_id = archive_server.call("eth_newFilter", query)
    assert archive_server.call("eth_getFilterLogs", filter_id) == archive_server.call(
        "eth_getLogs", query
    )
    assert len(archive_server.call("eth_getFilterLogs", filter_id)) == 1
    assert archive_server.call("eth_getFilterChanges", filter_id) == []
    block_filter = archive_server.call("eth_newBlockFilter")
    assert archive_server.call("eth_getFilterChanges", block_filter) == []
    with pytest.raises(RpcCallFailedError) as caught:
        archive_server.call("eth_getFilterLogs", block_filter)
    assert caught.value.error == {"code": -32000, "message": "filter not found"}
    assert archive_server.call("eth_uninstallFilter", filter_id) is True
    assert archive_server.call("eth_uninstallFilter", filter_id) is False
    with pytest.raises(RpcCallFailedError) as caught:
        archive_server.call("eth_getFilterChanges", filter_id)
    assert caught.value.error == {"code": -32000, "message": "filter not found"}
    for bad in (
        {"fromBlock": "pending"},
        {"fromBlock": "0x5", "toBlock": "0x4"},
        {"fromBlock": "safe"},
    ):
        with pytest.raises(RpcCallFailedError) as caught:
            archive_server.call("eth_newFilter", bad)
        assert caught.value.code == -32602


def test_unlimited_answers_are_streamed(tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    args = ["--upstream", str(execution_apis_archive()), "--datadir", str(datadir), *ARCHIVE_ARGS]
    with ServeProcess(*args, "--max-results", "0") as server:
        server.wait_synced(54, sections=6)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x0"}]}'
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        got = orjson.loads(response.read())
        conn.close()
        assert got["result"] == all_logs(0, 54)
        # Errors found before the first part are proper answers.
        with pytest.raises(RpcCallFailedError) as caught:
            server.call("eth_getLogs", {"fromBlock": "0x30", "toBlock": "0x40"})
        assert caught.value.error["message"] == "block range extends beyond current head block"
        assert server.call("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x1"}) == []
        assert server.stop() == 0
    # The same data directory, served read-only.
    with ServeProcess("--datadir", str(datadir), "--no-sync") as server:
        assert server.call("logfilter_status")["phase"] == "read-only"
        assert server.call("logfilter_status")["upstreamHead"] is None
        assert server.call("eth_getLogs", {"fromBlock": "0x30"}) == all_logs(48, 54)
        assert server.stop() == 0


def test_command_line_errors_are_one_line(tmp_path: Path) -> None:
    def serve(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rpc.cli", "serve", *args],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    empty = serve("--datadir", str(tmp_path / "none"), "--no-sync", "--port", "0")
    assert empty.returncode == 1
    assert empty.stderr.strip().splitlines() == [
        f"logfilter: no data directory at {tmp_path / 'none'} to serve (--no-sync)"
    ]
    assert not (tmp_path / "none").exists()  # a read-only server creates nothing
    missing = serve("--datadir", str(tmp_path / "x"))
    assert missing.returncode == 2
    assert "--upstream is needed" in missing.stderr
    proxy = serve(
        "--datadir", str(tmp_path / "p"), "--upstream", str(execution_apis_archive()),
        "--proxy", "--port", "0",
    )  # fmt: skip
    assert proxy.returncode == 1
    assert "--proxy needs an upstream node URL" in proxy.stderr
    assert "Traceback" not in empty.stderr + missing.stderr + proxy.stderr
