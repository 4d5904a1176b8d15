"""Text-index benchmark: logfilter's index side by side with whoosh (pure Python) and tantivy
(Rust, through its Python binding), on the same decoded logs.

    python -m bench.bench_textindex --logs 1000000 [--whoosh-logs 200000] [--repeats 15]

Every engine indexes the same documents (the logs decoded once, untimed, into field values),
with equivalent schemas: keywords as single unanalyzed (lowercased) terms, strings as
analyzed text with positions (lowercase word tokenizer, no stop words), integers as numeric
fields (clamped to int64 for the other two, which have no 256-bit integers), and the log
record stored. Measured:

- indexing rate: documents per second to add everything and commit (one indexing thread
  each; each engine merges segments its own way);
- query latency, median over repeats, top 10 by relevance: a term, two terms ANDed, a
  phrase, a prefix and a fuzzy query (edit distance 2) on the text field, plus a keyword term
  and a keyword term filtered by a block range;
- index size on disk.

whoosh is slow enough that it may be given a subset (``--whoosh-logs``): its figures then
say on how many documents they were measured.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Table, machine, median_seconds
from bench.textindex_corpus import corpus_logs
from bench.textindex_engines import ENGINES, QuerySpec, Schema
from chainindex.logsearch.decode import AbiRegistry, decode_log, log_document
from chainindex.logsearch.index import TextIndex
from chainindex.textindex.document import Document

TEXT = "text"


def schema_of(docs: list[Document]) -> Schema:
    keywords: set[str] = set()
    texts: set[str] = set()
    points: set[str] = set()
    for doc in docs:
        keywords.update(f for f, _ in doc.keywords)
        texts.update(f for f, _ in doc.texts)
        points.update(f for f, _ in doc.points)
    return Schema(tuple(sorted(keywords)), tuple(sorted(texts)), tuple(sorted(points)))


def pick_queries(docs: list[Document], range_docs: int) -> list[QuerySpec]:
    """Queries with real hits in this corpus: the most common words and their neighbours;
    the block range lies within the first ``range_docs`` documents (every engine's corpus)."""
    words: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for doc in docs:
        for field, value in doc.texts:
            if field != TEXT:
                continue
            tokens = value.lower().replace("-", " ").split()
            words.update(set(tokens))
            pairs.update(itertools.pairwise(tokens))
    common = [w for w, _ in words.most_common(50) if len(w) >= 5]
    first = common[0]
    (a, b), _ = next((p, n) for p, n in pairs.most_common() if p[0] != p[1])
    typo = first[0] + ("x" if first[1] != "x" else "y") + first[2:-1]  # one edit, one deletion
    addresses: Counter[str] = Counter(v for doc in docs for f, v in doc.keywords if f == "to")
    busy = addresses.most_common(20)[-1][0]
    top_block = max(v for doc in docs[:range_docs] for f, v in doc.points if f == "block")
    return [
        QuerySpec(f"term `{first}`", "term", TEXT, (first,)),
        QuerySpec(f"AND `{a} {b}`", "and", TEXT, (a, b)),
        QuerySpec(f'phrase `"{a} {b}"`', "phrase", TEXT, (a, b)),
        QuerySpec(f"prefix `{first[:3]}*`", "prefix", TEXT, (first[:3],)),
        QuerySpec(f"fuzzy `{typo}~2`", "fuzzy", TEXT, (typo,)),
        QuerySpec(f"fuzzy `{typo}~2`, automaton not cached", "fuzzy", TEXT, (typo,), cold=True),
        QuerySpec("keyword `to:<busy account>`", "keyword", "to", (busy,)),
        QuerySpec(
            "keyword + block range",
            "filtered",
            "to",
            (busy,),
            (top_block // 4, top_block // 2),
        ),
    ]


# ---------------------------------------------------------------------------- running


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(
    engine: Any,
    docs: list[Document],
    schema: Schema,
    queries: list[QuerySpec],
    repeats: int,
    root: Path,
) -> dict[str, Any]:
    path = root / engine.name
    start = time.perf_counter()
    engine.build(path, docs, schema)
    seconds = time.perf_counter() - start
    engine.settle(path)
    latencies = {}
    hits = {}
    for spec in queries:
        run = engine.query(spec)
        hits[spec.label] = run()
        run()  # warm
        reset = getattr(engine, "reset_caches", None) if spec.cold else None
        latencies[spec.label] = median_seconds(run, repeats=repeats, setup=reset)
    return {
        "docs": len(docs),
        "rate": len(docs) / seconds,
        "seconds": seconds,
        "latency": latencies,
        "hits": hits,
        "size": dir_size(path),
        "segments": engine.segments(),
        "merge": getattr(engine, "merge_seconds", 0.0),
    }


def end_to_end(logs: list[Any], queries: list[str], repeats: int, root: Path) -> dict[str, float]:
    """The service path: decode + index through TextIndex, then TextIndex.search (parse,
    search, fetch and decode the 10 hits)."""
    path = root / "e2e"
    start = time.perf_counter()
    with TextIndex.open(path) as index:
        index.add_logs(logs)
        index.commit(logs[-1].block_number)
        rate = len(logs) / (time.perf_counter() - start)
        index.wait_for_merges()
        out = {"index+decode rate": rate}
        for q in queries:

            def run(text: str = q) -> None:
                index.search(text, limit=10)

            run()
            out[q] = median_seconds(run, repeats=repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--whoosh-logs", type=int, default=None, help="subset for whoosh")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--engines", default="logfilter,whoosh,tantivy")
    parser.add_argument("--workdir", default=None, help="where indexes are built (temp dir)")
    args = parser.parse_args()

    started = time.perf_counter()
    logs = list(corpus_logs(args.logs))
    registry = AbiRegistry()
    docs = [log_document(log, decode_log(log, registry)) for log in logs]
    prep = time.perf_counter() - started
    schema = schema_of(docs)
    queries = pick_queries(docs, min(len(docs), args.whoosh_logs or len(docs)))
    print(f"Machine: {machine()}; shared with other workloads")
    print(
        f"Corpus: {len(docs):,} decoded logs ({prep:.0f} s to generate and decode), "
        f"{len(schema.keywords)} keyword, {len(schema.texts)} text, "
        f"{len(schema.points)} numeric fields\n"
    )
    root = Path(args.workdir or tempfile.mkdtemp(prefix="bench-textindex-"))
    engines = ENGINES
    results = {}
    for name in args.engines.split(","):
        subset = docs[: args.whoosh_logs] if name == "whoosh" and args.whoosh_logs else docs
        results[name] = measure(engines[name](), subset, schema, queries, args.repeats, root)
        print(
            f"{name}: {results[name]['rate']:,.0f} docs/s, {results[name]['segments']} segments",
            flush=True,
        )
    print()
    names = list(results)
    table = Table(
        "Indexing", ["engine", "documents", "docs/s", "index size (MiB)", "bytes/doc", "segments"]
    )
    for name in names:
        r = results[name]
        table.add(
            name,
            f"{r['docs']:,}",
            f"{r['rate']:,.0f}",
            r["size"] / 2**20,
            f"{r['size'] / r['docs']:.0f}",
            r["segments"],
        )
    table.print()
    if "logfilter" in results:
        print(
            f"logfilter's segments were then merged into one in "
            f"{results['logfilter']['merge']:.1f} s (not counted above).\n"
        )
    columns = ["query", *[f"{n} (ms)" for n in names]]
    if "logfilter" in results:
        columns += [f"{n} / logfilter" for n in names if n != "logfilter"]
    table = Table("Query latency, top 10 (median ms)", columns)
    for spec in queries:
        row: list[object] = [spec.label]
        row += [results[n]["latency"][spec.label] * 1e3 for n in names]
        if "logfilter" in results:
            ours = results["logfilter"]["latency"][spec.label]
            row += [
                f"{results[n]['latency'][spec.label] / ours:.2g}x"
                for n in names
                if n != "logfilter"
            ]
        table.add(*row)
    table.print()
    table = Table("Hits returned (top 10; sanity check)", ["query", *names])
    for spec in queries:
        table.add(spec.label, *[results[n]["hits"][spec.label] for n in names])
    table.print()
    e2e_queries = [
        f"{queries[0].terms[0]}",
        f'"{" ".join(queries[2].terms)}"',
        f"{queries[4].terms[0]}~2",
    ]
    e2e = end_to_end(logs, e2e_queries, args.repeats, root)
    table = Table(
        "Service path: TextIndex (decode + index; parse + search + decode 10 hits)",
        ["what", "value"],
    )
    table.add("index + decode rate (logs/s)", f"{e2e.pop('index+decode rate'):,.0f}")
    for q, seconds in e2e.items():
        table.add(f"search `{q}` (ms)", seconds * 1e3)
    table.print()
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    if args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
