"""A seal while queries run (:mod:`rpc.server.sealing`): a query that started before the
head store's blocks were sealed reads them from the head store, which keeps them until it
has ended; a query that starts in between reads them from the new segment; after the drop
every query reads them from the segment. Each answer equals a plain sync's, so no log is
missed or given twice, whichever moment a query runs across.

Real stores throughout: the backfilled directory of :mod:`tests.chainindex.segments.chain`
(4 segments of 256 blocks), its head store synced to block 1500, sealed from the same
generated chain.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import cast

import orjson
import pytest

from bloombits.valuecache import ValueCache
from chainindex.filters.config import QueryConfig
from chainindex.filters.criteria import LogCriteria, LogQuery
from chainindex.filters.retriever import SectionRetriever
from chainindex.filters.segmented import SegmentedQueryEngine
from chainindex.filters.verify import BlockLogs
from chainindex.segments.history import SegmentHistory
from chainindex.segments.manifest import read_manifest
from chainindex.segments.sealing import HeadSealer
from chainindex.source import open_source
from chainindex.store import open_datadir
from chainindex.store.reader import ChainReader
from chainindex.sync.indexer import ChainIndexer, SyncConfig
from rpc.server.codec.logs import encode_block_logs
from rpc.server.sealing import HistorySealing
from tests.chainindex.segments.chain import SECTION, SEGMENT, answer, backfill, engine, sync
from tests.rpc.serve import ServeProcess

LONG = 2000
LONG_SPEC = f"synthetic:sparse?blocks={LONG}&seed=11"
"""The backfill's chain, longer (its first 1200 blocks are those of the backfill)."""
HEAD = 1500
"""The head store's head: one segment (1024..1279) is final and sectioned below it."""
EVERYTHING = LogQuery(LogCriteria(), 0, HEAD)
SEALED = [(1024, 1279), (1280, 1535), (1536, 1791)]
"""What a syncing ``serve`` seals of the whole chain (confirmations 0)."""
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
LIMITS = ("--max-results", "0")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "dd"
    sync(path, until=HEAD, spec=LONG_SPEC)
    return path


@pytest.fixture(scope="module")
def plain_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "dd"
    sync(path, until=LONG - 1, spec=LONG_SPEC)
    return path


def _encoded(blocks: list[BlockLogs]) -> tuple[str, bytes]:
    return ("logs", ("[" + encode_block_logs(blocks) + "]").encode())


def test_queries_across_a_seal_answer_as_a_plain_sync(plain: Path, tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    backfill(datadir)
    sync(datadir, until=HEAD, spec=LONG_SPEC)

    async def run() -> None:
        with engine(plain) as reference:
            expected = await answer(reference, EVERYTHING)
        store = open_datadir(datadir)
        reader = ChainReader(store)
        retriever = SectionRetriever(reader.sections)
        history = SegmentHistory.open(datadir)
        assert history is not None
        segmented = SegmentedQueryEngine(
            history, reader, retriever, cache=ValueCache(), config=QueryConfig(max_block_range=0)
        )
        try:
            async with open_source(LONG_SPEC) as source:
                config = SyncConfig(section_size=SECTION, confirmations=0, follow=False)
                indexer = ChainIndexer(store, source, config)
                sealer = HeadSealer(str(datadir), LONG_SPEC, SECTION, SEGMENT)
                sealing = HistorySealing(sealer, segmented, indexer, store)
                # A query started before the seal: paused after its first chunk (segment 0).
                stream = cast(AsyncGenerator[list[BlockLogs]], segmented.stream(EVERYTHING))
                async with aclosing(stream) as early:
                    blocks = list(await anext(early))
                    seal = asyncio.create_task(sealing.seal_due())
                    while read_manifest(datadir).last < 1279:  # type: ignore[union-attr]
                        assert not seal.done(), seal
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(0.3)  # the drop, if it did not wait, would be done
                    assert not seal.done()
                    assert (await reader.state()).tail == 1024  # the head store keeps them
                    # A query started in between reads 1024..1279 from the new segment.
                    assert await answer(segmented, EVERYTHING) == expected
                    assert await answer(segmented, EVERYTHING, 5) == await _reference(plain, 5)
                    async for chunk in early:
                        blocks.extend(chunk)
                assert _encoded(blocks) == expected
                assert await asyncio.wait_for(seal, 60) == 1
            assert (await reader.state()).tail == 1280  # dropped once the early query ended
            assert await answer(segmented, EVERYTHING) == expected
            sealed = next(b for b in blocks if b.header.number >= 1100)  # in the new segment
            by_hash = LogQuery(LogCriteria(), block_hash=sealed.header.hash)
            with engine(plain) as reference:
                assert await answer(segmented, by_hash) == await answer(reference, by_hash)
        finally:
            segmented.close()
            history.close()
            retriever.close()
            store.close()

    asyncio.run(run())


async def _reference(plain: Path, max_results: int) -> object:
    with engine(plain) as reference:
        return await answer(reference, EVERYTHING, max_results)


RANGES: list[dict[str, object]] = [
    {"fromBlock": hex(1000), "toBlock": hex(1100)},  # head blocks the first seal takes
    {"fromBlock": hex(1020), "toBlock": hex(1030), "topics": [TRANSFER]},
    {"fromBlock": hex(1270), "toBlock": hex(1290)},  # across the first seal's end
    {"fromBlock": hex(1530), "toBlock": hex(1540)},  # across the second seal's end
]
"""Queries asked over and over while ``serve`` seals 1024..1279, 1280..1535, 1536..1791."""
RANGES_TOP = 1540
SLOW = {"fromBlock": "0x0", "toBlock": hex(1100)}
"""The query read slowly across the first seal: about 9 MB of logs, streamed (more than the
sockets buffer, so the server's stream waits for the reader), the head store's 1024..1100
last."""


def _get_logs(conn: http.client.HTTPConnection, criteria: object) -> object:
    """One ``eth_getLogs`` over a thread's own connection: its result, or its error."""
    body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [criteria]})
    conn.request("POST", "/", body, {"Content-Type": "application/json"})
    response = orjson.loads(conn.getresponse().read())
    return response.get("result", response.get("error"))


def _wait_for(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"{what}: {log.read_text()[-2000:]}"
        time.sleep(0.05)


def test_serve_seals_while_answering(plain_long: Path, tmp_path: Path) -> None:
    datadir = tmp_path / "dd"
    backfill(datadir)
    with ServeProcess("--datadir", str(plain_long), "--no-sync", *LIMITS) as reference:
        expected = [reference.call("eth_getLogs", criteria) for criteria in [*RANGES, SLOW]]
    assert all(expected)
    log = tmp_path / "serve.log"
    args = ("--datadir", str(datadir), "--upstream", LONG_SPEC, "--section-size", str(SECTION),
            "--confirmations", "0", *LIMITS)  # fmt: skip
    mismatches: list[object] = []
    asked = [0]
    stop = threading.Event()

    def ask() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            while not stop.is_set():
                for want, criteria in zip(expected, RANGES):  # noqa: B905 (SLOW left out)
                    try:
                        got = _get_logs(conn, criteria)
                    except (OSError, http.client.HTTPException, orjson.JSONDecodeError) as err:
                        got = repr(err)  # a streamed answer cut off
                        conn.close()
                    asked[0] += 1
                    if got != want:
                        mismatches.append((criteria, str(got)[:300]))
        finally:
            conn.close()

    def sealed(first: int, last: int) -> bool:
        return f"sealed blocks {first}..{last}" in log.read_text()  # logged after the drop

    with ServeProcess(*args, log=log).start() as server:
        server.wait_synced(1100)
        slow = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [SLOW]})
        slow.request("POST", "/", body, {"Content-Type": "application/json"})
        response = slow.getresponse()  # the first part is found inside the call: planned
        first_part = response.read(1024)
        manifest = read_manifest(datadir)
        assert manifest is not None
        assert manifest.last == 1023, "the slow query must start before the first seal"
        server.wait_synced(RANGES_TOP)
        installed = server.call("eth_newFilter", RANGES[0])  # before the first seal's drop
        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
        try:
            _wait_for(lambda: read_manifest(datadir).last >= 1279, "published", log)  # type: ignore[union-attr]
            time.sleep(1.0)
            assert not sealed(*SEALED[0])  # the drop waits for the slow query
            rest = response.read()
            slow.close()
            assert orjson.loads(first_part + rest)["result"] == expected[-1]
            for first, last in SEALED:
                _wait_for(lambda: sealed(first, last), f"sealed {first}..{last}", log)  # noqa: B023
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        # The filter installed before the seals: the same logs, no changes (a seal changes
        # no block), and one installed after them still reaches the sealed history.
        assert server.call("eth_getFilterLogs", installed) == expected[0]
        assert server.call("eth_getFilterChanges", installed) == []
        after = server.call("eth_newFilter", {"fromBlock": hex(1000), "toBlock": hex(1100)})
        assert server.call("eth_getFilterLogs", after) == expected[0]
        assert isinstance(server.call("eth_newFilter", {"fromBlock": "0x10"}), str)  # not pruned
        assert server.stop() == 0
    assert not mismatches, mismatches[:3]
    assert asked[0] > 2 * len(RANGES)
