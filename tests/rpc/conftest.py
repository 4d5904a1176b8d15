"""Fixtures of the rpc tests: ``logfilter serve`` over the execution-apis chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures import execution_apis_archive
from tests.rpc.serve import ServeProcess

ARCHIVE_ARGS = ["--section-size", "8", "--confirmations", "0"]


def serve_archive(tmp: pytest.TempPathFactory, *extra: str) -> ServeProcess:
    """A started server syncing the execution-apis archive into a fresh data directory."""
    datadir = tmp.mktemp("dd") / "dd"
    process = ServeProcess(
        "--upstream", str(execution_apis_archive()), "--datadir", str(datadir),
        *ARCHIVE_ARGS, *extra,
    ).start()  # fmt: skip
    process.wait_synced(54, sections=6)
    return process


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``logfilter serve`` over the execution-apis chain, default limits."""
    process = serve_archive(tmp_path_factory)
    yield process
    assert process.stop() == 0
