"""``--proxy`` forwards an allow-list to a real anvil node: read-only methods by default,
exactly the named ones with ``--proxy-methods``; anything else is ``-32601`` and never reaches
the node (a transaction sent through it is not mined)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.anvil import Anvil
from tests.chainindex.chains import build_chain
from tests.fixtures import REPO
from tests.rpc.serve import RpcCallFailedError, ServeProcess
from tests.rpc.server.test_live_anvil import serve_anvil

DANGEROUS: list[tuple[str, list[object]]] = [
    ("admin_nodeInfo", []),
    ("admin_addPeer", ["enode://00@127.0.0.1:30303"]),
    ("debug_traceTransaction", ["0x" + "00" * 32]),
    ("personal_unlockAccount", ["0x" + "11" * 20, "", 0]),
    ("miner_start", []),
    ("engine_forkchoiceUpdatedV3", [{}]),
    ("eth_sign", ["0x" + "11" * 20, "0x00"]),
    ("eth_signTypedData_v4", ["0x" + "11" * 20, {}]),
    ("eth_sendRawTransaction", ["0x00"]),
    ("anvil_nodeInfo", []),
    ("eth_accounts", []),
]


def not_found(server: ServeProcess, method: str, *params: object) -> None:
    with pytest.raises(RpcCallFailedError) as caught:
        server.call(method, *params)
    assert caught.value.error == {
        "code": -32601,
        "message": f"the method {method} does not exist/is not available",
    }


def test_default_allow_list(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 2, seed=31)
    sender, receiver = anvil.accounts()[:2]
    nonce = anvil.rpc("eth_getTransactionCount", sender, "latest")
    head = anvil.block_number()
    with serve_anvil(anvil, tmp_path, "--proxy") as server:
        reads: list[tuple[str, list[object]]] = [
            ("eth_getBalance", [receiver, "latest"]),
            ("eth_getTransactionCount", [sender, "latest"]),
            ("eth_getCode", [receiver, "latest"]),
            ("eth_getBlockByNumber", ["0x1", True]),
            ("eth_getBlockReceipts", ["0x1"]),
            ("eth_gasPrice", []),
            ("eth_syncing", []),
            ("eth_feeHistory", ["0x2", "latest", [25, 75]]),
        ]
        for method, params in reads:
            assert server.call(method, *params) == anvil.rpc(method, *params), method
        transaction = {"from": sender, "to": receiver, "value": "0x1"}
        not_found(server, "eth_sendTransaction", transaction)
        for method, params in DANGEROUS:
            not_found(server, method, *params)
        # The node never saw the transaction: nothing was mined, the nonce did not move.
        assert anvil.rpc("eth_getTransactionCount", sender, "latest") == nonce
        assert anvil.block_number() == head


def test_listed_methods_replace_the_default(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 1, seed=32)
    account = anvil.accounts()[0]
    with serve_anvil(
        anvil, tmp_path, "--proxy", "--proxy-methods", "anvil_nodeInfo, eth_getCode"
    ) as server:
        info = server.call("anvil_nodeInfo")
        assert info["currentBlockNumber"] == anvil.rpc("anvil_nodeInfo")["currentBlockNumber"]
        assert server.call("eth_getCode", account, "latest") == "0x"
        not_found(server, "eth_getBalance", account, "latest")
        not_found(server, "debug_traceTransaction", "0x" + "00" * 32)
        # Its own methods stay its own, whatever the list.
        assert int(server.call("eth_chainId"), 16) == 31337


def test_default_extended(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 1, seed=33)
    account = anvil.accounts()[0]
    with serve_anvil(
        anvil, tmp_path, "--proxy", "--proxy-methods", "default,anvil_nodeInfo"
    ) as server:
        assert server.call("eth_getBalance", account, "latest") == anvil.rpc(
            "eth_getBalance", account, "latest"
        )
        assert "currentBlockNumber" in server.call("anvil_nodeInfo")
        not_found(server, "admin_nodeInfo")
        # An allowed method's own error is the node's, passed through.
        node = anvil._post(b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12"]}')
        with pytest.raises(RpcCallFailedError) as caught:
            server.call("eth_getBalance", "0x12")
        assert caught.value.error == node["error"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--proxy-methods", "eth_getBalance"], "--proxy-methods needs --proxy"),
        (["--proxy", "--proxy-methods", "eth_*"], "--proxy-methods: 'eth_*' is not a method"),
        (["--proxy", "--proxy-methods", " , "], "--proxy-methods: empty list"),
    ],
)
def test_bad_lists(tmp_path: Path, flags: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rpc.cli", "serve", "--upstream", "http://127.0.0.1:9",
         "--datadir", str(tmp_path / "dd"), "--port", "0", *flags],
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "dd").exists()
