"""Queries that expand to many terms (Lucene's MultiTermQuery) and the term-set query.

Prefix, wildcard, regexp and term-range queries enumerate the terms of a field that satisfy
them (walking the terms dictionary from a seek point, as Lucene's ``FilteredTermsEnum``) and
match the union of their postings with a constant score (Lucene's default
``CONSTANT_SCORE_REWRITE``). The expansion happens per segment, when the scorer is made, and
the union is decoded in one vectorized pass over every block of every matching term.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainindex.textindex.arrays import I64
from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.fieldreader import FieldReader
from chainindex.textindex.query.base import LazyConstantScorer, Query, Scorer, Weight
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.query.term import term_bytes

if TYPE_CHECKING:
    from chainindex.textindex.reader import LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["MultiTermQuery", "TermInSetQuery", "pattern_ordinals", "union_of_terms"]


def union_of_terms(field: FieldReader, ordinals: I64) -> I64:
    """Sorted distinct documents holding any of the terms."""
    docs = field.docs_of_terms(ordinals)
    if len(docs) > field.max_doc // 8:
        mask = np.zeros(field.max_doc, dtype=bool)
        mask[docs] = True
        return np.flatnonzero(mask).astype(np.int64)
    return np.unique(docs)


def pattern_ordinals(terms: TermDictionary, prefix: str, pattern: re.Pattern[str]) -> Iterator[int]:
    """Ordinals of the terms that start with ``prefix`` (the pattern's literal start: where the
    walk seeks to and stops) and that ``pattern`` matches whole."""
    start = term_bytes(prefix)
    match = pattern.fullmatch
    for term, ordinal in terms.iterate(start):
        if not term.startswith(start):
            break
        if match(term.decode("utf-8", "surrogatepass")):
            yield ordinal


class MultiTermQuery(Query):
    """A query matching documents that hold any term of a set defined by a predicate."""

    field: str

    @abstractmethod
    def ordinals(self, terms: TermDictionary) -> Iterable[int]:
        """Ordinals of the matching terms of one segment's field."""

    @abstractmethod
    def accepts(self, term: str) -> bool:
        """Whether a term matches (for highlighting)."""

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _TermSetWeight(self, self.field, self.ordinals, scoring, boost)

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        return {self.field: [self.accepts]}


class _TermSetWeight(Weight):
    """The weight of an expanding query: the union of its terms' postings, constant score."""

    def __init__(
        self,
        query: Query,
        field: str,
        expand: Callable[[TermDictionary], Iterable[int]],
        scoring: bool,
        score: float,
    ) -> None:
        super().__init__(query, scoring)
        self._field = field
        self._expand = expand
        self._score = score

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self._field)
        if field is None:
            return None
        ordinals = np.fromiter(self._expand(field.terms), dtype=np.int64)
        if len(ordinals) == 0:
            return None
        cost = int(field.df.take(ordinals).sum())
        return LazyConstantScorer(
            lambda: union_of_terms(field, ordinals), cost, self._score, self.scoring
        )


@dataclass(frozen=True)
class TermInSetQuery(Query):
    """Documents holding any of the given exact terms; constant score (an address list)."""

    field: str
    values: frozenset[str]

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        encoded = sorted(term_bytes(v) for v in self.values)

        def expand(terms: TermDictionary) -> Iterable[int]:
            for value in encoded:
                ordinal = terms.lookup(value)
                if ordinal >= 0:
                    yield ordinal

        return _TermSetWeight(self, self.field, expand, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        inner = " ".join(escape(v) for v in sorted(self.values))
        return f"{field_prefix(self.field, default_field)}({inner})"

    def terms(self) -> dict[str, set[str]]:
        return {self.field: set(self.values)}
