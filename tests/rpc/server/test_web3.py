"""web3.py, unmodified, against ``logfilter serve`` (which follows anvil): ``get_logs``,
installed filters and subscriptions over the HTTP and WebSocket providers give what web3.py
gets from the node itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import AsyncWeb3, Web3
from web3.providers import HTTPProvider, WebSocketProvider

from tests.anvil import Anvil
from tests.chainindex.chains import build_chain
from tests.emitter import Emitter
from tests.rpc.serve import ServeProcess
from tests.rpc.server.test_live_anvil import serve_anvil, wait_for_head


@pytest.fixture
def chain(anvil: Anvil) -> list[Emitter]:
    return build_chain(anvil, 20, seed=31)


@pytest.fixture
def server(anvil: Anvil, chain: list[Emitter], tmp_path: Path) -> Iterator[ServeProcess]:
    with serve_anvil(anvil, tmp_path) as process:
        wait_for_head(process, anvil)
        yield process
        assert process.stop() == 0


def new_entries(installed: Any, count: int) -> list[Any]:
    """``get_new_entries`` over successive polls until ``count`` entries came (the filters
    get a block's changes just after the head moves)."""
    got: list[Any] = []
    deadline = time.monotonic() + 20
    while len(got) < count and time.monotonic() < deadline:
        got += installed.get_new_entries()
        if len(got) < count:
            time.sleep(0.05)
    return got


def test_http_provider(anvil: Anvil, chain: list[Emitter], server: ServeProcess) -> None:
    w3 = Web3(HTTPProvider(server.url))
    node = Web3(HTTPProvider(anvil.url))
    assert w3.is_connected()
    assert w3.eth.block_number == node.eth.block_number
    assert w3.eth.chain_id == 31337
    address = Web3.to_checksum_address(chain[0].address)
    for params in (
        {"fromBlock": 0, "toBlock": "latest", "address": address},
        {"fromBlock": 3, "toBlock": 15},
        {"fromBlock": 0, "address": [address, Web3.to_checksum_address(chain[1].address)]},
    ):
        got = w3.eth.get_logs(params)  # type: ignore[arg-type]
        assert got
        assert got == node.eth.get_logs(params)  # type: ignore[arg-type]
    topic0 = next(log["topics"][0] for log in got if log["topics"])
    params = {"fromBlock": 0, "topics": [topic0]}
    assert w3.eth.get_logs(params) == node.eth.get_logs(params)  # type: ignore[arg-type]

    start = w3.eth.block_number
    log_filter = w3.eth.filter({"address": address})
    block_filter = w3.eth.filter("latest")
    build_chain(anvil, 8, seed=32, emitters=chain)
    wait_for_head(server, anvil)
    new = node.eth.get_logs({"fromBlock": start + 1, "address": address})
    assert new
    assert new_entries(log_filter, len(new)) == new
    assert log_filter.get_new_entries() == []
    head = node.eth.block_number
    hashes = new_entries(block_filter, head - start)
    assert hashes == [node.eth.get_block(n)["hash"] for n in range(start + 1, head + 1)]
    # eth_getFilterLogs of a filter without bounds: latest..latest, as the node does.
    assert log_filter.get_all_entries() == node.eth.get_logs({"address": address})
    filter_id = log_filter.filter_id
    assert filter_id is not None
    assert w3.eth.uninstall_filter(filter_id) is True
    assert w3.eth.uninstall_filter(filter_id) is False


async def collect(w3: AsyncWeb3[Any], wanted: dict[str, int]) -> dict[str, list[Any]]:
    got: dict[str, list[Any]] = {key: [] for key in wanted}

    async def read() -> None:
        async for message in w3.socket.process_subscriptions():
            got[message["subscription"]].append(message["result"])
            if all(len(got[k]) >= n for k, n in wanted.items()):
                return

    await asyncio.wait_for(read(), 30)
    return got


async def test_websocket_provider(anvil: Anvil, chain: list[Emitter], server: ServeProcess) -> None:
    node = Web3(HTTPProvider(anvil.url))
    address = Web3.to_checksum_address(chain[1].address)
    async with AsyncWeb3(WebSocketProvider(server.ws_url)) as w3:
        assert await w3.eth.block_number == node.eth.block_number
        params = {"fromBlock": 0, "address": address}
        assert await w3.eth.get_logs(params) == node.eth.get_logs(params)  # type: ignore[arg-type]
        start = node.eth.block_number
        logs_sub = await w3.eth.subscribe("logs", {"address": address})
        heads_sub = await w3.eth.subscribe("newHeads")
        await asyncio.to_thread(build_chain, anvil, 8, 33, chain)
        head = node.eth.block_number
        expected = node.eth.get_logs({"fromBlock": start + 1, "address": address})
        assert expected
        got = await collect(w3, {logs_sub: len(expected), heads_sub: head - start})
        assert got[logs_sub] == expected
        assert [h["number"] for h in got[heads_sub]] == list(range(start + 1, head + 1))
        assert [h["hash"] for h in got[heads_sub]] == [
            node.eth.get_block(n)["hash"] for n in range(start + 1, head + 1)
        ]
        assert await w3.eth.unsubscribe(logs_sub) is True
        assert await w3.eth.unsubscribe(heads_sub) is True
