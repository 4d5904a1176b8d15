"""Large ``eth_getLogs`` answers over HTTP, byte for byte against the logs as recorded: the
execution-apis fixture chain (block 2: 67 logs and 10.6 MB of data) and a generated saturated
chain (over 10,000 logs an answer, about 285 a block), through the exact path and the bloom
path. The reference is the recorded JSON (the fixture's receipts, the generator's records),
never the service's encoder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.e2e_chain import TRANSFER
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape
from tests.fixtures import execution_apis_archive
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import ServeProcess

BLOCKS = 40
"""Blocks of the generated chain (5 sections of 8)."""


def recorded(records: Sequence[Mapping[str, Any]], keep: Any = lambda log: True) -> list[Any]:
    return [
        log
        for record in records
        for receipt in record["receipts"]
        for log in receipt["logs"]
        if keep(log)
    ]


def answer(server: ServeProcess, flt: dict[str, Any]) -> bytes:
    """The ``result`` of one eth_getLogs, as the server wrote it (compact JSON)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [flt]}
    status, raw = server.post(orjson.dumps(body))
    assert status == 200
    parsed = orjson.loads(raw)
    assert "error" not in parsed, parsed
    text = orjson.dumps(parsed["result"])  # orjson keeps the written key order
    assert text in raw
    return text


@pytest.mark.parametrize("path", ["auto", "bloom"])
def test_fixture_chain_whole_and_filtered(
    tmp_path_factory: pytest.TempPathFactory, path: str
) -> None:
    with execution_apis_archive().open("rb") as f:
        records = [orjson.loads(line) for line in f]
    everything = recorded(records)
    assert len(everything) == 383
    address = "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df"
    big_block = {log["address"] for log in everything if log["blockNumber"] == "0x2"}
    server = serve_archive(tmp_path_factory, "--query-path", path)
    try:
        assert answer(server, {"fromBlock": "0x0", "toBlock": "0x36"}) == orjson.dumps(everything)
        got = answer(server, {"fromBlock": "0x0", "toBlock": "0x36", "address": address})
        assert got == orjson.dumps(recorded(records, lambda log: log["address"] == address))
        some = sorted(big_block)[:2]
        got = answer(server, {"fromBlock": "0x1", "toBlock": "0x3", "address": some})
        expected = recorded(records, lambda log: log["address"] in some)
        assert got == orjson.dumps([log for log in expected if int(log["blockNumber"], 16) <= 3])
    finally:
        assert server.stop() == 0


def test_generated_saturated_chain_answers_of_over_10000_logs(tmp_path: Path) -> None:
    generator = ChainGenerator(ChainShape(fill=FILL_PRESETS["saturated"]), seed=1)
    records = list(generator.records(BLOCKS))
    common = "0x" + generator.contract(0).hex()
    holder = "0x" + (bytes(12) + generator.holder(0)).hex()
    transfer = "0x" + TRANSFER.hex()
    server = ServeProcess(
        "--upstream", f"synthetic:saturated?blocks={BLOCKS}&seed=1",
        "--datadir", str(tmp_path / "dd"), "--section-size", "8", "--confirmations", "0",
        "--max-results", "100000", "--max-block-range", "0",
    ).start(timeout=300)  # fmt: skip
    try:
        server.wait_synced(BLOCKS - 1, timeout=300, sections=BLOCKS // 8)
        whole = {"fromBlock": "0x0", "toBlock": hex(BLOCKS - 1)}
        everything = recorded(records)
        assert len(everything) >= 10_000
        assert answer(server, whole) == orjson.dumps(everything)
        cases: list[tuple[dict[str, Any], Any]] = [
            ({"address": common}, lambda log: log["address"] == common),
            (
                {"address": common, "topics": [transfer, None, holder]},
                lambda log: (
                    log["address"] == common
                    and len(log["topics"]) >= 3
                    and log["topics"][0] == transfer
                    and log["topics"][2] == holder
                ),
            ),
        ]
        for flt, keep in cases:
            expected = recorded(records, keep)
            assert len(expected) > 10
            assert answer(server, {**whole, **flt}) == orjson.dumps(expected)
    finally:
        assert server.stop() == 0
