"""A misbehaving JSON-RPC node for tests: the real execution-apis chain, served with faults.

A real node cannot be made to lie, time out or send broken JSON on demand, so this small
aiohttp server (127.0.0.1, free port) answers ``eth_chainId``, ``eth_blockNumber``,
``eth_getBlockByNumber``, ``eth_getBlockByHash``, ``eth_getBlockReceipts`` and
``eth_getTransactionReceipt`` from the recorded chain (``tests/data/CHAINS.md``), and applies
:class:`Fault` rules to the answers about chosen blocks: a wrong parent hash, a bloom that does
not match the receipts, truncated receipts, HTTP 500, a timeout, malformed JSON, or no
``eth_getBlockReceipts`` method at all (as Hardhat).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from tests.anvil import free_port
from tests.fixtures import execution_apis_archive

CHAIN_ID = 3503995874084926
"""The execution-apis chain's id (its genesis.json)."""


@dataclass
class Fault:
    """Spoil the answers about block ``block`` ``times`` times (-1: forever)."""

    kind: str
    """``parent``, ``bloom``, ``truncate``, ``http500``, ``timeout``, ``malformed``,
    ``no-block-receipts``, ``too-large`` (a batch asking for more than ``block`` blocks'
    receipts gets geth's "response too large" for them)."""
    block: int = -1
    """The block whose answers are spoiled."""
    times: int = 1
    """How many answers to spoil; -1 for all of them."""
    applied: int = 0
    """How many were spoiled so far."""

    def take(self, number: int) -> bool:
        if number != self.block or self.times == self.applied:
            return False
        self.applied += 1
        return True


class FakeNode:
    """The recorded chain behind a JSON-RPC endpoint, with faults."""

    def __init__(self, faults: list[Fault], delay: float = 1.0, head: int = 54) -> None:
        self.faults = faults
        """Rules applied to answers."""
        self.delay = delay
        """How long a ``timeout`` fault stalls."""
        self.head = head
        """The highest block the node has (others are answered with null)."""
        self.records = [
            orjson.loads(line) for line in execution_apis_archive().read_bytes().splitlines()
        ]
        self.by_hash = {r["block"]["hash"]: n for n, r in enumerate(self.records)}
        self.by_tx = {
            receipt["transactionHash"]: receipt for r in self.records for receipt in r["receipts"]
        }
        self.calls: dict[str, int] = {}
        """Calls received, by method."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _fault(self, kind: str, number: int) -> bool:
        return any(f.kind == kind and f.take(number) for f in self.faults)

    def _number(self, param: Any) -> int | None:
        if param == "latest":
            return self.head
        if isinstance(param, str) and len(param) == 66:
            number = self.by_hash.get(param)
        else:
            number = int(param, 16)
        return number if number is not None and number <= self.head else None

    def _answer(self, method: str, params: list[Any]) -> tuple[Any, int | None]:
        """The result of one call, and the block it is about."""
        self.calls[method] = self.calls.get(method, 0) + 1
        if method == "eth_chainId":
            return hex(CHAIN_ID), None
        if method == "eth_blockNumber":
            return hex(self.head), None
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            number = self._number(params[0])
            if number is None:
                return None, None
            block = self.records[number]["block"]
            if self._fault("parent", number):
                block = {**block, "parentHash": "0x" + "66" * 32}
            if self._fault("bloom", number):
                block = {**block, "logsBloom": "0x" + "00" * 256}
            return block, number
        if method == "eth_getBlockReceipts":
            if any(f.kind == "no-block-receipts" for f in self.faults):
                raise _RpcError(-32601, "the method eth_getBlockReceipts does not exist")
            number = self._number(params[0])
            if number is None:
                return None, None
            receipts = self.records[number]["receipts"]
            if self._fault("truncate", number):
                receipts = copy.deepcopy(receipts[:-1])
            return receipts, number
        if method == "eth_getTransactionReceipt":
            receipt = self.by_tx.get(params[0])
            return receipt, None if receipt is None else int(receipt["blockNumber"], 16)
        raise _RpcError(-32601, f"the method {method} does not exist")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        batch = body if isinstance(body, list) else [body]
        responses = []
        blocks = set()
        receipts_calls = sum(c["method"] == "eth_getBlockReceipts" for c in batch)
        too_large = any(f.kind == "too-large" and receipts_calls > f.block for f in self.faults)
        for call in batch:
            if too_large and call["method"] == "eth_getBlockReceipts":
                error = {"code": -32003, "message": "response too large"}
                responses.append({"jsonrpc": "2.0", "id": call["id"], "error": error})
                continue
            try:
                result, number = self._answer(call["method"], call.get("params", []))
                responses.append({"jsonrpc": "2.0", "id": call["id"], "result": result})
                blocks.add(number)
            except _RpcError as err:
                error = {"code": err.code, "message": err.message}
                responses.append({"jsonrpc": "2.0", "id": call["id"], "error": error})
        if any(self._fault("http500", n) for n in blocks if n is not None):
            return web.Response(status=500, text="internal error")
        if any(self._fault("timeout", n) for n in blocks if n is not None):
            await asyncio.sleep(self.delay)
        payload = orjson.dumps(responses if isinstance(body, list) else responses[0])
        if any(self._fault("malformed", n) for n in blocks if n is not None):
            payload = payload[: len(payload) // 2]
        return web.Response(body=payload, content_type="application/json")

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[FakeNode]:
        """Serve on 127.0.0.1 for the duration of the block."""
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        try:
            yield self
        finally:
            await runner.cleanup()


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
