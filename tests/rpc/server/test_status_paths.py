"""``logfilter_status`` shows the planner: its rule, how far the exact index reaches (stored
records, head index), and the candidate and matched blocks of each path; ``--query-path
bloom`` answers the same through the bloom sections."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.fixtures import execution_apis_archive
from tests.rpc.conftest import serve_archive

ADDRESS = "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df"


def expected_logs() -> list[Any]:
    with execution_apis_archive().open("rb") as f:
        return [
            log
            for line in f
            for receipt in orjson.loads(line)["receipts"]
            for log in receipt["logs"]
            if log["address"] == ADDRESS
        ]


def test_status_shows_the_paths_and_the_exact_index(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    expected = expected_logs()
    assert len({log["blockNumber"] for log in expected}) > 3
    exact = serve_archive(tmp_path_factory)
    try:
        got = exact.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": "0x36", "address": ADDRESS})
        assert got == expected
        status = exact.call("logfilter_status")
        assert status["planner"]["path"] == "auto"
        assert "exact index" in status["planner"]["rule"]
        index = status["exactIndex"]
        assert (index["firstBlock"], index["lastBlock"], index["sectionsToBuild"]) == (
            "0x0", "0x2f", "0x0",
        )  # fmt: skip
        assert (index["head"]["firstBlock"], index["head"]["lastBlock"]) == ("0x30", "0x36")
        paths = status["queries"]["paths"]
        blocks = hex(len({log["blockNumber"] for log in expected}))
        assert paths["exact"]["candidateBlocks"] == paths["exact"]["matchedBlocks"] == blocks
        assert paths["bloom"]["candidateBlocks"] == paths["scan"]["candidateBlocks"] == "0x0"
        assert status["queries"]["candidateDensity"] == 1.0
        cache = status["queries"]["exactCache"]
        assert cache["hits"] == cache["entries"] == cache["bytes"] == "0x0"
        decoded = int(cache["misses"], 16)
        assert decoded > 0  # the address's records, not kept: one query used it so far
        for _ in range(2):  # the second query keeps them, the third finds them
            again = {"fromBlock": "0x0", "toBlock": "0x36", "address": ADDRESS}
            assert exact.call("eth_getLogs", again) == expected
        cache = exact.call("logfilter_status")["queries"]["exactCache"]
        assert (int(cache["hits"], 16), int(cache["misses"], 16)) == (decoded, 2 * decoded)
        assert int(cache["entries"], 16) == decoded
        assert int(cache["bytes"], 16) > 0
        assert cache["evictions"] == "0x0"
    finally:
        assert exact.stop() == 0
    bloom = serve_archive(tmp_path_factory, "--query-path", "bloom", "--exact-cache-mb", "0")
    try:
        got = bloom.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": "0x36", "address": ADDRESS})
        assert got == expected
        status = bloom.call("logfilter_status")
        assert status["planner"]["path"] == "bloom"
        paths = status["queries"]["paths"]
        assert paths["exact"]["stretches"] == "0x0"
        assert paths["bloom"]["stretches"] == paths["scan"]["stretches"] == "0x1"
        assert status["queries"]["exactCache"] is None
    finally:
        assert bloom.stop() == 0
