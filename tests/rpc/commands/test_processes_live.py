"""``serve --processes 2`` following a live chain (anvil): blocks 0..255 backfilled into
sealed segments, the head synced and followed by the writer. An installed block filter
polled over fresh connections (each may reach the reader, which forwards it) gives every
new block exactly once, in order; ``newHeads`` subscriptions over WebSockets accepted by
either process get every new head; ``latest`` ranges, which only the writer can resolve,
follow the chain through either process."""

from __future__ import annotations

import asyncio
import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.anvil import Anvil
from tests.fixtures import REPO
from tests.rpc.serve import ServeProcess

SEALED_TO = 255


def _call(port: int, method: str, *params: Any) -> Any:
    """One call over a new connection (so that each may reach another process)."""
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        answer = orjson.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert "error" not in answer, (method, answer)
    return answer["result"]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Anvil, ServeProcess]]:
    with Anvil() as anvil:
        anvil.mine(300)
        datadir = tmp_path / "dd"
        subprocess.run(
            [sys.executable, "-m", "rpc.cli", "backfill", "--upstream", anvil.url,
             "--datadir", str(datadir), "--to-block", str(SEALED_TO), "--section-size", "64",
             "--segment-blocks", "128", "--workers", "2", "--confirmations", "0"],
            cwd=REPO, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        server = ServeProcess(
            "--upstream", anvil.url, "--datadir", str(datadir), "--section-size", "64",
            "--confirmations", "0", "--poll-interval", "0.1", "--processes", "2",
        )  # fmt: skip
        with server:
            deadline = time.monotonic() + 120
            while True:
                process = _call(server.port, "logfilter_status")["process"]
                ready = process["role"] == "reader" or process["readers"] == 1
                if ready and int(_call(server.port, "eth_blockNumber"), 16) >= 300:
                    break
                assert time.monotonic() < deadline, process
                time.sleep(0.1)
            yield anvil, server


def _head(anvil: Anvil) -> tuple[int, str]:
    block = anvil.rpc("eth_getBlockByNumber", "latest", False)
    return int(block["number"], 16), block["hash"]


def test_a_block_filter_polled_through_any_process_sees_each_block_once(
    live: tuple[Anvil, ServeProcess],
) -> None:
    anvil, server = live
    block_filter = _call(server.port, "eth_newBlockFilter")
    expected = []
    for _ in range(6):
        anvil.mine(1)
        expected.append(_head(anvil)[1])
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while len(seen) < len(expected):
        seen += _call(server.port, "eth_getFilterChanges", block_filter)
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert seen == expected
    for _ in range(10):
        assert _call(server.port, "eth_getFilterChanges", block_filter) == []
    number, _ = _head(anvil)
    latest = {"fromBlock": hex(number - 1), "toBlock": "latest"}
    assert _call(server.port, "eth_getLogs", latest) == []  # resolved by the writer


def test_new_heads_reach_websockets_of_either_process(live: tuple[Anvil, ServeProcess]) -> None:
    anvil, server = live

    async def run() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(server.ws_url) for _ in range(8)]
            try:
                sub = b'{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}'
                for ws in sockets:
                    await ws.send_bytes(sub)
                    assert "result" in orjson.loads((await ws.receive(timeout=30)).data)
                await asyncio.to_thread(anvil.mine, 2)
                number, block_hash = await asyncio.to_thread(_head, anvil)
                for ws in sockets:
                    heads: list[dict[str, Any]] = []
                    while not heads or heads[-1]["number"] != hex(number):
                        message = orjson.loads((await ws.receive(timeout=30)).data)
                        heads.append(message["params"]["result"])
                    assert [h["number"] for h in heads] == [hex(number - 1), hex(number)]
                    assert heads[-1]["hash"] == block_hash
            finally:
                for ws in sockets:
                    await ws.close()

    asyncio.run(run())
