"""Every limit, exceeded, is a clear JSON-RPC error (never a crash), with the contract's
shape: ``-32005`` and, for range and result limits, a suggested range in ``data``."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.fixtures import execution_apis_archive
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import RpcCallFailedError, ServeProcess

A = "0x" + "ab" * 20
T = "0x" + "cd" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = serve_archive(
        tmp_path_factory,
        "--max-results", "5", "--max-block-range", "10", "--max-values", "3",
        "--max-batch", "4", "--max-body-bytes", "4000", "--max-filters", "2",
        "--max-connection-filters", "1",
        "--max-subscriptions", "2",
    )  # fmt: skip
    yield process
    assert process.stop() == 0


def logs_per_block() -> list[int]:
    with execution_apis_archive().open("rb") as f:
        return [sum(len(r["logs"]) for r in orjson.loads(line)["receipts"]) for line in f]


def error_of(server: ServeProcess, method: str, *params: object) -> dict[str, object]:
    with pytest.raises(RpcCallFailedError) as caught:
        server.call(method, *params)
    return caught.value.error


def test_result_limit_with_the_suggested_range(server: ServeProcess) -> None:
    counts = logs_per_block()
    first = 3
    total, over = 0, first
    for number in range(first, 13):
        total += counts[number]
        if total > 5:
            over = number
            break
    error = error_of(server, "eth_getLogs", {"fromBlock": hex(first), "toBlock": hex(12)})
    last = max(first, over - 1)
    assert error == {
        "code": -32005,
        "message": f"query returned more than 5 results; try with this block range "
        f"[{first:#x}, {last:#x}]",
        "data": {"limit": "results", "max": 5, "from": hex(first), "to": hex(last)},
    }


def test_block_range_limit_with_the_suggested_range(server: ServeProcess) -> None:
    error = error_of(server, "eth_getLogs", {"fromBlock": "0x14", "toBlock": "0x1e", "address": A})
    assert error == {
        "code": -32005,
        "message": "query exceeds max block range 10; try with this block range [0x14, 0x1d]",
        "data": {"limit": "blockRange", "max": 10, "from": "0x14", "to": "0x1d"},
    }
    assert server.call("eth_getLogs", {"fromBlock": "0x14", "toBlock": "0x1d", "address": A}) == []


def test_too_many_values_per_position(server: ServeProcess) -> None:
    message = "exceed max addresses or topics per search position"
    for params in ({"address": [A] * 4}, {"topics": [None, [T] * 4]}):
        assert error_of(server, "eth_getLogs", params) == {"code": -32602, "message": message}
        assert error_of(server, "eth_newFilter", params) == {"code": -32602, "message": message}
    assert server.call("eth_getLogs", {"address": [A] * 3, "topics": [[T] * 3]}) == []


def test_batch_and_body_limits(server: ServeProcess) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}
    status, body = server.post(orjson.dumps([call] * 5))
    error = orjson.loads(body)["error"]
    assert status == 200
    assert error["code"] == -32005
    assert error["message"] == "batch too large: 5 calls, at most 4"
    assert len(orjson.loads(server.post(orjson.dumps([call] * 4))[1])) == 4
    status, body = server.post(orjson.dumps({**call, "pad": "x" * 5000}))
    assert status == 200
    assert orjson.loads(body) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32005, "message": "request body too large: more than 4000 bytes"},
    }
    assert server.call("eth_blockNumber") == "0x36"


def ws_call(ws: ClientConnection, method: str, *params: object) -> dict[str, object]:
    ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    answer: dict[str, object] = orjson.loads(ws.recv(timeout=10))
    return answer


def test_installed_filters_cap_in_all_and_per_connection(server: ServeProcess) -> None:
    everyone = {
        "code": -32005,
        "message": "too many installed filters (at most 2 in all); "
        "unpolled ones expire after 300 s",
    }
    ids = [server.call("eth_newBlockFilter"), server.call("eth_newFilter", {})]
    assert error_of(server, "eth_newFilter", {}) == everyone
    with connect(server.ws_url) as ws:  # another client: the cap is on all filters
        assert ws_call(ws, "eth_newBlockFilter")["error"] == everyone
        assert server.call("eth_uninstallFilter", ids.pop()) is True
        result = ws_call(ws, "eth_newBlockFilter")["result"]
        assert isinstance(result, str)
        ids.append(result)
        assert server.call("eth_uninstallFilter", ids.pop(0)) is True
        # One left in all, but this connection holds its one.
        assert ws_call(ws, "eth_newFilter", {})["error"] == {
            "code": -32005,
            "message": "too many installed filters on this connection (at most 1)",
        }
        ids.append(server.call("eth_newBlockFilter"))  # over HTTP: no connection to count
        assert error_of(server, "eth_newBlockFilter") == everyone
    for filter_id in ids:
        assert server.call("eth_uninstallFilter", filter_id) is True


def test_websocket_limits(server: ServeProcess) -> None:
    with connect(server.ws_url) as ws:
        answers = []
        for i in range(3):
            ws.send(orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe",
                                  "params": ["newHeads"]}).decode())  # fmt: skip
            answers.append(orjson.loads(ws.recv(timeout=10)))
        assert [a["id"] for a in answers] == [0, 1, 2]
        assert "result" in answers[0]
        assert "result" in answers[1]
        assert answers[2]["error"] == {
            "code": -32005,
            "message": "too many subscriptions on this connection (at most 2)",
        }
        ws.send('{"jsonrpc":"2.0","id":9,"method":"eth_blockNumber","pad":"' + "x" * 5000 + '"}')
        assert orjson.loads(ws.recv(timeout=10))["error"] == {
            "code": -32005,
            "message": "message too large: more than 4000 bytes",
        }
        ws.send('{"jsonrpc":"2.0","id":10,"method":"eth_blockNumber"}')
        assert orjson.loads(ws.recv(timeout=10)) == {"jsonrpc": "2.0", "id": 10, "result": "0x36"}
