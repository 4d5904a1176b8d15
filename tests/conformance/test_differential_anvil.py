"""Differential test: 1,000 random valid filters, ``logfilter serve`` against anvil's own
``eth_getLogs`` over the same chain (3,000 blocks, sections of 256 blocks, the last 200
blocks left unindexed, so answers combine the matcher and the header scan).

Where anvil departs from geth, geth's semantics win, and the comparison says so: anvil
returns logs with fewer topics than the filter has positions when the extra positions are
null (a 3-topic log for ``[null, null, null, null]``); geth, the execution-apis spec and this
server never match a log with fewer topics than positions. For those filters the expected
answer is anvil's minus those logs (and the server must return none of them).

A second server in headers-only mode (``--no-logs``: logs fetched from the node for
candidate blocks) answers a tenth of the filters, which must give the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.anvil import Anvil
from tests.rpc.serve import ServeProcess
from tests.rpc.server.test_live_anvil import wait_for_head

FILTERS = 1000
BATCH = 50


def serve(anvil: Anvil, datadir: Path, *extra: str) -> ServeProcess:
    process = ServeProcess(
        "--upstream", anvil.url, "--datadir", str(datadir), "--section-size", "256",
        "--confirmations", "200", "--max-results", "0", "--max-block-range", "0", *extra,
    ).start()  # fmt: skip
    wait_for_head(process, anvil, timeout=120)
    return process


@pytest.fixture(scope="module")
def server(big_anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = serve(big_anvil, tmp_path_factory.mktemp("full") / "dd")
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def headers_only(
    big_anvil: Anvil, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    process = serve(big_anvil, tmp_path_factory.mktemp("headers") / "dd", "--no-logs")
    yield process
    assert process.stop() == 0


class FilterMaker:
    """Random valid filters over what the chain holds (and values it does not)."""

    def __init__(self, anvil: Anvil, seed: int) -> None:
        self.rng = random.Random(seed)
        self.head = anvil.block_number()
        logs = anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(self.head)})
        self.addresses = sorted({log["address"] for log in logs})
        self.topics = sorted({t for log in logs for t in log["topics"]})
        self.hashes = sorted({log["blockHash"] for log in logs})
        self.hashes += [
            anvil.rpc("eth_getBlockByNumber", hex(n), False)["hash"] for n in (0, 5, 1234)
        ]

    def _value(self, pool: list[str], size: int) -> str:
        rng = self.rng
        return rng.choice(pool) if rng.random() > 0.05 else "0x" + rng.randbytes(size).hex()

    def __call__(self) -> dict[str, Any]:
        rng = self.rng
        query: dict[str, Any] = {}
        if rng.random() < 0.08:
            query["blockHash"] = rng.choice(self.hashes)
        else:
            first = rng.randrange(self.head + 1)
            last = rng.randrange(first, self.head + 1)
            if rng.random() < 0.2:  # the whole chain, spelled several ways
                first, last = 0, self.head
                query["fromBlock"] = rng.choice(["earliest", "0x0"])
                query["toBlock"] = rng.choice(["latest", hex(self.head)])
            else:
                query["fromBlock"] = hex(first)
                query["toBlock"] = hex(last)
            if rng.random() < 0.05:
                query["fromBlock"], query["toBlock"] = "finalized", "safe"
        shape = rng.random()
        if shape < 0.3:
            query["address"] = self._value(self.addresses, 20)
        elif shape < 0.7:
            query["address"] = [self._value(self.addresses, 20) for _ in range(rng.randrange(1, 4))]
        positions = rng.choice([0, 0, 1, 1, 2, 2, 3, 4])
        if positions:
            topics: list[Any] = []
            for _ in range(positions):
                kind = rng.random()
                if kind < 0.3:
                    topics.append(None)
                elif kind < 0.4:
                    topics.append([])
                elif kind < 0.8:
                    topics.append(self._value(self.topics, 32))
                else:
                    topics.append(
                        [self._value(self.topics, 32) for _ in range(rng.randrange(2, 4))]
                    )
            query["topics"] = topics
        return query


def batch(target: Any, queries: list[dict[str, Any]]) -> list[Any]:
    calls = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_getLogs", "params": [q]}
        for i, q in enumerate(queries)
    ]
    if isinstance(target, Anvil):
        return target.rpc_batch([("eth_getLogs", [q]) for q in queries])
    status, body = target.post(orjson.dumps(calls))
    assert status == 200
    answers = {a["id"]: a for a in orjson.loads(body)}
    assert all("result" in answers[i] for i in range(len(queries))), [
        answers[i] for i in range(len(queries)) if "error" in answers[i]
    ]
    return [answers[i]["result"] for i in range(len(queries))]


def geth_semantics(query: dict[str, Any], anvil_logs: list[Any]) -> list[Any]:
    """anvil's answer without the logs geth would not match: those with fewer topics than
    the filter has positions (anvil lets trailing null positions match missing topics)."""
    positions = len(query.get("topics") or [])
    return [log for log in anvil_logs if len(log["topics"]) >= positions]


def test_random_filters_against_anvil(
    big_anvil: Anvil, server: ServeProcess, headers_only: ServeProcess
) -> None:
    make = FilterMaker(big_anvil, seed=7)
    status = server.call("logfilter_status")
    assert int(status["sections"], 16) == (make.head - 200 + 1) // 256  # sections really used
    compared = nonempty = departures = 0
    for _ in range(FILTERS // BATCH):
        queries = [make() for _ in range(BATCH)]
        ours = batch(server, queries)
        theirs = batch(big_anvil, queries)
        for query, got, node in zip(queries, ours, theirs, strict=True):
            expected = geth_semantics(query, node)
            if expected != node:
                departures += 1
            assert got == expected, query
            compared += 1
            nonempty += bool(got)
        sample = queries[:5]  # a tenth of the filters, also in headers-only mode
        assert batch(headers_only, sample) == ours[:5]
    assert compared == FILTERS
    # The random filters are not trivially empty, and the departure really occurs.
    assert nonempty > FILTERS // 3
    assert departures > 0
