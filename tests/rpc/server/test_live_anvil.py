"""``logfilter serve`` following a real anvil node: installed filters and subscriptions see
new blocks, and a reorg's undone logs come back with ``removed: true`` (polled and pushed);
filters expire; ``safe``/``finalized`` are the node's."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, random_calldata
from tests.rpc.serve import RpcCallFailedError, ServeProcess
from tests.rpc.server.heads import GETH_HEADER_ORDER, header_fields

FOLLOW = ["--section-size", "8", "--confirmations", "0", "--poll-interval", "0.05"]


def serve_anvil(anvil: Anvil, tmp_path: Path, *extra: str, ws: bool = False) -> ServeProcess:
    upstream = anvil.ws_url if ws else anvil.url
    return ServeProcess(
        "--upstream", upstream, "--datadir", str(tmp_path / "dd"), *FOLLOW, *extra
    ).start()  # fmt: skip


def wait_for_head(server: ServeProcess, anvil: Anvil, timeout: float = 30) -> None:
    """Until the server's synced head is the node's head (number and hash), and its
    ``eth_blockNumber`` says so (it follows once the commit's sections and events are
    done)."""
    deadline = time.monotonic() + timeout
    while True:
        head = anvil.rpc("eth_getBlockByNumber", "latest", False)
        synced = server.call("logfilter_status")["syncedHead"]
        if synced == {"number": head["number"], "hash": head["hash"]}:
            try:
                if server.call("eth_blockNumber") == head["number"]:
                    return
            except RpcCallFailedError:
                pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"server at {synced}, node at {head['number']}")
        time.sleep(0.05)


def changes(server: ServeProcess, filter_id: str, count: int, timeout: float = 20) -> list[Any]:
    """What ``eth_getFilterChanges`` returns over successive polls until ``count`` items came
    (a chain event reaches the filters just after the head moves: a poll in between sees
    the rest at the next one)."""
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += server.call("eth_getFilterChanges", filter_id)
        if len(got) < count:
            time.sleep(0.05)
    return got


def subscribe(ws: ClientConnection, *params: Any) -> str:
    ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                          "params": list(params)}).decode())  # fmt: skip
    answer = orjson.loads(ws.recv(timeout=10))
    return str(answer["result"])


def notifications(ws: ClientConnection, count: int) -> dict[str, list[Any]]:
    """The next ``count`` notifications, by subscription."""
    out: dict[str, list[Any]] = {}
    for _ in range(count):
        message = orjson.loads(ws.recv(timeout=20))
        assert message["method"] == "eth_subscription"
        out.setdefault(message["params"]["subscription"], []).append(message["params"]["result"])
    return out


def node_logs(anvil: Anvil, address: str, first: int, last: int) -> list[Any]:
    logs: list[Any] = anvil.rpc(
        "eth_getLogs", {"address": address, "fromBlock": hex(first), "toBlock": hex(last)}
    )
    return logs


def test_filters_and_subscriptions_through_a_reorg(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 12, seed=21)
    address = emitters[0].address
    server = serve_anvil(anvil, tmp_path, ws=True)
    try:
        wait_for_head(server, anvil)
        start = anvil.block_number()
        log_filter = server.call("eth_newFilter", {"address": address})
        block_filter = server.call("eth_newBlockFilter")
        with connect(server.ws_url) as ws:
            log_sub = subscribe(ws, "logs", {"address": address})
            head_sub = subscribe(ws, "newHeads")
            # New blocks.
            build_chain(anvil, 10, seed=22, emitters=emitters)
            wait_for_head(server, anvil)
            head = anvil.block_number()
            added = node_logs(anvil, address, start + 1, head)
            assert added, "the new blocks must hold logs of the filtered address"
            assert changes(server, log_filter, len(added)) == added
            assert server.call("eth_getFilterChanges", log_filter) == []
            hashes = [
                anvil.rpc("eth_getBlockByNumber", hex(n), False)["hash"]
                for n in range(start + 1, head + 1)
            ]
            assert changes(server, block_filter, len(hashes)) == hashes
            pushed = notifications(ws, len(added) + len(hashes))
            assert pushed[log_sub] == added
            assert [h["hash"] for h in pushed[head_sub]] == hashes
            assert [h["number"] for h in pushed[head_sub]] == [
                hex(n) for n in range(start + 1, head + 1)
            ]
            for pushed_head in pushed[head_sub]:
                block = anvil.rpc("eth_getBlockByNumber", pushed_head["number"], False)
                assert pushed_head == header_fields(block)
                assert list(pushed_head) == [k for k in GETH_HEADER_ORDER if k in pushed_head]
            # A reorg replacing the last 6 blocks (across a section boundary of 8).
            depth = 6
            undone = node_logs(anvil, address, head - depth + 1, head)
            assert undone, "the blocks undone must hold logs of the filtered address"
            rng = random.Random(23)
            owner = anvil.accounts()[3]
            replacement = [
                (emitters[0].tx(random_calldata(rng, emitters[0], owner)), rng.randrange(depth))
                for _ in range(8)
            ]
            anvil.reorg(depth, replacement)
            wait_for_head(server, anvil)
            redone = node_logs(anvil, address, head - depth + 1, anvil.block_number())
            removed = [{**log, "removed": True} for log in undone]
            assert changes(server, log_filter, len(removed) + len(redone)) == removed + redone
            new_hashes = changes(server, block_filter, depth)
            assert new_hashes[-1] == anvil.rpc("eth_getBlockByNumber", "latest", False)["hash"]
            pushed = notifications(ws, len(removed) + len(redone) + len(new_hashes))
            assert pushed[log_sub] == removed + redone
            # The range query sees the new chain only.
            assert server.call(
                "eth_getLogs", {"address": address, "fromBlock": "0x0"}
            ) == node_logs(anvil, address, 0, anvil.block_number())
        assert server.stop() == 0
    finally:
        server.stop()


def test_installed_filters_expire(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 3, seed=24)
    with serve_anvil(anvil, tmp_path, "--filter-timeout", "1") as server:
        kept = server.call("eth_newBlockFilter")
        dropped = server.call("eth_newBlockFilter")
        for _ in range(6):
            time.sleep(0.4)
            server.call("eth_getFilterChanges", kept)  # polled: stays
        with pytest.raises(RpcCallFailedError) as caught:
            server.call("eth_getFilterChanges", dropped)
        assert caught.value.error == {"code": -32000, "message": "filter not found"}
        assert server.call("eth_getFilterChanges", kept) == []


def test_safe_and_finalized_are_the_nodes(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 70, seed=25)
    with serve_anvil(anvil, tmp_path) as server:
        wait_for_head(server, anvil)
        safe = int(anvil.rpc("eth_getBlockByNumber", "safe", False)["number"], 16)
        finalized = int(anvil.rpc("eth_getBlockByNumber", "finalized", False)["number"], 16)
        assert finalized < safe < anvil.block_number()
        address = emitters[1].address
        got = server.call(
            "eth_getLogs", {"address": address, "fromBlock": "finalized", "toBlock": "safe"}
        )
        assert got == node_logs(anvil, address, finalized, safe)
        assert got


def test_proxy_forwards_other_methods(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 3, seed=26)
    account = anvil.accounts()[1]
    with serve_anvil(anvil, tmp_path, "--proxy") as server:
        assert server.call("eth_getBalance", account, "latest") == anvil.rpc(
            "eth_getBalance", account, "latest"
        )
        assert server.call("eth_getBlockByNumber", "0x1", False) == anvil.rpc(
            "eth_getBlockByNumber", "0x1", False
        )
        # The node's own errors come back with its code and message.
        node = anvil._post(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance",
                                         "params": ["0x12", "latest"]}))  # fmt: skip
        with pytest.raises(RpcCallFailedError) as caught:
            server.call("eth_getBalance", "0x12", "latest")
        assert caught.value.code == node["error"]["code"]
        assert caught.value.message == node["error"]["message"]
        # The service's own methods are still its own (the node has no logfilter_status).
        wait_for_head(server, anvil)
        head = anvil.rpc("eth_getBlockByNumber", "latest", False)
        status = server.call("logfilter_status")
        assert status["syncedHead"] == {"number": head["number"], "hash": head["hash"]}
        assert status["phase"] in ("syncing", "following")


def test_sigint_stops_cleanly(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 2, seed=27)
    server = serve_anvil(anvil, tmp_path)
    wait_for_head(server, anvil)
    process = server._process
    assert process is not None
    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0
    server.stop()


def test_chain_id_before_any_block_is_stored(anvil: Anvil, tmp_path: Path) -> None:
    """An empty directory learns the chain id from the upstream at start, before its first
    block is stored (clients such as ethers.js ask for it first): here no block is stored at
    all, the sync waiting for a block the node does not have yet."""
    build_chain(anvil, 1, seed=34)
    with serve_anvil(anvil, tmp_path, "--from-block", "1000") as server:
        deadline = time.monotonic() + 30
        refusals: list[str] = []
        while True:
            try:
                answer = server.call("eth_chainId")
                break
            except RpcCallFailedError as err:
                refusals.append(str(err))
                assert time.monotonic() < deadline, "no chain id after 30 s"
                time.sleep(0.05)
        # Refused only until the sync has asked the node who it is, and saying so.
        assert all("chain id not known yet" in refusal for refusal in refusals), refusals
        assert int(answer, 16) == 31337 == int(anvil.rpc("eth_chainId"), 16)
        assert server.call("net_version") == "31337"
        with pytest.raises(RpcCallFailedError, match="no blocks synced yet"):
            server.call("eth_blockNumber")
