"""Every query type against the brute-force reference, on random corpora and random queries.

Each example indexes a random corpus in random segment sizes, deletes random documents,
sometimes merges, then runs random queries: the hits must be exactly the reference's
matching live documents, each with the reference's BM25 score (so the ordering follows), and
paging with cursors must walk the reference's order.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.textindex.collector import Sort, SortField
from chainindex.textindex.document import Document
from chainindex.textindex.merge.policy import NoMergePolicy, TieredMergePolicy
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanClause, BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery
from chainindex.textindex.query.matchall import (
    BoostQuery,
    ConstantScoreQuery,
    ExistsQuery,
    MatchAllDocsQuery,
)
from chainindex.textindex.query.multiterm import TermInSetQuery
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.regexp import RegexpQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.query.termrange import TermRangeQuery
from chainindex.textindex.query.wildcard import WildcardQuery
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig
from tests.chainindex.textindex.reference import Reference
from tests.chainindex.textindex.strategies import (
    KEYWORD_FIELDS,
    KEYWORDS,
    POINT_FIELDS,
    TEXT_FIELDS,
    WORDS,
    documents,
)

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))

TERMS = sorted({*WORDS, *(k.lower() for k in KEYWORDS), "zzz", "Transfer"})
FIELDS = [*TEXT_FIELDS, *KEYWORD_FIELDS]


@dataclass
class Corpus:
    docs: list[Document]
    deleted: set[int]
    flush_every: int
    merge: str


@st.composite
def corpora(draw: st.DrawFn) -> Corpus:
    docs = draw(st.lists(documents(), min_size=1, max_size=40))
    # Sometimes the block point mirrors the block doc value (as for logs), which lets point
    # ranges test candidates through the column.
    mirror = draw(st.booleans())
    for i, doc in enumerate(docs):
        doc.keywords.append(("id", f"id{i}"))
        doc.doc_values = {"block": i // 3, "logIndex": i % 3}
        doc.stored = str(i).encode()
        if mirror:
            doc.points = [p for p in doc.points if p[0] != "block"] + [("block", i // 3)]
    deleted = draw(st.sets(st.integers(0, len(docs) - 1), max_size=len(docs) // 2))
    return Corpus(
        docs,
        deleted,
        draw(st.integers(1, 15)),
        draw(st.sampled_from(["none", "tiered", "force"])),
    )


def mutate(word: str, draw: st.DrawFn) -> str:
    """A word with up to two random edits (to exercise fuzzy matching)."""
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(["sub", "del", "ins", "swap"]))
        i = draw(st.integers(0, max(0, len(word) - 1)))
        c = draw(st.sampled_from("abeiklotv"))
        if op == "sub" and word:
            word = word[:i] + c + word[i + 1 :]
        elif op == "del" and word:
            word = word[:i] + word[i + 1 :]
        elif op == "ins":
            word = word[:i] + c + word[i:]
        elif op == "swap" and i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word


@st.composite
def leaf_queries(draw: st.DrawFn) -> Query:
    kind = draw(
        st.sampled_from(
            [
                "term",
                "prefix",
                "wildcard",
                "regexp",
                "fuzzy",
                "phrase",
                "termrange",
                "pointrange",
                "termset",
                "all",
                "exists",
            ]
        )
    )
    field = draw(st.sampled_from(FIELDS))
    text_field = draw(st.sampled_from(TEXT_FIELDS))
    if kind == "term":
        return TermQuery(field, draw(st.sampled_from(TERMS)))
    if kind == "prefix":
        word = draw(st.sampled_from(TERMS))
        return PrefixQuery(field, word[: draw(st.integers(0, len(word)))])
    if kind == "wildcard":
        chars = list(draw(st.sampled_from(TERMS)))
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(chars)))
            chars[i:i] = [draw(st.sampled_from(["*", "?"]))]
        return WildcardQuery(field, "".join(chars))
    if kind == "regexp":
        pattern = draw(
            st.sampled_from(["vit.*", "a.*e", "(bob|alice)", "[a-c].*", ".*ed", "0x.*", "e?th?"])
        )
        return RegexpQuery(field, pattern)
    if kind == "fuzzy":
        return FuzzyQuery(
            text_field,
            mutate(draw(st.sampled_from(WORDS)), draw),
            draw(st.integers(0, 2)),
            draw(st.integers(0, 2)),
            draw(st.sampled_from([1, 2, 50])),
        )
    if kind == "phrase":
        words = tuple(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
        return PhraseQuery(text_field, words, draw(st.integers(0, 3)))
    if kind == "termrange":
        low = draw(st.one_of(st.none(), st.sampled_from(TERMS)))
        high = draw(st.one_of(st.none(), st.sampled_from(TERMS)))
        return TermRangeQuery(field, low, high, draw(st.booleans()), draw(st.booleans()))
    if kind == "pointrange":
        bounds = st.one_of(st.none(), st.integers(-5, 45), st.sampled_from([2**64, -(2**70)]))
        return PointRangeQuery(draw(st.sampled_from(POINT_FIELDS)), draw(bounds), draw(bounds))
    if kind == "termset":
        return TermInSetQuery(field, frozenset(draw(st.sets(st.sampled_from(TERMS), max_size=4))))
    if kind == "all":
        return MatchAllDocsQuery()
    return ExistsQuery(draw(st.sampled_from([*FIELDS, *POINT_FIELDS])))


def queries() -> st.SearchStrategy[Query]:
    def extend(inner: st.SearchStrategy[Query]) -> st.SearchStrategy[Query]:
        clause = st.builds(BooleanClause, st.sampled_from(list(Occur)), inner)
        return st.one_of(
            st.builds(
                BooleanQuery,
                st.lists(clause, min_size=1, max_size=4).map(tuple),
                st.integers(0, 2),
            ),
            st.builds(BoostQuery, inner, st.sampled_from([0.5, 2.0])),
            st.builds(ConstantScoreQuery, inner, st.just(1.5)),
        )

    return st.recursive(leaf_queries(), extend, max_leaves=6)


def build(path: Path, corpus: Corpus) -> IndexReader:
    policy = TieredMergePolicy(segments_per_tier=2, max_merge_at_once=3, floor_segment_bytes=1)
    config = WriterConfig(
        max_buffered_docs=corpus.flush_every,
        background_merges=False,
        merge_policy=policy if corpus.merge == "tiered" else NoMergePolicy,
    )
    with IndexWriter(path, config) as writer:
        writer.add_documents(corpus.docs)
        writer.commit()
        if corpus.deleted:
            ids = frozenset(f"id{i}" for i in corpus.deleted)
            assert writer.delete_documents(TermInSetQuery("id", ids)) == len(corpus.deleted)
        if corpus.merge == "force":
            writer.force_merge()
        writer.commit()
    return IndexReader.open(path)


def hits_of(searcher: IndexSearcher, query: Query, k: int) -> dict[int, float]:
    top = searcher.search(query, k)
    scores = [h.score for h in top.hits]
    assert scores == sorted(scores, reverse=True)
    out = {int(searcher.stored(h.leaf, h.doc)): h.score for h in top.hits}
    assert len(out) == len(top.hits)
    assert top.total == len(out)
    return out


def assert_same(got: dict[int, float], expected: dict[int, float], query: Query) -> None:
    assert set(got) == set(expected), f"{query}: {sorted(got)} != {sorted(expected)}"
    for doc, score in expected.items():
        assert math.isclose(got[doc], score, rel_tol=1e-9, abs_tol=1e-12), (query, doc)


@SETTINGS
@given(corpora(), st.lists(queries(), min_size=1, max_size=6))
def test_queries_match_brute_force(corpus: Corpus, qs: list[Query]) -> None:
    live = [i not in corpus.deleted for i in range(len(corpus.docs))]
    reference = Reference(corpus.docs, live)
    with tempfile.TemporaryDirectory() as tmp:
        reader = build(Path(tmp), corpus)
        assert reader.num_docs == sum(live)
        searcher = IndexSearcher(reader)
        for query in qs:
            expected = reference.search(query)
            assert_same(hits_of(searcher, query, len(corpus.docs) + 1), expected, query)
            assert searcher.count(query) == len(expected)


@SETTINGS
@given(corpora(), queries(), st.integers(1, 7), st.booleans())
def test_cursor_pages_walk_the_reference_order(
    corpus: Corpus, query: Query, page: int, by_score: bool
) -> None:
    live = [i not in corpus.deleted for i in range(len(corpus.docs))]
    expected = Reference(corpus.docs, live).search(query)

    def key(doc: int) -> tuple[float, int, int]:
        block, log_index = doc // 3, doc % 3
        return (-expected[doc] if by_score else 0.0, block, log_index)

    order = sorted(expected, key=key)
    sort = Sort((SortField("block"), SortField("logIndex")), by_score=by_score)
    with tempfile.TemporaryDirectory() as tmp:
        searcher = IndexSearcher(build(Path(tmp), corpus))
        walked: list[int] = []
        after = None
        while True:
            top = searcher.search(query, page, sort, after)
            assert top.total == len(expected)
            walked.extend(int(searcher.stored(h.leaf, h.doc)) for h in top.hits)
            if len(top.hits) < page:
                break
            after = top.hits[-1].sort_values
        # Scores equal up to rounding may order differently: compare within score ties.
        if by_score:
            assert sorted(walked) == sorted(order)
            scores = [expected[d] for d in walked]
            assert all(a >= b - 1e-9 for a, b in itertools.pairwise(scores))
            rounded = [(round(-expected[d], 9), d // 3, d % 3) for d in walked]
            assert rounded == sorted(rounded)
        else:
            assert walked == order


@SETTINGS
@given(corpora(), queries())
def test_reverse_field_sort(corpus: Corpus, query: Query) -> None:
    live = [i not in corpus.deleted for i in range(len(corpus.docs))]
    expected = Reference(corpus.docs, live).search(query)
    order = sorted(expected, key=lambda d: (-(d // 3), -(d % 3)))
    sort = Sort((SortField("block", reverse=True), SortField("logIndex", reverse=True)), False)
    with tempfile.TemporaryDirectory() as tmp:
        searcher = IndexSearcher(build(Path(tmp), corpus))
        top = searcher.search(query, len(corpus.docs), sort)
        assert [int(searcher.stored(h.leaf, h.doc)) for h in top.hits] == order
