"""``bench.bench_exact --smoke`` runs, and every figure it reports belongs to a right answer:
the number of logs of each query equals a brute-force count over the generator's own
records (written here, reading the JSON the generator emits)."""

from __future__ import annotations

from pathlib import Path

from bench.bench_exact import parse_args, report, run
from bench.e2e_chain import Query
from bench.exact_setup import SEED, queries
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape


def _count(fill: str, blocks: int, query: Query, first: int, last: int) -> int:
    generator = ChainGenerator(ChainShape(fill=FILL_PRESETS[fill]), seed=SEED)
    wanted = {"0x" + a.hex() for a in query.addresses}
    topics = [None if t is None else "0x" + t.hex() for t in query.topics]
    found = 0
    for number, record in enumerate(generator.records(blocks)):
        if not first <= number <= last:
            continue
        for receipt in record["receipts"]:
            for log in receipt["logs"]:
                if wanted and log["address"] not in wanted:
                    continue
                have = log["topics"]
                if len(have) < len(topics) or any(
                    want is not None and want != got
                    for want, got in zip(topics, have, strict=False)
                ):
                    continue
                found += 1
    return found


def test_smoke_run_measures_right_answers(tmp_path: Path) -> None:
    args = parse_args(["--smoke", "--out", str(tmp_path), "--paths", "bloom"])
    results = run(args)
    assert [c.name for c in results.chains] == ["saturated 2,000", "sparse 2,000"]
    assert all(c.sync_seconds > 0 and c.sync_peak_mib > 0 for c in results.chains)
    assert len(results.rows) == 2 * 4 * 2  # two chains, four queries, ranges 1k and 2k
    by_chain = {c.name: c for c in results.chains}
    for fill in ("saturated", "sparse"):
        chain = by_chain[f"{fill} 2,000"]
        for query in queries(fill):
            for length in (1_000, 2_000):
                (row,) = [
                    r
                    for r in results.rows
                    if (r.chain, r.query, r.range) == (chain.name, query.kind, length)
                ]
                first, last = chain.window(length)
                assert row.logs == _count(fill, 2_000, query, first, last), row
                assert len(row.warm["bloom"]) == 1
                assert len(row.cold["bloom"]) == 1
                assert row.naive is not None
    assert any(r.logs > 0 for r in results.rows if r.query == "rare address")
    text = report(results)
    assert "| saturated 2,000 | rare address | 1,000 |" in text
    assert "bloom warm (ms)" in text
    # A second run reuses the synced directories (same spec) instead of syncing again.
    again = run(parse_args(["--smoke", "--out", str(tmp_path), "--no-naive", "--fills", "sparse"]))
    assert again.chains[0].sync_seconds == by_chain["sparse 2,000"].sync_seconds
