"""The three engines of the text-index benchmark behind one small interface.

Each engine indexes :class:`~chainindex.textindex.document.Document` values (converted to its
own field model), settles (final merges), and turns an engine-independent
:class:`QuerySpec` into a callable that runs the query and returns the hits it got (top 10).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainindex.textindex.document import Document
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery, clear_automata
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig

__all__ = ["ENGINES", "QuerySpec", "Schema", "numeric"]

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


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
    cold: bool = False
    """Measure with the engine's per-query caches emptied before each run."""


def numeric(name: str) -> str:
    """The other engines' name of a point field (a name may also be a text field)."""
    return "n_" + name


# ---------------------------------------------------------------------------- logfilter


class Logfilter:
    name = "logfilter"

    @staticmethod
    def reset_caches() -> None:
        clear_automata()

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
            return int(searcher.search(q, limit=10).scored_length())

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


ENGINES: dict[str, Any] = {"logfilter": Logfilter, "whoosh": Whoosh, "tantivy": Tantivy}
"""Engine classes by name."""
