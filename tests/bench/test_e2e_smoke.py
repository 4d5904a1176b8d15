"""The end-to-end benchmark suite at a tiny scale: it runs, and every system's answer agrees
with the logs read straight from the generated archive (a reference written here)."""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.bench_e2e import parse_args, run
from bench.e2e_chain import Query, make_chain
from bench.e2e_report import report


def _reference(archive: Path, query: Query, first: int, last: int) -> tuple[int, int]:
    """(logs, blocks holding one) matching ``query`` in ``first..last`` of the archive."""
    logs = blocks = 0
    with archive.open("rb") as f:
        for number, line in enumerate(f):
            if not first <= number <= last:
                continue
            found = 0
            for receipt in orjson.loads(line).get("receipts", []):
                for log in receipt["logs"]:
                    address = bytes.fromhex(log["address"][2:])
                    topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
                    if query.addresses and address not in query.addresses:
                        continue
                    if len(topics) < len(query.topics) or any(
                        want is not None and want != got
                        for want, got in zip(query.topics, topics, strict=False)
                    ):
                        continue
                    found += 1
            logs += found
            blocks += found > 0
    return logs, blocks


def test_suite_agrees_with_the_archive(tmp_path: Path) -> None:
    args = parse_args([
        "--scales", "1500", "--fills", "sparse", "--repeats", "1", "--out", str(tmp_path),
        "--plots", str(tmp_path / "plots"), "--no-anvil", "--no-text-index", "--quiet",
    ])  # fmt: skip
    suite = run(args)
    chain = make_chain(1500, "sparse", tmp_path, 2e9)
    queries = {q.kind: q for q in chain.queries}
    systems = {"logfilter", "naive scan", "logfilter --no-logs"}
    assert {m.system for m in suite.results} == systems
    checked = 0
    for m in suite.results:
        assert m.seconds, m  # nothing skipped at this size
        first, last = chain.window(m.range)
        logs, blocks = _reference(chain.archive, queries[m.query], first, last)
        assert (m.logs, m.matched) == (logs, blocks), m
        checked += 1
    assert checked == 3 * 4 * 2  # three systems, four queries, ranges 1k and 1.5k
    assert any(m.logs > 0 for m in suite.results if m.query.startswith("rare"))
    # A directory that stores logs answers from the exact index: it reads only the blocks
    # holding a match. A headers-only one reads the blocks whose blooms pass: the naive
    # scan's candidates.
    by = {(m.system, m.query, m.range): m for m in suite.results}
    for (system, query, length), m in by.items():
        if system == "logfilter":
            assert m.candidates == m.matched, m
        elif system == "logfilter --no-logs":
            assert m.candidates == by[("naive scan", query, length)].candidates, m
    text = report(suite, args, 1.0)
    assert "1500 sparse: eth_getLogs" in text
    assert (tmp_path / "plots" / "e2e_latency.png").stat().st_size > 0
