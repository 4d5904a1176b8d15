"""A misbehaving JSON-RPC node for tests: the real execution-apis chain, served with faults.

A real node cannot be made to lie, time out or send broken JSON on demand, so this small
aiohttp server (127.0.0.1, free port) answers ``eth_chainId``, ``eth_blockNumber``,
``eth_getBlockByNumber``, ``eth_getBlockByHash``, ``eth_getBlockReceipts`` and
``eth_getTransactionReceipt`` from the recorded chain (``tests/data/CHAINS.md``), and applies
:class:`Fault` rules to the answers about chosen blocks: a wrong parent hash, a bloom that does
not match the receipts, truncated receipts, HTTP 500, a timeout, malformed JSON, or no
``eth_getBlockReceipts`` method at all (as Hardhat). The ``lie-*`` faults are a careful liar's:
the block and its receipts altered together so that every structural check passes (links,
blooms, block hashes in receipts and logs), and the header's hash recomputed from its fields
where the lie changed them, so that only the consensus checks (the block hash, the receipts
root) can refuse them.
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
from tests.chainindex.consensus_reference import reference_header_hash
from tests.fixtures import execution_apis_archive

CHAIN_ID = 3503995874084926
"""The execution-apis chain's id (its genesis.json)."""


@dataclass
class Fault:
    """Spoil the answers about block ``block`` ``times`` times (-1: forever)."""

    kind: str
    """``parent``, ``bloom``, ``truncate``, ``http500``, ``timeout``, ``malformed``,
    ``no-block-receipts``, ``too-large`` (a batch asking for more than ``block`` blocks'
    receipts gets geth's "response too large" for them); the liar's (:func:`lie`):
    ``lie-forged-hash``, ``lie-log-data``, ``lie-dropped-logs``, ``lie-zero-roots``,
    ``lie-bloom``."""
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


def _rename(record: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``record`` with every occurrence of the hash ``old`` replaced by ``new``."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(record).replace(old.encode(), new.encode()))
    return loaded


def _rehashed(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its block's hash recomputed from its (altered) header fields, wherever
    the hash appears (receipts, logs)."""
    old = record["block"]["hash"]
    return _rename(record, old, "0x" + reference_header_hash(record["block"]).hex())


def lie(kind: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records ``n, n + 1, ...`` of the chain as a careful liar serves them (every structural
    check holds; only the consensus checks can tell):

    * ``lie-forged-hash``: block n under a made-up hash, which block n + 1 extends;
    * ``lie-log-data``: the first log's data changed (the blooms do not see data);
    * ``lie-dropped-logs``: every log dropped, the receipts' and the block's blooms emptied;
    * ``lie-zero-roots``: ``receiptsRoot`` and ``transactionsRoot`` zeroed;
    * ``lie-bloom``: a wrong ``logsBloom`` in the header (an extra bit set).

    Block n's hash is recomputed after any change to its header, and every later block is
    re-linked and rehashed in turn, so that the liar's chain is consistent to its head; a forged
    hash is only linked to by block n + 1 (whose own hash stays the honest one).
    """
    record = copy.deepcopy(records[0])
    rest = copy.deepcopy(records[1:])
    block, receipts = record["block"], record["receipts"]
    if kind == "lie-forged-hash":
        record = _rename(record, block["hash"], "0x" + "5a" * 32)
    elif kind == "lie-log-data":
        log = next(log for r in receipts for log in r["logs"])
        log["data"] = "0x" + "ee" * max(1, len(log["data"]) // 2 - 1)
    elif kind == "lie-dropped-logs":
        for receipt in receipts:
            receipt["logs"] = []
            receipt["logsBloom"] = "0x" + "00" * 256
        block["logsBloom"] = "0x" + "00" * 256
        record = _rehashed(record)
    elif kind == "lie-zero-roots":
        block["receiptsRoot"] = block["transactionsRoot"] = "0x" + "00" * 32
        record = _rehashed(record)
    elif kind == "lie-bloom":
        block["logsBloom"] = "0x80" + block["logsBloom"][4:]
        record = _rehashed(record)
    else:
        raise ValueError(kind)
    out = [record]
    for after in rest:
        after["block"]["parentHash"] = out[-1]["block"]["hash"]
        out.append(after if kind == "lie-forged-hash" else _rehashed(after))
        if kind == "lie-forged-hash":
            out.extend(rest[1:])
            break
    return out


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
        for fault in faults:
            if fault.kind.startswith("lie-"):
                self.records[fault.block :] = lie(fault.kind, self.records[fault.block :])
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
