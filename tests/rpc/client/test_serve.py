"""The client against ``logfilter serve``.

On the execution-apis archive chain (blocks 0..54, sections of 8): every ``eth_getLogs``
fixture answered through the client as geth answers it; ``get_logs``/``iter_logs`` over the
whole chain through the server's real result and block-range limits; a block over the
result limit; ``status()``.

Following anvil: the same logs as a geth-semantics filter over anvil's logs, for every kind
of filter and through the server's limits; a ``logs`` subscription through a proxy the test
cuts, across a reorg whose undone logs the server pushes with ``removed: true`` — each log
once, each undone log once more.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from rpc.client import (
    AsyncClient,
    Backoff,
    BlockLimitError,
    Client,
    InvalidArgumentError,
    LimitError,
    Log,
    NodeError,
)
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain, random_calldata
from tests.conformance.test_execution_apis import IO_FILES, read_io
from tests.fixtures import execution_apis_archive
from tests.rpc.client.support import WsProxy
from tests.rpc.client.test_anvil import reference
from tests.rpc.client.test_subscribe import View, read_until
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import ServeProcess
from tests.rpc.server.test_live_anvil import serve_anvil, wait_for_head

FAST = Backoff(initial=0.02, maximum=0.2)
REFUSED_BEFORE_SENDING = {
    "filter-error-invalid-blockHash-and-range",
    "filter-error-reversed-block-range",
}
"""Error fixtures whose criteria the client refuses itself (geth refuses them too)."""


async def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait until ``condition()`` holds."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition still false")


def archive_logs() -> list[Log]:
    """Every log of the execution-apis chain, from the archive itself."""
    raw = []
    with execution_apis_archive().open("rb") as f:
        for line in f:
            record = orjson.loads(line)
            raw += [log for receipt in record.get("receipts", []) for log in receipt["logs"]]
    return reference(raw)


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The archive chain served with small limits: 70 results (block 2 alone holds 67 logs)
    and 16 blocks per query."""
    process = serve_archive(tmp_path_factory, "--max-results", "70", "--max-block-range", "16")
    yield process
    assert process.stop() == 0


@pytest.mark.parametrize("path", IO_FILES, ids=[p.stem for p in IO_FILES])
def test_execution_apis_fixtures_through_the_client(
    archive_server: ServeProcess, path: Path
) -> None:
    request, expected = read_io(path)
    (criteria,) = request["params"]
    with Client(archive_server.url) as client:
        if "result" in expected:
            assert client.get_logs(criteria) == reference(expected["result"])
            return
        error = expected["error"]
        if path.stem in REFUSED_BEFORE_SENDING:
            # Refused by the client, in geth's words with the client's argument names.
            words = (
                error["message"]
                .removeprefix("invalid argument 0: ")
                .replace("BlockHash", "block_hash")
                .replace("FromBlock/ToBlock", "from_block/to_block")
            )
            with pytest.raises(InvalidArgumentError, match=re.escape(words)):
                client.get_logs(criteria)
        else:
            with pytest.raises(NodeError) as answered:
                client.get_logs(criteria)
            assert (answered.value.code, answered.value.rpc_message) == (
                error["code"],
                error["message"],
            )


def test_status(archive_server: ServeProcess) -> None:
    with Client(archive_server.url) as client:
        status = client.status()
        assert (status.section_size, status.sections, status.indexed_until) == (8, 6, 47)
        assert status.synced_head is not None
        assert status.synced_head.number == 54
        last = orjson.loads(execution_apis_archive().read_bytes().splitlines()[-1])["block"]
        assert "0x" + status.synced_head.hash.hex() == last["hash"]
        # A chain archive has no chain id; its end is reached, so the indexer has stopped.
        assert (status.chain_id, status.upstream_head, status.lag) == (None, 54, 0)
        assert status.phase == "stopped"
        assert not status.headers_only
        assert status.tail == 0
        assert client.block_number() == 54


async def test_splitting_through_the_servers_limits(limited_server: ServeProcess) -> None:
    expected = archive_logs()
    async with AsyncClient(limited_server.url) as client:
        # The limits are real: the whole chain in one query is refused.
        with pytest.raises(LimitError) as refused:
            await client.request("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"})
        assert refused.value.suggested is not None
        assert await client.get_logs(from_block="earliest", to_block="latest") == expected
        streamed = [log async for log in client.iter_logs(from_block=0, page_blocks=40)]
        assert streamed == expected
        topic = expected[5].topics[0]
        assert await client.get_logs(from_block=0, topics=[topic]) == [
            log for log in expected if log.topics[:1] == (topic,)
        ]


def test_a_block_over_the_servers_limit(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = serve_archive(tmp_path_factory, "--max-results", "50")
    try:
        with Client(server.url) as client:
            with pytest.raises(BlockLimitError, match="block 2 alone is over") as info:
                client.get_logs(from_block=0, to_block=10)
            assert info.value.block == 2
            after = [log for log in archive_logs() if 3 <= log.block_number <= 10]
            assert client.get_logs(from_block=3, to_block=10) == after
    finally:
        assert server.stop() == 0


# --- following anvil ----------------------------------------------------------------------


def geth_filter(logs: list[Log], first: int, last: int, addresses: Any, topics: Any) -> list[Log]:
    """geth's matching, written plainly: an address group and per-position topic groups
    ANDed, a position beyond a log's topics never matching."""
    out = []
    for log in logs:
        if not first <= log.block_number <= last:
            continue
        if addresses and log.address not in addresses:
            continue
        if len(topics) > len(log.topics):
            continue
        if all(p is None or log.topics[i] in p for i, p in enumerate(topics)):
            out.append(log)
    return out


def test_same_logs_as_the_node(anvil: Anvil, tmp_path: Path) -> None:
    build_chain(anvil, 40, seed=31)
    head = anvil.block_number()
    everything = reference(anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(head)}))
    assert len(everything) > 100
    rng = random.Random(32)
    addresses = sorted({log.address for log in everything})
    topic_values = sorted({t for log in everything for t in log.topics})
    server = serve_anvil(anvil, tmp_path, "--max-results", "60", "--max-block-range", "12")
    try:
        wait_for_head(server, anvil)
        with Client(server.url) as client:
            assert client.status().chain_id == 31337
            for _ in range(40):
                first = rng.randrange(head + 1)
                last = rng.randrange(first, head + 1)
                chosen = rng.sample(addresses, rng.randrange(len(addresses) + 1))
                topics: list[Any] = []
                for _ in range(rng.randrange(5)):
                    if rng.random() < 0.4:
                        topics.append(None)
                    else:
                        sample = rng.sample(everything, 1)[0]
                        picks = [rng.choice(topic_values) for _ in range(rng.randrange(3))]
                        if sample.topics:
                            picks.append(rng.choice(sample.topics))
                        topics.append(picks or None)
                expected = geth_filter(
                    everything,
                    first,
                    last,
                    set(chosen),
                    [None if p is None else set(p) for p in topics],
                )
                got = client.get_logs(
                    from_block=first, to_block=last, address=chosen or None, topics=topics
                )
                assert got == expected, (first, last, chosen, topics)
    finally:
        assert server.stop() == 0


async def test_subscription_through_drops_and_a_reorg(anvil: Anvil, tmp_path: Path) -> None:
    emitters = build_chain(anvil, 6, seed=41)
    anvil.set_automine(True)
    emitter = emitters[0]
    server = serve_anvil(anvil, tmp_path, ws=True)
    try:
        await asyncio.to_thread(wait_for_head, server, anvil)
        with WsProxy(server.ws_url) as proxy:
            async with (
                AsyncClient(proxy.ws_url, backoff=FAST) as client,
                client.subscribe("logs", {"address": emitter.address}) as sub,
            ):
                start = sub.start_block
                assert start is not None
                view = View()
                for i in range(5):
                    await asyncio.to_thread(emitter.emit_log, [bytes([i + 1]) * 32], b"a")
                await read_until(sub, view, lambda: view.added >= 5)
                await asyncio.to_thread(proxy.drop)
                for i in range(3):
                    await asyncio.to_thread(emitter.emit_many, 3, bytes([i]) * 32)
                await read_until(sub, view, lambda: view.added >= 14)
                # The server pushes the undone logs itself; the client also checks.
                rng = random.Random(42)
                owner = anvil.accounts()[3]
                replacement = [
                    (emitter.tx(random_calldata(rng, emitter, owner)), rng.randrange(3))
                    for _ in range(4)
                ]
                old_head = anvil.block_number()
                await asyncio.to_thread(anvil.reorg, 3, replacement)
                await asyncio.to_thread(wait_for_head, server, anvil)
                expected = reference(
                    anvil.rpc(
                        "eth_getLogs",
                        {"fromBlock": hex(start), "toBlock": "latest", "address": emitter.address},
                    )
                )
                await read_until(
                    sub, view, lambda: view.ordered() == expected and len(view.removed) >= 1
                )
                with pytest.raises(TimeoutError):  # nothing more: no duplicate on its way
                    view.take(await asyncio.wait_for(anext(sub), 0.5))
    finally:
        assert server.stop() == 0
    assert view.ordered() == expected
    assert all(old_head - 2 <= log.block_number <= old_head for log in view.removed)
    assert sub.reconnects >= 1


async def test_heads_through_a_drop(anvil: Anvil, tmp_path: Path) -> None:
    """logfilter serve has no eth_getBlockByNumber (without --proxy): after a reconnection
    the missed heads cannot be fetched, and the subscription goes on with the live ones."""
    anvil.mine(2)
    server = serve_anvil(anvil, tmp_path, ws=True)
    try:
        await asyncio.to_thread(wait_for_head, server, anvil)
        with WsProxy(server.ws_url) as proxy:
            async with (
                AsyncClient(proxy.ws_url, backoff=FAST) as client,
                client.subscribe("newHeads") as heads,
            ):
                await asyncio.to_thread(anvil.mine, 1)
                first = await asyncio.wait_for(anext(heads), 20)
                await asyncio.to_thread(proxy.drop)
                await asyncio.to_thread(anvil.mine, 1)
                await asyncio.to_thread(wait_for_head, server, anvil)
                nxt = asyncio.ensure_future(asyncio.wait_for(anext(heads), 20))
                await eventually(lambda: heads.reconnects == 1)  # subscribed again
                await asyncio.to_thread(anvil.mine, 1)
                later = await nxt
    finally:
        assert server.stop() == 0
    assert first.number == 3
    assert later.number == 5  # block 4 came while disconnected: not fetched, not invented
    assert heads.reconnects == 1
