"""``/ready`` of a real ``logfilter serve``: 503 with the reason while sync is behind, 200 once
within ``--ready-lag`` of the upstream; always 200 read-only. ``/health`` answers throughout.

The upstream is the recorded execution-apis chain behind a JSON-RPC endpoint
(:mod:`tests.chainindex.fakenode`) that holds back the answers about blocks above a gate
until the test opens it: the server syncs to the gate, and stays there, behind a head of 54.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from tests.chainindex.fakenode import FakeNode
from tests.fixtures import execution_apis_archive
from tests.rpc.serve import ServeProcess

GATE = 20
"""Answers about blocks above this one wait for the gate to open."""


class GatedNode(FakeNode):
    """The recorded chain, with answers about blocks above :data:`GATE` held back."""

    def __init__(self) -> None:
        super().__init__([])
        self.gate = asyncio.Event()
        """Set: every block is answered."""

    def _beyond(self, call: dict[str, Any]) -> bool:
        if call.get("method") not in ("eth_getBlockByNumber", "eth_getBlockReceipts"):
            return False
        param = (call.get("params") or [None])[0]
        return isinstance(param, str) and param.startswith("0x") and int(param, 16) > GATE

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())  # aiohttp keeps the body for a second read
        calls = body if isinstance(body, list) else [body]
        if any(self._beyond(c) for c in calls):
            await self.gate.wait()
        return await super().handle(request)


def ready(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, orjson.loads(err.read())


def held_at(server: ServeProcess, timeout: float = 30.0) -> int:
    """The synced head once sync has stopped at the gate (the same for half a second)."""
    deadline = time.monotonic() + timeout
    seen: list[int] = []
    while True:
        head = server.call("logfilter_status")["syncedHead"]
        seen.append(-1 if head is None else int(head["number"], 16))
        if len(seen) > 10 and seen[-1] >= GATE - 8 and len(set(seen[-10:])) == 1:
            assert seen[-1] <= GATE
            return seen[-1]
        assert time.monotonic() < deadline, f"sync did not stop at the gate: {seen[-5:]}"
        time.sleep(0.05)


async def test_ready_once_within_the_lag(tmp_path: Path) -> None:
    node = GatedNode()
    async with node.serving():
        server = ServeProcess(
            "--upstream", node.url, "--datadir", str(tmp_path / "dd"), "--section-size", "8",
            "--confirmations", "0", "--ready-lag", "4", "--batch-blocks", "4",
            "--poll-interval", "0.1",
        )  # fmt: skip
        await asyncio.to_thread(server.start)
        try:
            head = await asyncio.to_thread(held_at, server)
            status, body = await asyncio.to_thread(ready, server.port)
            assert status == 503
            assert body == {
                "ready": False, "reason": f"syncing: head {head}, upstream 54",
                "head": head, "upstream": 54,
            }  # fmt: skip
            health = await asyncio.to_thread(urllib.request.urlopen, server.url + "/health")
            assert health.status == 200
            node.gate.set()
            await asyncio.to_thread(server.wait_synced, 54)
            status, body = await asyncio.to_thread(ready, server.port)
            assert (status, body) == (200, {"ready": True, "head": 54, "upstream": 54})
        finally:
            assert await asyncio.to_thread(server.stop) == 0


async def test_within_the_lag_is_ready(tmp_path: Path) -> None:
    """Behind the head, but by no more than ``--ready-lag``: ready (the gate stops sync at
    most 8 blocks below it)."""
    node = GatedNode()
    async with node.serving():
        server = ServeProcess(
            "--upstream", node.url, "--datadir", str(tmp_path / "dd"), "--section-size", "8",
            "--confirmations", "0", "--ready-lag", str(54 - GATE + 8), "--batch-blocks", "4",
        )  # fmt: skip
        await asyncio.to_thread(server.start)
        try:
            head = await asyncio.to_thread(held_at, server)
            status, body = await asyncio.to_thread(ready, server.port)
            assert (status, body) == (200, {"ready": True, "head": head, "upstream": 54})
            node.gate.set()
        finally:
            assert await asyncio.to_thread(server.stop) == 0


def test_read_only_is_ready(tmp_path: Path) -> None:
    """Read-only is ready whatever the lag (nothing to catch up with)."""
    datadir = str(tmp_path / "dd")
    with ServeProcess(
        "--upstream", str(execution_apis_archive()), "--datadir", datadir, "--section-size", "8"
    ) as syncing:
        syncing.wait_synced(54)
    with ServeProcess("--datadir", datadir, "--no-sync", "--ready-lag", "0") as server:
        assert ready(server.port) == (200, {"ready": True, "head": 54, "upstream": None})
