"""TermQuery: documents whose field holds one exact term, scored by BM25."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainindex.textindex.arrays import I64
from chainindex.textindex.fieldreader import FieldReader, TermPostings
from chainindex.textindex.query.base import Matches, Query, Scorer, Weight
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.scoring import BM25, idf

if TYPE_CHECKING:
    from chainindex.textindex.reader import LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["TermQuery", "TermScorer", "term_bytes"]


def term_bytes(term: str) -> bytes:
    """A term as the dictionary stores it (UTF-8; lone surrogates kept as such)."""
    try:
        return term.encode()
    except UnicodeEncodeError:
        return term.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class TermQuery(Query):
    """``field:term`` (the term is taken as is: already analyzed)."""

    field: str
    term: str

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return TermWeight(self, searcher, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        return field_prefix(self.field, default_field) + escape(self.term)

    def terms(self) -> dict[str, set[str]]:
        return {self.field: {self.term}}


class TermWeight(Weight):
    """BM25 statistics of one term over the index."""

    def __init__(self, query: TermQuery, searcher: IndexSearcher, scoring: bool, boost: float):
        super().__init__(query, scoring)
        self.field = query.field
        self.term = term_bytes(query.term)
        self.sim: BM25 | None = None
        if scoring:
            doc_count, total = searcher.field_stats(self.field)
            df = searcher.doc_freq(self.field, self.term)
            self.sim = BM25(idf(df, doc_count), doc_count, total, boost)

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self.field)
        if field is None:
            return None
        ordinal = field.lookup(self.term)
        if ordinal < 0:
            return None
        return TermScorer(field, field.postings(ordinal), self.sim)


class TermScorer(Scorer):
    """One term's postings in one segment."""

    def __init__(self, field: FieldReader, postings: TermPostings, sim: BM25 | None) -> None:
        self.field = field
        """The field."""
        self.postings = postings
        """The term's postings."""
        self._sim = sim

    def cost(self) -> int:
        return self.postings.df

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        got = self.postings.read() if candidates is None else self.postings.restrict(candidates)
        if self._sim is None:
            return Matches(got.docs, None)
        lengths = self.field.norms.lengths(got.docs)
        return Matches(got.docs, self._sim.score(got.freqs, lengths))
