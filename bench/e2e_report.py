"""The end-to-end suite's tables (bench/common.py ``Table``) and PNG plots (matplotlib)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import Table, machine
from bench.e2e_chain import label

if TYPE_CHECKING:
    from bench.bench_e2e import Suite
    from bench.e2e_service import Measured

SYSTEMS = ["logfilter", "naive scan", "logfilter --no-logs", "anvil"]
HEADER_SYSTEMS = ["bloom path (in-process)", "naive bloom test"]


def _ms(m: Measured | None) -> str:
    if m is None or not m.seconds:
        return "—"
    return f"{m.median * 1e3:.3g}"


def _ratio(a: Measured | None, b: Measured | None) -> str:
    if a is None or b is None or not a.seconds or not b.seconds:
        return "—"
    return f"{a.median / b.median:.3g}x"


def _index(results: list[Measured]) -> dict[tuple[str, str, str, int], Measured]:
    return {(m.chain, m.system, m.query, m.range): m for m in results}


def latency_tables(suite: Suite) -> list[Table]:
    tables = []
    by = _index(suite.results)
    chains = list(dict.fromkeys(m.chain for m in suite.results))
    for chain in chains:
        rows = [m for m in suite.results if m.chain == chain]
        systems = {m.system for m in rows}
        keys = list(dict.fromkeys((m.query, m.range) for m in rows))
        if "logfilter" in systems:
            table = Table(
                f"{chain}: eth_getLogs over the chain's last N blocks, median ms",
                ["query", "range", "logs", "candidates", "density", "µs/candidate",
                 "logfilter", "naive scan", "--no-logs", "anvil", "naive / logfilter",
                 "--no-logs / logfilter", "anvil / logfilter"],
            )  # fmt: skip
            for query, length in keys:
                ours = by.get((chain, "logfilter", query, length))
                naive = by.get((chain, "naive scan", query, length))
                nologs = by.get((chain, "logfilter --no-logs", query, length))
                anvil = by.get((chain, "anvil", query, length))
                assert ours is not None
                if not ours.seconds:
                    table.add(query, label(length), f"skipped (> {suite.args.max_logs:,} logs "
                              "expected)", *["—"] * 10)  # fmt: skip
                    continue
                density = ours.density
                per = ours.per_candidate_us
                table.add(
                    query, label(length), f"{ours.logs:,}", f"{ours.candidates:,}",
                    "—" if density is None else f"{density:.1%}",
                    "—" if per is None else f"{per:.3g}",
                    _ms(ours), _ms(naive), _ms(nologs), _ms(anvil) if anvil and anvil.seconds
                    else (anvil.note if anvil else "—"),
                    _ratio(naive, ours), _ratio(nologs, ours), _ratio(anvil, ours),
                )  # fmt: skip
        else:
            table = Table(
                f"{chain}: candidate blocks of the bloom path (no logs anywhere: not verified), "
                "median ms",
                ["query", "range", "candidates", "share of range", "bloom path (sections)",
                 "naive bloom test", "naive / bloom path"],
            )  # fmt: skip
            for query, length in keys:
                bloom = by[(chain, "bloom path (in-process)", query, length)]
                naive = by[(chain, "naive bloom test", query, length)]
                share = (bloom.candidates or 0) / length
                table.add(query, label(length), f"{bloom.candidates:,}", f"{share:.2%}",
                          _ms(bloom), _ms(naive), _ratio(naive, bloom))  # fmt: skip
        tables.append(table)
    return tables


def ingest_table(suite: Suite) -> Table:
    table = Table(
        "Ingest: `logfilter sync --no-follow --confirmations 0` from the archive (one run)",
        ["chain", "mode", "blocks", "logs", "archive MiB", "s", "blocks/s", "logs/s",
         "sections", "section build ms"],
    )  # fmt: skip
    for r in suite.ingest:
        table.add(r["chain"], r["mode"], f"{r['blocks']:,}", f"{r['logs']:,}",
                  f"{r['archive_bytes'] / 2**20:,.0f}", r["seconds"], f"{r['blocks_per_s']:,.0f}",
                  f"{r['logs_per_s']:,.0f}", r["sections"],
                  "—" if r["sections"] == 0 else r["section_ms"])  # fmt: skip
    return table


def sizes_table(suite: Suite) -> Table:
    table = Table(
        "Stored sizes (keys + values before LevelDB's compression; on disk: the files)",
        ["chain", "mode", "logs", "bloom vectors MiB", "headers MiB", "logs MiB", "on disk MiB",
         "text index MiB", "vectors MiB / M logs", "logs MiB / M logs", "text MiB / M logs"],
    )  # fmt: skip
    mib = 2**20
    for s in suite.sizes:
        per = 1e6 / s["log_count"] / mib if s["log_count"] else math.nan
        table.add(
            s["chain"], s["mode"], f"{s['log_count']:,}", s["vectors"] / mib, s["headers"] / mib,
            s["logs"] / mib, s["on_disk"] / mib, s["text_index"] / mib,
            "—" if math.isnan(per) else s["vectors"] * per,
            "—" if math.isnan(per) else s["logs"] * per,
            "—" if math.isnan(per) or not s["text_index"] else s["text_index"] * per,
        )  # fmt: skip
    return table


def density_table(suite: Suite) -> Table:
    table = Table(
        "Candidate density (matched / candidate blocks, the service's counters) by fill",
        ["chain", "query", "range", "candidates", "matched", "density"],
    )
    for m in suite.results:
        if m.system == "logfilter" and m.seconds and m.candidates is not None:
            d = m.density
            table.add(m.chain, m.query, label(m.range), f"{m.candidates:,}", f"{m.matched:,}",
                      "—" if d is None else f"{d:.2%}")  # fmt: skip
    return table


def plots(suite: Suite, where: Path) -> list[Path]:
    """latency vs range per query kind and system (log-log), and density by fill."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    where.mkdir(parents=True, exist_ok=True)
    queries = list(dict.fromkeys(m.query.split(" (")[0] for m in suite.results))
    fills = list(dict.fromkeys(m.fill for m in suite.results))
    size = (3.2 * len(queries), 2.8 * len(fills))
    fig, axes = plt.subplots(
        len(fills), len(queries), figsize=size, squeeze=False, sharex=True, sharey=True
    )
    for row, fill in enumerate(fills):
        for col, kind in enumerate(queries):
            ax = axes[row][col]
            lines: dict[str, list[tuple[int, float]]] = {}
            for m in suite.results:
                if m.fill != fill or not m.query.startswith(kind) or not m.seconds:
                    continue
                lines.setdefault(f"{m.system}, {label(m.blocks)}", []).append(
                    (m.range, m.median * 1e3)
                )
            for name, points in sorted(lines.items()):
                points.sort()
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                        markersize=3, linewidth=1, label=name)  # fmt: skip
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{kind}, {fill}", fontsize=8)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.set_ylabel("median ms", fontsize=8)
            if row == len(fills) - 1:
                ax.set_xlabel("range (blocks)", fontsize=8)
            ax.legend(fontsize=5)
    fig.tight_layout()
    latency = where / "e2e_latency.png"
    fig.savefig(latency, dpi=90)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    bars = [m for m in suite.results if m.system == "logfilter" and m.seconds and m.density]
    bars = [m for m in bars if m.range == max(b.range for b in bars if b.chain == m.chain)]
    names = [f"{m.query.split(' (')[0]}\n{m.chain}" for m in bars]
    ax.bar(range(len(bars)), [m.density or 0 for m in bars],
           color=["tab:blue" if m.fill == "sparse" else "tab:red" for m in bars])  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(range(len(bars)), names, fontsize=5, rotation=60, ha="right")
    ax.set_ylabel("matched / candidate blocks", fontsize=8)
    ax.set_title("Candidate density, whole chain (blue sparse, red saturated)", fontsize=9)
    fig.tight_layout()
    density = where / "e2e_density.png"
    fig.savefig(density, dpi=90)
    plt.close(fig)
    return [latency, density]


def report(suite: Suite, args: argparse.Namespace, elapsed: float) -> str:
    """All tables as Markdown (also written to ``--out``/tables.md), and the plots."""
    parts = [f"Machine: {machine()}\n", f"Run time: {elapsed / 60:.1f} min; repeats "
             f"{args.repeats} (median; fewer past {args.budget:g} s per query)\n"]  # fmt: skip
    tables = [*latency_tables(suite), ingest_table(suite), sizes_table(suite),
              density_table(suite)]  # fmt: skip
    parts += [t.render() for t in tables]
    text = "\n".join(parts)
    (args.out / "tables.md").write_text(text)
    for path in plots(suite, args.plots):
        text += f"\nplot: {path}\n"
    return text
