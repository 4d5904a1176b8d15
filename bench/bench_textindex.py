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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Table, machine, median_seconds
from bench.textindex_corpus import corpus_logs
from chainindex.decode import AbiRegistry, decode_log, log_document
from chainindex.textindex.document import Document
from chainindex.textindex.logindex import TextIndex
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
TEXT = "text"


@dataclass(frozen=True)
class Schema:
    """The fields of the corpus, by kind."""

    keywords: tuple[str, ...]
    texts: tuple[str, ...]
    points: tuple[str, ...]


@dataclass(frozen=True)
class QuerySpec:
    """One benchmark query, engine-independent."""

    label: str
    kind: str  # term | and | phrase | prefix | fuzzy | keyword | filtered
    field: str
    terms: tuple[str, ...]
    block_range: tuple[int, int] | None = None


def schema_of(docs: list[Document]) -> Schema:
    keywords: set[str] = set()
    texts: set[str] = set()
    points: set[str] = set()
    for doc in docs:
        keywords.update(f for f, _ in doc.keywords)
        texts.update(f for f, _ in doc.texts)
        points.update(f for f, _ in doc.points)
    return Schema(tuple(sorted(keywords)), tuple(sorted(texts)), tuple(sorted(points)))


def numeric(name: str) -> str:
    """The other engines' name of a point field (a name may also be a text field)."""
    return "n_" + name


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
        QuerySpec("keyword `to:<busy account>`", "keyword", "to", (busy,)),
        QuerySpec(
            "keyword + block range",
            "filtered",
            "to",
            (busy,),
            (top_block // 4, top_block // 2),
        ),
    ]


# ---------------------------------------------------------------------------- logfilter


class Logfilter:
    name = "logfilter"

    def build(self, path: Path, docs: list[Document], schema: Schema) -> None:
        self.writer = IndexWriter(path, WriterConfig())
        self.writer.add_documents(docs)
        self.writer.commit()

    def settle(self, path: Path) -> None:
        # The other two end with one segment; merge ours to one as well before querying.
        start = time.perf_counter()
        self.writer.wait_for_merges()
        self.writer.force_merge()
        self.writer.commit()
        self.writer.close()
        self.merge_seconds = time.perf_counter() - start
        self.reader = IndexReader.open(path)
        self.searcher = IndexSearcher(self.reader)

    def segments(self) -> int:
        return len(self.reader.leaves)

    def query(self, spec: QuerySpec) -> Callable[[], int]:
        q = self._query(spec)
        searcher = self.searcher

        def run() -> int:
            return len(searcher.search(q, 10).hits)

        return run

    def _query(self, spec: QuerySpec) -> Query:
        f, t = spec.field, spec.terms
        if spec.kind in ("term", "keyword"):
            return TermQuery(f, t[0])
        if spec.kind == "and":
            return BooleanQuery.of(
                (Occur.MUST, TermQuery(f, t[0])), (Occur.MUST, TermQuery(f, t[1]))
            )
        if spec.kind == "phrase":
            return PhraseQuery(f, t)
        if spec.kind == "prefix":
            return PrefixQuery(f, t[0])
        if spec.kind == "fuzzy":
            return FuzzyQuery(f, t[0], 2)
        assert spec.block_range is not None
        return BooleanQuery.of(
            (Occur.MUST, TermQuery(f, t[0])),
            (Occur.FILTER, PointRangeQuery("block", *spec.block_range)),
        )


# ---------------------------------------------------------------------------- whoosh


class Whoosh:
    name = "whoosh"

    def build(self, path: Path, docs: list[Document], schema: Schema) -> None:
        from whoosh import fields, index
        from whoosh.analysis import LowercaseFilter, RegexTokenizer

        analyzer = RegexTokenizer(r"\w+") | LowercaseFilter()
        spec: dict[str, Any] = {"stored": fields.STORED()}
        spec.update({k: fields.ID() for k in schema.keywords})
        spec.update({t: fields.TEXT(analyzer=analyzer, phrase=True) for t in schema.texts})
        spec.update({numeric(p): fields.NUMERIC(bits=64, signed=True) for p in schema.points})
        self.schema = fields.Schema(**spec)
        path.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(path), self.schema)
        writer = ix.writer(limitmb=256)
        for doc in docs:
            writer.add_document(**whoosh_fields(doc))
        writer.commit()
        self.ix = ix

    def settle(self, path: Path) -> None:
        self.searcher = self.ix.searcher()

    def segments(self) -> int:
        return len(self.ix._segments())

    def query(self, spec: QuerySpec) -> Callable[[], int]:
        from whoosh import query as wq

        f, t = spec.field, spec.terms
        q: Any
        if spec.kind in ("term", "keyword"):
            q = wq.Term(f, t[0])
        elif spec.kind == "and":
            q = wq.And([wq.Term(f, t[0]), wq.Term(f, t[1])])
        elif spec.kind == "phrase":
            q = wq.Phrase(f, list(t))
        elif spec.kind == "prefix":
            q = wq.Prefix(f, t[0])
        elif spec.kind == "fuzzy":
            q = wq.FuzzyTerm(f, t[0], maxdist=2)
        else:
            assert spec.block_range is not None
            q = wq.And([wq.Term(f, t[0]), wq.NumericRange(numeric("block"), *spec.block_range)])
        searcher = self.searcher

        def run() -> int:
            return len(searcher.search(q, limit=10))

        return run


def whoosh_fields(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {"stored": doc.stored}
    for f, v in doc.keywords:
        out[f] = v.lower()
    for f, v in doc.texts:
        out[f] = v if f not in out else out[f] + " " + v
    for f, number in doc.points:
        out.setdefault(numeric(f), min(max(number, I64_MIN), I64_MAX))
    return out


# ---------------------------------------------------------------------------- tantivy


class Tantivy:
    name = "tantivy"

    def build(self, path: Path, docs: list[Document], schema: Schema) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        for k in schema.keywords:
            builder.add_text_field(k, tokenizer_name="raw", index_option="basic")
        for t in schema.texts:
            builder.add_text_field(t, tokenizer_name="default", index_option="position")
        for p in schema.points:
            builder.add_integer_field(numeric(p), indexed=True, fast=p == "block")
        builder.add_bytes_field("stored", stored=True)
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        for doc in docs:
            writer.add_document(tantivy.Document.from_dict(tantivy_fields(doc), self.schema))
        writer.commit()
        writer.wait_merging_threads()

    def settle(self, path: Path) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def segments(self) -> int:
        return int(self.searcher.num_segments)

    def query(self, spec: QuerySpec) -> Callable[[], int]:
        import tantivy

        tq = tantivy.Query
        s = self.schema
        f, t = spec.field, spec.terms
        q: Any
        if spec.kind in ("term", "keyword"):
            q = tq.term_query(s, f, t[0])
        elif spec.kind == "and":
            q = tq.boolean_query(
                [
                    (tantivy.Occur.Must, tq.term_query(s, f, t[0])),
                    (tantivy.Occur.Must, tq.term_query(s, f, t[1])),
                ]
            )
        elif spec.kind == "phrase":
            q = tq.phrase_query(s, f, list(t))
        elif spec.kind == "prefix":
            q = tq.regex_query(s, f, t[0] + ".*")
        elif spec.kind == "fuzzy":
            q = tq.fuzzy_term_query(s, f, t[0], distance=2, transposition_cost_one=True)
        else:
            assert spec.block_range is not None
            low, high = spec.block_range
            q = tq.boolean_query(
                [
                    (tantivy.Occur.Must, tq.term_query(s, f, t[0])),
                    (
                        tantivy.Occur.Must,
                        tq.range_query(s, numeric("block"), tantivy.FieldType.Integer, low, high),
                    ),
                ]
            )
        searcher = self.searcher

        def run() -> int:
            return len(searcher.search(q, 10).hits)

        return run


def tantivy_fields(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {"stored": doc.stored}
    for f, v in doc.keywords:
        out.setdefault(f, []).append(v.lower())
    for f, v in doc.texts:
        out.setdefault(f, []).append(v)
    for f, number in doc.points:
        out.setdefault(numeric(f), []).append(min(max(number, I64_MIN), I64_MAX))
    return out


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
        latencies[spec.label] = median_seconds(run, repeats=repeats)
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
    engines = {"logfilter": Logfilter, "whoosh": Whoosh, "tantivy": Tantivy}
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
