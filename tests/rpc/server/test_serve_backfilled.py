"""``serve --no-sync`` on a data directory just backfilled (sealed segments, an empty head
store): it starts, and ``eth_getLogs`` and installed filters answer from the segments as a
plain sync's directory does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.chainindex.segments.chain import SEALED_TO, backfill, sync
from tests.rpc.serve import ServeProcess

FILTERS: list[dict[str, Any]] = [
    {"fromBlock": "0x10", "toBlock": "0x11"},
    {"fromBlock": hex(250), "toBlock": hex(262)},
    {"fromBlock": hex(SEALED_TO - 3), "toBlock": hex(SEALED_TO)},
]


def _answers(datadir: Path) -> list[Any]:
    out: list[Any] = []
    with ServeProcess("--datadir", str(datadir), "--no-sync").start() as server:
        for criteria in FILTERS:
            out.append(server.call("eth_getLogs", criteria))
            filter_id = server.call("eth_newFilter", criteria)
            out.append(server.call("eth_getFilterLogs", filter_id))
    return out


def test_serve_no_sync_on_a_fresh_backfill(tmp_path: Path) -> None:
    segmented = tmp_path / "segmented"
    backfill(segmented)
    plain = tmp_path / "plain"
    sync(plain, until=SEALED_TO)
    expected = _answers(plain)
    assert all(expected)  # every range holds logs
    assert _answers(segmented) == expected
