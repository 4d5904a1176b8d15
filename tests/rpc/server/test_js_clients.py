"""ethers.js v6 and viem (the real packages from npm, ``package.json``) and web3.py, all
unmodified and with default options, against ``logfilter serve`` over a data directory synced
from an archive (network detection, ``eth_chainId``, ``getLogs``), and ethers'
``WebSocketProvider`` subscribed to ``logs`` of a server following anvil."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from web3 import Web3
from web3.providers import HTTPProvider

from tests.anvil import Anvil
from tests.chainindex.chains import build_chain
from tests.fixtures import REPO, execution_apis_archive
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import ServeProcess
from tests.rpc.server.test_live_anvil import serve_anvil, wait_for_head

CHAIN_ID = 3503995874084926
"""The execution-apis test chain's (its ``genesis.json``); its archive does not say it."""

JS = REPO / "tests" / "js"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("node not found: the JavaScript client tests need Node.js on PATH")
    return found


def run_js(script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    done = subprocess.run(
        [node(), str(JS / script), *args], cwd=REPO, capture_output=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


def archive_logs() -> list[dict[str, Any]]:
    """Every log of the archive, from the file (the reference), as the scripts print them."""
    out = []
    for line in execution_apis_archive().read_bytes().splitlines():
        for receipt in orjson.loads(line)["receipts"]:
            for log in receipt["logs"]:
                out.append(js_log(log))
    return out


def js_log(log: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC log in the scripts' shape (numbers as numbers, the address lowercase)."""
    return {
        "address": log["address"].lower(),
        "topics": log["topics"],
        "data": log["data"],
        "blockNumber": int(log["blockNumber"], 16),
        "blockHash": log["blockHash"],
        "transactionHash": log["transactionHash"],
        "transactionIndex": int(log["transactionIndex"], 16),
        "logIndex": int(log["logIndex"], 16),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``logfilter serve`` syncing the execution-apis archive, told its chain id."""
    process = serve_archive(tmp_path_factory, "--chain-id", str(CHAIN_ID))
    yield process
    assert process.stop() == 0


def test_ethers_json_rpc_provider_with_default_options(server: ServeProcess) -> None:
    result = run_js("ethers_client.mjs", server.url, server.ws_url)
    expected = archive_logs()
    assert len(expected) > 50
    assert result == {
        "chainId": str(CHAIN_ID), "head": 54, "wsHead": 54, "logs": expected, "pushed": [],
    }  # fmt: skip


def test_viem_public_client(server: ServeProcess) -> None:
    # From block 3: block 2 holds 21 MB of logs, over viem's default 10 MiB answer limit.
    result = run_js("viem_client.mjs", server.url, "3")
    expected = [log for log in archive_logs() if log["blockNumber"] >= 3]
    assert len(expected) > 300
    assert result == {"chainId": str(CHAIN_ID), "head": 54, "logs": expected}


def test_web3_chain_id(server: ServeProcess) -> None:
    w3 = Web3(HTTPProvider(server.url))
    assert w3.eth.chain_id == CHAIN_ID
    assert w3.net.version == str(CHAIN_ID)


def test_ethers_websocket_logs_subscription(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 6, seed=41)
    address = emitters[0].address
    server = serve_anvil(anvil, tmp_path, ws=True)
    try:
        wait_for_head(server, anvil)
        start = anvil.block_number()
        wanted = 12
        script = [node(), str(JS / "ethers_client.mjs"), server.url, server.ws_url, address]
        with subprocess.Popen(
            [*script, str(wanted)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process:
            assert process.stderr is not None
            assert process.stderr.readline() == b"subscribed\n"
            time.sleep(0.5)  # eth_subscribe is sent just after
            added: list[Any] = []
            while len(added) < wanted:
                build_chain(anvil, 4, seed=42 + len(added), emitters=emitters)
                wait_for_head(server, anvil)
                added = anvil.rpc(
                    "eth_getLogs",
                    {"address": address, "fromBlock": hex(start + 1), "toBlock": "latest"},
                )
            out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        result = orjson.loads(out)
        assert result["chainId"] == "31337"
        assert result["pushed"] == [js_log(log) for log in added[:wanted]]
    finally:
        assert server.stop() == 0
