"""Client library benchmark: decoding logs, and ``get_logs`` end to end against anvil.

    python -m bench.bench_client [--repeats N] [--logs N] [--quick]

* decoding: a JSON ``eth_getLogs`` answer of ``--logs`` logs (random values, 0..4 topics,
  32..256 bytes of data) parsed and turned into typed objects — by the client
  (``orjson`` + :func:`rpc.client.types.decode_logs`, strict hex checks) and, side by side,
  by web3.py's own log formatter (``orjson`` + ``log_entry_formatter``); plus the client's
  :func:`~rpc.client.web3compat.to_web3_log`;
* end to end: one anvil holding 20,000 logs (80 blocks of one ``emitMany(250)``), the whole
  range fetched over HTTP by the client, by web3.py (``w3.eth.get_logs``), and by a bare
  aiohttp + orjson request (no decoding: the node's and the wire's share), then by the client
  through a front enforcing a 2,000-result limit (the cost of splitting).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import aiohttp
import orjson
from web3 import Web3
from web3._utils.method_formatters import log_entry_formatter

from bench.common import Table, machine, median_seconds
from rpc.client import AsyncClient
from rpc.client.types import decode_logs
from rpc.client.web3compat import to_web3_log
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.rpc.client.support import LimitFront, fill_chain


def wire_logs(count: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)

    def data(size: int) -> str:
        return "0x" + rng.randbytes(size).hex()

    logs = []
    for i in range(count):
        block = 1_000_000 + i // 100
        logs.append(
            {
                "address": data(20),
                "topics": [data(32) for _ in range(rng.randrange(5))],
                "data": data(rng.choice([32, 64, 96, 256])),
                "blockNumber": hex(block),
                "transactionHash": data(32),
                "transactionIndex": hex(i % 100 // 4),
                "blockHash": data(32),
                "blockTimestamp": hex(1_700_000_000 + block * 12),
                "logIndex": hex(i % 100),
                "removed": False,
            }
        )
    return orjson.dumps(logs)


def bench_decoding(count: int, repeats: int) -> Table:
    body = wire_logs(count)
    table = Table(
        f"Decoding an eth_getLogs answer of {count:,} logs ({len(body) / 2**20:.1f} MiB JSON)",
        ["decoder", "median s", "logs/s"],
    )

    def client() -> object:
        return decode_logs(orjson.loads(body), "eth_getLogs")

    def web3() -> object:
        return [log_entry_formatter(entry) for entry in orjson.loads(body)]

    decoded = decode_logs(orjson.loads(body), "eth_getLogs")
    for name, run in [
        ("client: orjson + decode_logs (strict, typed)", client),
        ("web3.py: orjson + log_entry_formatter", web3),
        ("client: to_web3_log of typed logs", lambda: [to_web3_log(log) for log in decoded]),
        ("orjson.loads alone", lambda: orjson.loads(body)),
    ]:
        seconds = median_seconds(run, repeats=repeats)
        table.add(name, seconds, f"{count / seconds:,.0f}")
    return table


async def _raw(url: str) -> int:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{"fromBlock": "0x0"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=payload) as resp,
    ):
        return len(orjson.loads(await resp.read())["result"])


async def _client(url: str) -> int:
    async with AsyncClient(url) as client:
        return len(await client.get_logs(from_block=0))


def bench_end_to_end(repeats: int, blocks: int) -> Table:
    with Anvil() as anvil:
        emitter = Emitter(anvil)
        fill_chain(anvil, emitter, [250] * blocks)
        total = 250 * blocks
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        table = Table(
            f"get_logs of {total:,} logs from anvil over HTTP (whole range)",
            ["how", "median s", "logs/s", "requests"],
        )
        with LimitFront(anvil, max_results=2000) as front:
            runs: list[tuple[str, Any, Any]] = [
                ("bare aiohttp + orjson (no decoding)", lambda: asyncio.run(_raw(anvil.url)), None),
                ("web3.py w3.eth.get_logs", lambda: len(w3.eth.get_logs({"fromBlock": 0})), None),
                ("client get_logs", lambda: asyncio.run(_client(anvil.url)), None),
                (
                    "client get_logs via a 2,000-result limit",
                    lambda: asyncio.run(_client(front.url)),
                    front,
                ),
            ]
            for name, run, counted in runs:
                assert run() == total, name
                calls_before = len(counted.calls) if counted else 0
                seconds = median_seconds(run, repeats=repeats)
                requests = (len(counted.calls) - calls_before) // repeats if counted else 1
                table.add(name, seconds, f"{total / seconds:,.0f}", requests)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--blocks", type=int, default=80, help="anvil blocks of 250 logs")
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.logs, args.blocks = 3, 10_000, 8
    started = time.monotonic()
    print(f"Machine: {machine()}\n")
    bench_decoding(args.logs, args.repeats).print()
    bench_end_to_end(args.repeats, args.blocks).print()
    print(f"(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
