"""Replay of the execution-apis ``eth_getLogs`` fixtures against ``logfilter serve``.

The server syncs the fixture chain (blocks 0..54) from its archive with sections of 8 blocks
and no confirmations, so sections 0..5 (blocks 0..47) are answered through the bloom matcher
and 48..54 through the header-bloom scan. Each ``.io`` file's request must get geth's
response: results equal as JSON values, errors equal by code and message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.fixtures import execution_apis_archive, fixtures_dir
from tests.rpc.serve import ServeProcess

IO_FILES = sorted((fixtures_dir() / "execution-apis" / "io" / "eth_getLogs").glob("*.io"))


def read_io(path: Path) -> tuple[Any, Any]:
    request = response = None
    for line in path.read_text().splitlines():
        if line.startswith(">> "):
            request = orjson.loads(line[3:])
        elif line.startswith("<< "):
            response = orjson.loads(line[3:])
    assert request is not None, path
    assert response is not None, path
    return request, response


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    datadir = tmp_path_factory.mktemp("execution-apis") / "dd"
    args = [
        "--upstream", str(execution_apis_archive()), "--datadir", str(datadir),
        "--section-size", "8", "--confirmations", "0",
    ]  # fmt: skip
    with ServeProcess(*args) as process:
        process.wait_synced(54, sections=6)
        yield process
        assert process.stop() == 0


def test_the_fixtures_are_all_here() -> None:
    assert len(IO_FILES) == 11


def test_sections_are_really_used(server: ServeProcess) -> None:
    status = server.call("logfilter_status")
    assert status["sectionSize"] == "0x8"
    assert status["sections"] == "0x6"
    assert status["indexedUntil"] == "0x2f"
    assert status["syncedHead"]["number"] == "0x36"


@pytest.mark.parametrize("path", IO_FILES, ids=[p.stem for p in IO_FILES])
def test_fixture(server: ServeProcess, path: Path) -> None:
    request, expected = read_io(path)
    status, body = server.post(orjson.dumps(request))
    assert status == 200
    got = orjson.loads(body)
    assert got == expected


def test_no_topics_fixture_computed_from_the_chain(server: ServeProcess) -> None:
    """The upstream ``no-topics.io`` (not in the fixtures: 10.6 MB of log data) is every log
    of blocks 1..3, which the archive holds."""
    expected = []
    with execution_apis_archive().open("rb") as f:
        for number, line in enumerate(f):
            if 1 <= number <= 3:
                record = orjson.loads(line)
                expected += [log for r in record["receipts"] for log in r["logs"]]
    got = server.call("eth_getLogs", {"fromBlock": "0x1", "toBlock": "0x3"})
    assert len(got) == 77  # blocks 1, 2, 3 hold 0, 67 and 10 logs
    assert got == expected
