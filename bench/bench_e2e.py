"""End-to-end suite: eth_getLogs through JSON-RPC against ``logfilter serve``, beside a naive
per-header bloom scan, anvil holding the same logs, and the service in headers-only mode.

    python -m bench.bench_e2e [--scales 10k,100k,1m] [--fills sparse,saturated]
                              [--repeats N] [--out DIR] [--anvil-blocks N] [--no-anvil]

For every scale × fill a deterministic mainnet-like chain (:mod:`bench.e2e_chain`, cached
under ``--out``) is synced by ``logfilter sync`` as a user runs it (ingest rate, sizes). Chains
whose full archive exceeds ``--max-archive-gb`` are generated headers-only and synced
``--no-logs``: only the bloom path can be measured there (candidates, no verification: their
logs exist nowhere). Four queries (a rare and a common contract address picked by Zipf rank,
ERC-20 Transfer as topic 0, the top token's Transfers to the top holder) over the chain's last
1k, 10k, 100k blocks and the whole chain, answered by

* ``logfilter``: ``logfilter serve --no-sync`` over the synced data directory;
* ``naive scan``: every header bloom of the range read from the same LevelDB, tested with
  numpy, candidates verified in Python (:mod:`bench.e2e_naive`), also the reference answer;
* ``--no-logs``: ``logfilter serve`` over a headers-only sync, logs from the archive;
* ``anvil``: the chain's logs reproduced on anvil (:mod:`bench.e2e_anvil`; smallest sparse
  chain, its first ``--anvil-blocks`` blocks).

Every answer is checked equal to the naive scan's before it is reported. Latencies are medians
of ``--repeats`` runs (fewer when a query's runs exceed ``--budget`` seconds); answers expected
above ``--max-logs`` logs are skipped for every system alike. Tables are printed and written
to ``--out``/tables.md, the raw figures to results.json, PNG plots to ``--plots``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import machine
from bench.e2e_chain import (
    Chain,
    Query,
    dump,
    ensure_archive,
    make_chain,
    parse_scale,
    run_sync,
    store_sizes,
)
from bench.e2e_naive import (
    NaiveAnswer,
    matcher_candidates,
    naive_scan,
    open_store,
    section_build_seconds,
)
from bench.e2e_service import Measured, ask, log_contents, query_counters, repeat_timed
from tests.rpc.serve import ServeProcess

SERVE_LIMITS = ("--max-block-range", "0", "--max-results", "0", "--request-timeout", "600")


class Suite:
    """One run: its options and everything measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: list[Measured] = []
        self.ingest: list[dict[str, Any]] = []
        self.sizes: list[dict[str, Any]] = []
        self.log = print

    def cases(self, chain: Chain) -> list[tuple[Query, int, int, int, bool]]:
        """(query, range length, first, last, skipped) of every case of ``chain``."""
        out = []
        for length in chain.ranges():
            first, last = chain.window(length)
            for query in chain.queries:
                skipped = query.logs_per_block * length > self.args.max_logs
                out.append((query, length, first, last, skipped))
        return out

    def measured(self, chain: Chain, system: str, query: Query, length: int) -> Measured:
        m = Measured(chain.name, chain.fill, chain.blocks, system, query.kind, length)
        self.results.append(m)
        return m

    # --- chains with logs ----------------------------------------------------------------------

    def full_chain(self, chain: Chain, with_anvil: bool, with_text: bool) -> None:
        args = self.args
        data = chain.datadir("full")
        seconds = run_sync(chain.archive, data)
        sizes = store_sizes(data)
        store = open_store(data)
        try:
            sections, per_section = section_build_seconds(store)
            self.record_ingest(chain, "full", seconds, sizes.log_count, sections, per_section)
            self.record_sizes(chain, "full", asdict(sizes))
            reference: dict[tuple[str, int], NaiveAnswer] = {}
            for query, length, first, last, skipped in self.cases(chain):
                m = self.measured(chain, "naive scan", query, length)
                if skipped:
                    m.note = "skipped"
                    continue
                times, answer = repeat_timed(
                    lambda q=query, f=first, la=last: _timed_naive(store, q, f, la),
                    args.repeats, args.budget,
                )  # fmt: skip
                m.seconds, m.logs = times, len(answer.logs)
                m.candidates, m.matched = answer.candidates, answer.matched
                reference[(query.kind, length)] = answer
        finally:
            store.close()
        self.log(f"  {chain.name}: synced in {seconds:.1f} s, naive scans done")
        with ServeProcess("--datadir", str(data), "--no-sync", *SERVE_LIMITS) as server:
            self.serve_cases(chain, server, "logfilter", reference)
        nologs = chain.datadir("nologs")
        seconds = run_sync(chain.archive, nologs, "--no-logs")
        sizes = store_sizes(nologs)
        self.record_ingest(chain, "--no-logs", seconds, 0, sections, per_section)
        self.record_sizes(chain, "--no-logs", asdict(sizes))
        with ServeProcess(
            "--datadir", str(nologs), "--upstream", str(chain.archive), "--no-sync", *SERVE_LIMITS
        ) as server:
            self.serve_cases(chain, server, "logfilter --no-logs", reference)
        if with_text:
            text = chain.datadir("text")
            seconds = run_sync(chain.archive, text, "--text-index")
            sizes = store_sizes(text)
            self.record_ingest(chain, "--text-index", seconds, sizes.log_count, sections,
                               per_section)  # fmt: skip
            self.record_sizes(chain, "--text-index", asdict(sizes))
        if with_anvil:
            self.anvil_cases(chain, reference)

    def serve_cases(
        self, chain: Chain, server: ServeProcess, system: str,
        reference: dict[tuple[str, int], NaiveAnswer],
    ) -> None:  # fmt: skip
        for query, length, first, last, skipped in self.cases(chain):
            m = self.measured(chain, system, query, length)
            full = next((r for r in self.results if r.chain == chain.name
                         and r.system == "logfilter" and r.query == query.kind
                         and r.range == length), None)  # fmt: skip
            fetches = full.candidates if full is not None else None
            if system.endswith("--no-logs") and fetches and fetches > self.args.max_fetch:
                m.note = f"skipped ({fetches:,} blocks to fetch)"
                continue
            if skipped:
                m.note = "skipped"
                continue
            before = query_counters(server)
            m.seconds, logs = ask(server.port, query.filter(first, last), self.args.repeats,
                                  self.args.budget)  # fmt: skip
            after = query_counters(server)
            runs = len(m.seconds)
            m.candidates = (after[0] - before[0]) // runs
            m.matched = (after[1] - before[1]) // runs
            m.logs = len(logs)
            expected = reference[(query.kind, length)]
            if log_contents(logs) != expected.full:
                raise AssertionError(f"{system} and the naive scan differ: {m}")
        self.log(f"  {chain.name}: {system} done")

    def anvil_cases(self, chain: Chain, reference: dict[tuple[str, int], NaiveAnswer]) -> None:
        from bench.e2e_anvil import load_chain, start_anvil

        blocks = min(self.args.anvil_blocks, chain.blocks)
        with start_anvil() as anvil:
            seconds, logs = load_chain(anvil, chain.archive, blocks)
            self.log(f"  anvil loaded {blocks:,} blocks, {logs:,} logs in {seconds:.0f} s")
            for query, length, first, last, skipped in self.cases(chain):
                m = self.measured(chain, "anvil", query, length)
                if skipped or last >= blocks:
                    m.note = "skipped" if skipped else f"beyond anvil's {blocks:,} blocks"
                    continue
                m.seconds, got = ask(anvil.port, query.filter(first, last), self.args.repeats,
                                     self.args.budget)  # fmt: skip
                m.logs = len(got)
                if log_contents(got) != reference[(query.kind, length)].full:
                    raise AssertionError(f"anvil and the naive scan differ: {m}")

    # --- headers-only chains ------------------------------------------------------------------

    def headers_chain(self, chain: Chain) -> None:
        data = chain.datadir("nologs")
        seconds = run_sync(chain.archive, data, "--no-logs")
        sizes = store_sizes(data)
        store = open_store(data)
        try:
            sections, per_section = section_build_seconds(store)
            self.record_ingest(chain, "--no-logs", seconds, 0, sections, per_section)
            self.record_sizes(chain, "--no-logs", asdict(sizes))
            for query, length, first, last, _ in self.cases(chain):
                bloom = self.measured(chain, "bloom path (in-process)", query, length)
                naive = self.measured(chain, "naive bloom test", query, length)
                bloom.seconds, bloom.candidates = repeat_timed(
                    lambda q=query, f=first, la=last: matcher_candidates(store, q, f, la),
                    self.args.repeats, self.args.budget,
                )  # fmt: skip
                naive.seconds, answer = repeat_timed(
                    lambda q=query, f=first, la=last: _timed_naive(store, q, f, la, False),
                    self.args.repeats, self.args.budget,
                )  # fmt: skip
                naive.candidates = answer.candidates
                if naive.candidates != bloom.candidates:
                    raise AssertionError(f"bloom path and naive test differ: {bloom} {naive}")
                bloom.note = naive.note = "no logs: candidates only"
        finally:
            store.close()
        self.log(f"  {chain.name}: synced --no-logs in {seconds:.1f} s, bloom path done")

    # --- records ------------------------------------------------------------------------------

    def record_ingest(self, chain: Chain, mode: str, seconds: float, logs: int, sections: int,
                      per_section: float) -> None:  # fmt: skip
        self.ingest.append({
            "chain": chain.name, "mode": mode, "blocks": chain.blocks, "logs": logs,
            "seconds": seconds, "blocks_per_s": chain.blocks / seconds,
            "logs_per_s": logs / seconds, "sections": sections,
            "section_ms": per_section * 1e3, "generate_s": chain.generate_seconds,
            "archive_bytes": chain.archive.stat().st_size,
        })  # fmt: skip

    def record_sizes(self, chain: Chain, mode: str, sizes: dict[str, Any]) -> None:
        self.sizes.append({"chain": chain.name, "mode": mode, **sizes})


def _timed_naive(store: Any, query: Query, first: int, last: int,
                 verify: bool = True) -> tuple[float, NaiveAnswer]:  # fmt: skip
    answer = naive_scan(store, query, first, last, verify=verify)
    return answer.seconds, answer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales", default="2k,10k,100k,1m", help="chain lengths (2k, 10k, 100k, 1m)"
    )
    parser.add_argument("--fills", default="sparse,saturated", help="sparse and/or saturated")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (median)")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="stop repeating a query after this many seconds"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("/tmp/logfilter-e2e"),
        help="archives (cached across runs), data dirs, results",
    )
    parser.add_argument(
        "--plots",
        type=Path,
        default=Path(__file__).parent / "results",
        help="where the PNG plots go",
    )
    parser.add_argument(
        "--max-archive-gb",
        type=float,
        default=2.0,
        help="largest full archive generated; longer chains: headers only",
    )
    parser.add_argument(
        "--max-logs", type=int, default=100_000, help="skip queries expected to return more logs"
    )
    parser.add_argument(
        "--max-fetch",
        type=int,
        default=2_000,
        help="skip --no-logs queries with more candidate blocks to fetch",
    )
    parser.add_argument(
        "--anvil-blocks",
        type=int,
        default=10_000,
        help="blocks of the smallest sparse chain reproduced on anvil",
    )
    parser.add_argument("--no-anvil", action="store_true", help="skip anvil")
    parser.add_argument("--no-text-index", action="store_true", help="skip the text-index sync")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> Suite:
    """Measure everything the options ask for; the suite holds the figures."""
    suite = Suite(args)
    if args.quiet:
        suite.log = lambda *a, **k: None
    scales = sorted(parse_scale(s) for s in args.scales.split(","))
    fills = [f.strip() for f in args.fills.split(",")]
    chains = [make_chain(s, f, args.out, args.max_archive_gb * 1e9) for s in scales for f in fills]
    smallest_sparse = next((c for c in chains if c.fill == "sparse" and c.with_logs), None)
    for chain in chains:
        started = time.perf_counter()
        suite.log(f"{chain.name}: {chain.archive}")
        ensure_archive(chain)
        if chain.with_logs:
            first = chain is smallest_sparse
            suite.full_chain(chain, first and not args.no_anvil, first and not args.no_text_index)
        else:
            suite.headers_chain(chain)
        suite.log(f"  {chain.name}: {time.perf_counter() - started:.0f} s in all")
    return suite


def main() -> None:
    from bench.e2e_report import report

    args = parse_args()
    started = time.perf_counter()
    suite = run(args)
    elapsed = time.perf_counter() - started
    dump(args.out / "results.json", {
        "machine": machine(), "seconds": elapsed, "results": suite.results,
        "ingest": suite.ingest, "sizes": suite.sizes,
    })  # fmt: skip
    print(report(suite, args, elapsed))


if __name__ == "__main__":
    main()
