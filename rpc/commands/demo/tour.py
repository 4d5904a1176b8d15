"""Runs the demo's examples against the live server and prints their answers compactly.

Each step sends over HTTP exactly the request body its printed ``curl`` command sends:
``eth_getLogs`` (a rare contract over the whole chain, the busiest contract's Transfers
over the last blocks), a polled filter (``eth_newFilter``, new blocks released from the
:class:`~chainindex.source.ReplaySource`, then ``eth_getFilterChanges``) and a text search
(``logfilter_search``).

Output lines the tests read: ``→ N logs`` after an ``eth_getLogs``, ``→ N new logs`` after
the filter poll, ``→ N of T hits`` after the search; a ``first:`` line carries one result
as compact JSON.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from bloombits.errors import LogfilterError
from chainindex.source import ReplaySource
from rpc.commands.demo.examples import CurlExample
from rpc.server.app import RpcServer

__all__ = ["FILTER_BLOCKS", "TourError", "run_tour"]

FILTER_BLOCKS = 3
"""New blocks released between installing the demo filter and polling it."""

_POLL_SECONDS = 10.0

Print = Callable[[str], None]


class TourError(LogfilterError):
    """An example failed against the demo's own server (a bug worth reporting)."""


def _short(value: str, width: int = 18) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _log_line(log: dict[str, Any]) -> str:
    topics = ", ".join(_short(t) for t in log["topics"])
    return (
        f"block {int(log['blockNumber'], 16)}  log {int(log['logIndex'], 16)}  "
        f"{_short(log['address'], 14)}  topics [{topics}]  tx {_short(log['transactionHash'])}"
    )


class _Rpc:
    """Posts request bodies to the server; JSON-RPC errors become :class:`TourError`."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def post(self, body: dict[str, Any]) -> Any:
        async with self.session.post(
            self.url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}
        ) as response:
            answer = orjson.loads(await response.read())
        if "error" in answer:
            raise TourError(f"{body['method']} failed on the demo server: {answer['error']}")
        return answer["result"]

    async def call(self, method: str, *params: Any) -> Any:
        return await self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": [*params]})


async def _get_logs(rpc: _Rpc, example: CurlExample, say: Print) -> None:
    started = time.perf_counter()
    logs = await rpc.post(example.body)
    ms = (time.perf_counter() - started) * 1000
    say(f"→ {len(logs)} logs ({ms:.0f} ms)")
    for log in logs[:3]:
        say(f"    {_log_line(log)}")
    if logs:
        say(f"  first: {orjson.dumps(logs[0]).decode()}")


async def _filter_poll(
    rpc: _Rpc,
    replay: ReplaySource,
    synced: Callable[[int], Awaitable[object]],
    topic: str,
    say: Print,
) -> None:
    criteria = {"topics": [topic]}
    say(f"$ eth_newFilter {orjson.dumps(criteria).decode()}")
    filter_id = await rpc.call("eth_newFilter", criteria)
    say(f"→ filter {filter_id}")
    released = await replay.release(FILTER_BLOCKS)
    if not released:
        say("  (the demo chain has no more blocks to add: delete the demo directory to start over)")
        await rpc.call("eth_uninstallFilter", filter_id)
        return
    head = replay.released
    say(f"  the chain grows by {released} blocks (to {head}) ...")
    await synced(head)
    deadline = time.monotonic() + _POLL_SECONDS
    changes: list[dict[str, Any]] = []
    while True:  # a block's logs reach the filters just after the head moves
        got = await rpc.call("eth_getFilterChanges", filter_id)
        changes += got
        if changes and (not got or int(changes[-1]["blockNumber"], 16) == head):
            break  # the head block's logs are in, or the changes stopped coming
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    say(f'$ eth_getFilterChanges ["{filter_id}"]')
    blocks = sorted({int(c["blockNumber"], 16) for c in changes})
    say(f"→ {len(changes)} new logs, in blocks {', '.join(map(str, blocks)) or '-'}")
    for log in changes[:3]:
        say(f"    {_log_line(log)}")
    if changes:
        say(f"  first: {orjson.dumps(changes[0]).decode()}")
    await rpc.call("eth_uninstallFilter", filter_id)


def _hit_line(hit: dict[str, Any]) -> str:
    log, event = hit["log"], hit["event"]
    args = {a["name"]: a["value"] for a in event["args"]} if event else {}
    marks = "; ".join(f for fragments in hit["highlights"].values() for f in fragments)
    what = f"{event['name']}(name={args.get('name')!r})" if event else "(not decoded)"
    return (
        f"score {hit['score']:.2f}  block {int(log['blockNumber'], 16)}  {what}  "
        f"{_short(log['address'], 14)}  {marks}"
    )


async def _search(rpc: _Rpc, example: CurlExample, say: Print) -> None:
    started = time.perf_counter()
    result = await rpc.post(example.body)
    ms = (time.perf_counter() - started) * 1000
    say(f"→ {len(result['hits'])} of {result['total']} hits ({ms:.0f} ms)")
    for hit in result["hits"]:
        say(f"    {_hit_line(hit)}")


async def run_tour(
    server: RpcServer,
    examples: list[CurlExample],
    replay: ReplaySource,
    synced: Callable[[int], Awaitable[object]],
    say: Print,
) -> None:
    """Run the examples against ``server``; ``synced(n)`` waits until block ``n`` is
    synced (the filter step releases blocks from ``replay``)."""
    by_key = {e.key: e for e in examples}
    async with aiohttp.ClientSession() as session:
        rpc = _Rpc(session, server.url)
        for step, key in enumerate(("rare", "busy"), start=1):
            example = by_key[key]
            say(f"\n[{step}] {example.title}")
            say(f"$ {example.command(server.url)}")
            await _get_logs(rpc, example, say)
        say("\n[3] a polled filter: ERC-20 Transfers in new blocks")
        topic = by_key["busy"].body["params"][0]["topics"][0]
        await _filter_poll(rpc, replay, synced, topic, say)
        search = by_key["search"]
        say(f"\n[4] {search.title}")
        say(f"$ {search.command(server.url)}")
        await _search(rpc, search, say)
