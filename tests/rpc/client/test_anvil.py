"""The client's standard methods against a real anvil, over HTTP and WebSocket: the same
logs as anvil's own ``eth_getLogs`` answer for every kind of filter, block tags, installed
filters, heads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_typing import Address, BlockNumber, Hash32

from rpc.client import AsyncClient, Filter, Log, NodeError
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.fixtures import hexbytes

T = [bytes([i]) * 32 for i in range(1, 6)]
"""Topics the test chain uses."""


def reference(raw: list[dict[str, Any]]) -> list[Log]:
    """anvil's JSON logs as the client's type, converted plainly here."""
    return [
        Log(
            Address(hexbytes(r["address"])),
            tuple(Hash32(hexbytes(t)) for t in r["topics"]),
            hexbytes(r["data"]),
            BlockNumber(int(r["blockNumber"], 16)),
            Hash32(hexbytes(r["blockHash"])),
            int(r["blockTimestamp"], 16),
            Hash32(hexbytes(r["transactionHash"])),
            int(r["transactionIndex"], 16),
            int(r["logIndex"], 16),
            r["removed"],
        )
        for r in raw
    ]


def build(anvil: Anvil) -> tuple[Emitter, Emitter]:
    """Two emitters and a dozen blocks of logs with 0..4 topics from ``T``."""
    a, b = Emitter(anvil), Emitter(anvil)
    anvil.set_automine(False)
    patterns = [[], [T[0]], [T[0], T[1]], [T[1], T[0], T[2]], [T[0], T[1], T[2], T[3]], [T[2]]]
    for i in range(12):
        for j, topics in enumerate(patterns[i % 3 : i % 3 + 3]):
            emitter = a if (i + j) % 2 else b
            anvil.rpc(
                "eth_sendTransaction", emitter.tx(emitter.emit_log_data(topics, bytes([i, j])))
            )
        if i % 4 == 0:
            anvil.rpc("eth_sendTransaction", a.tx(a.emit_many_data(6, bytes(32))))
        anvil.mine()
    anvil.set_automine(True)
    return a, b


def h(value: bytes) -> str:
    return "0x" + value.hex()


@pytest.mark.parametrize("transport", ["http", "ws"])
async def test_get_logs_equals_anvils_answer(anvil: Anvil, transport: str) -> None:
    a, b = build(anvil)
    head = anvil.block_number()
    block_hash = anvil.rpc("eth_getBlockByNumber", hex(head - 3), False)["hash"]
    # (client criteria, the same criteria written by hand on the wire)
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"from_block": 0}, {"fromBlock": "0x0"}),
        (
            {"from_block": "earliest", "to_block": "latest"},
            {"fromBlock": "earliest", "toBlock": "latest"},
        ),
        ({"from_block": 3, "to_block": 7}, {"fromBlock": "0x3", "toBlock": "0x7"}),
        ({"from_block": 0, "address": a.address}, {"fromBlock": "0x0", "address": a.address}),
        (
            {
                "from_block": 0,
                "address": [hexbytes(a.address), b.address.upper().replace("0X", "0x")],
            },
            {"fromBlock": "0x0", "address": [a.address, b.address]},
        ),
        ({"from_block": 0, "topics": [T[0]]}, {"fromBlock": "0x0", "topics": [h(T[0])]}),
        (
            {"from_block": 0, "topics": [None, T[1]]},
            {"fromBlock": "0x0", "topics": [None, h(T[1])]},
        ),
        (
            {"from_block": 0, "topics": [[T[0], T[1]], None, [T[2]]]},
            {"fromBlock": "0x0", "topics": [[h(T[0]), h(T[1])], None, h(T[2])]},
        ),
        (
            {"from_block": 0, "topics": [T[0], T[1], T[2], T[3]]},
            {"fromBlock": "0x0", "topics": [h(t) for t in T[:4]]},
        ),
        ({"from_block": 0, "topics": [[T[4], None]]}, {"fromBlock": "0x0", "topics": [None]}),
        ({"from_block": 0, "topics": [T[4]]}, {"fromBlock": "0x0", "topics": [h(T[4])]}),
        (
            {
                "from_block": 2,
                "to_block": "latest",
                "address": b.address,
                "topics": [None, None, T[2]],
            },
            {
                "fromBlock": "0x2",
                "toBlock": "latest",
                "address": b.address,
                "topics": [None, None, h(T[2])],
            },
        ),
        ({"block_hash": block_hash}, {"blockHash": block_hash}),
        ({}, {}),  # the latest block only
        (
            {"from_block": "safe", "to_block": "finalized"},
            {"fromBlock": "safe", "toBlock": "finalized"},
        ),
    ]
    url = anvil.url if transport == "http" else anvil.ws_url
    async with AsyncClient(url) as client:
        for kwargs, wire in cases:
            expected = reference(await asyncio.to_thread(anvil.rpc, "eth_getLogs", wire))
            assert await client.get_logs(**kwargs) == expected, kwargs
            # The same criteria given whole, as a Filter or a web3-style dict.
            assert await client.get_logs(Filter.of(**kwargs)) == expected
            assert await client.get_logs(wire) == expected
        everything = await client.get_logs(from_block=0)
    assert len(everything) == 12 * 3 + 3 * 6
    assert everything == sorted(everything, key=lambda log: (log.block_number, log.log_index))


async def test_chain_methods(anvil: Anvil) -> None:
    anvil.mine(5)
    async with AsyncClient(anvil.url) as client:
        assert await client.chain_id() == 31337
        assert await client.block_number() == 5
        latest = await client.header("latest")
        assert latest is not None
        raw = anvil.rpc("eth_getBlockByNumber", "0x5", False)
        assert (latest.number, latest.hash, latest.parent_hash, latest.timestamp) == (
            5,
            hexbytes(raw["hash"]),
            hexbytes(raw["parentHash"]),
            int(raw["timestamp"], 16),
        )
        earliest = await client.header("earliest")
        assert earliest is not None
        assert earliest.number == 0
        assert await client.header(99) is None
        async for _ in client.iter_logs(from_block=0):
            raise AssertionError("no logs on this chain")


@pytest.mark.parametrize("transport", ["http", "ws"])
async def test_installed_filters(anvil: Anvil, transport: str) -> None:
    emitter = Emitter(anvil)
    url = anvil.url if transport == "http" else anvil.ws_url
    async with AsyncClient(url) as client:
        first = await client.block_number() + 1
        installed = await client.new_filter(
            from_block=first - 1, address=emitter.address, topics=[T[0]]
        )
        async with installed as logs_filter:
            async with await client.new_block_filter() as blocks_filter:
                await asyncio.to_thread(emitter.emit_log, [T[0]], b"\x01")
                await asyncio.to_thread(emitter.emit_log, [T[1]], b"\x02")  # does not match
                await asyncio.to_thread(emitter.emit_log, [T[0], T[1]], b"\x03")
                # anvil files a mined block's logs into its filters just after the receipt
                # is out: gather the changes of a few polls
                changes = await logs_filter.changes()
                for _ in range(100):
                    if len(changes) >= 2:
                        break
                    await asyncio.sleep(0.05)
                    changes += await logs_filter.changes()
                expected = reference(
                    await asyncio.to_thread(
                        anvil.rpc,
                        "eth_getLogs",
                        {"fromBlock": hex(first), "address": emitter.address, "topics": [h(T[0])]},
                    )
                )
                assert [log.data for log in changes] == [b"\x01", b"\x03"]
                assert changes == expected
                assert await logs_filter.changes() == []
                assert await logs_filter.logs() == expected
                hashes = await blocks_filter.changes()
                head = anvil.block_number()
                assert hashes == [
                    hexbytes(anvil.rpc("eth_getBlockByNumber", hex(n), False)["hash"])
                    for n in range(first, head + 1)
                ]
                assert await client.get_filter_changes(blocks_filter.id) == []
            # Uninstalled on leaving the block.
            assert await client.uninstall_filter(blocks_filter.id) is False
        with pytest.raises(NodeError, match="filter not found"):
            await logs_filter.changes()


async def test_new_heads(anvil: Anvil) -> None:
    async with AsyncClient(anvil.ws_url) as client, client.subscribe("newHeads") as heads:
        await asyncio.to_thread(anvil.mine, 3)
        got = [await anext(heads) for _ in range(3)]
    raw = [anvil.rpc("eth_getBlockByNumber", hex(n), False) for n in (1, 2, 3)]
    assert [(x.number, x.hash, x.parent_hash) for x in got] == [
        (int(r["number"], 16), hexbytes(r["hash"]), hexbytes(r["parentHash"])) for r in raw
    ]
