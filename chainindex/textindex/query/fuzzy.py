"""FuzzyQuery: terms within an edit distance of a term (``field:vitalk~2``), scored.

Distance is Damerau–Levenshtein in its restricted form (optimal string alignment: insert,
delete, substitute, or swap two adjacent characters, each costing one; Lucene's default with
``transpositions``), over Unicode code points, at most 2. A term must start with the first
``prefix_length`` characters of the query term (all of it when shorter), as in Lucene.

Expansion walks the sorted terms of each segment keeping one row of the edit-distance table
per character of the current term; rows are shared with the previous term's common prefix,
and as soon as every entry of a row exceeds ``max_edits`` no term with that prefix can match,
so the walk seeks past all of them (the pruning that Lucene gets from intersecting a
Levenshtein automaton with the terms index).

Automata are kept for reuse (:func:`automaton`, an LRU by query term and distance): a fuzzy
query seen recently skips building the states its earlier searches built.

Rewrite keeps the ``max_expansions`` best terms over the whole index (terms found only in
deleted documents do not count) (smaller distance first,
then term order) and scores like Lucene's blended rewrite: each term's BM25 with its boost
``1 - distance / min(len(term), len(query))`` and, for every term, the largest document
frequency among them (so a rare misspelling does not outrank the term itself).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from chainindex.errors import QueryError
from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.query.base import I64, Matches, Query, Scorer, Weight
from chainindex.textindex.query.matchall import MatchNoDocsQuery
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.query.term import TermScorer, term_bytes
from chainindex.textindex.scoring import BM25, idf

if TYPE_CHECKING:
    from chainindex.textindex.reader import IndexReader, LeafReader
    from chainindex.textindex.searcher import IndexSearcher

__all__ = ["FuzzyQuery", "ScoredTermsQuery", "edit_distance", "fuzzy_expand"]

MAX_EDITS = 2
"""The largest distance a fuzzy query accepts (Lucene's limit)."""


def _next_row(
    row: list[int], prev: list[int] | None, query: str, char: str, before: str | None
) -> list[int]:
    """Row ``i`` of the OSA table from row ``i - 1`` (``row``) and ``i - 2`` (``prev``)."""
    new = [row[0] + 1]
    for j in range(1, len(query) + 1):
        cost = 0 if query[j - 1] == char else 1
        value = min(new[j - 1] + 1, row[j] + 1, row[j - 1] + cost)
        if (
            prev is not None
            and before is not None
            and j > 1
            and query[j - 1] == before
            and query[j - 2] == char
        ):
            value = min(value, prev[j - 2] + 1)
        new.append(value)
    return new


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance between two strings."""
    row = list(range(len(b) + 1))
    prev: list[int] | None = None
    for i, char in enumerate(a):
        row, prev = _next_row(row, prev, b, char, a[i - 1] if i else None), row
    return row[-1]


class _Automaton:
    """A Levenshtein (OSA) automaton for one query, built lazily.

    A state is the last two rows of the edit-distance table (values clamped at
    ``max_edits + 1``, which keeps the state space finite without changing any decision) and
    the previous character's positions in the query (for transpositions). A character enters
    as the bitmask of the query positions holding it, so the transitions are a dict from
    ``(state, mask)`` to the next state, filled as the walk meets them: after warm-up a
    character costs one dict lookup.
    """

    def __init__(self, query: str, max_edits: int) -> None:
        self.query = query
        self.limit = max_edits + 1
        self.masks: dict[str, int] = {}
        for j, char in enumerate(query):
            self.masks[char] = self.masks.get(char, 0) | (1 << j)
        self.chars = sorted(self.masks)
        """The distinct characters of the query, ascending."""
        start = (None, tuple(min(j, self.limit) for j in range(len(query) + 1)), 0)
        self._ids: dict[tuple[object, ...], int] = {}
        self.states: list[tuple[tuple[int, ...] | None, tuple[int, ...], int]] = []
        self.accepting: list[int] = []
        """Per state: the distance when the term ends here, or -1 if over the limit."""
        self.dead: list[bool] = []
        """Per state: no continuation can come back within the limit."""
        self.transitions: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()
        self.start = self._state(start)

    def _state(self, key: tuple[tuple[int, ...] | None, tuple[int, ...], int]) -> int:
        with self._lock:  # automata are shared between searches (see automaton())
            sid = self._ids.get(key)
            if sid is None:
                row = key[1]
                self.accepting.append(row[-1] if row[-1] < self.limit else -1)
                self.dead.append(min(row) >= self.limit)
                self.states.append(key)
                sid = self._ids[key] = len(self.states) - 1
            return sid

    def step(self, sid: int, mask: int) -> int:
        """The state after reading a character (given as its query-position mask)."""
        prev, row, prev_mask = self.states[sid]
        limit = self.limit
        new = [row[0] + 1 if row[0] < limit else limit]
        left = new[0]
        transposable = prev is not None and prev_mask
        for j in range(1, len(row)):
            value = row[j - 1] if (mask >> (j - 1)) & 1 else row[j - 1] + 1
            if row[j] + 1 < value:
                value = row[j] + 1
            if left + 1 < value:
                value = left + 1
            if transposable and j > 1 and (prev_mask >> (j - 1)) & 1 and (mask >> (j - 2)) & 1:
                assert prev is not None
                if prev[j - 2] + 1 < value:
                    value = prev[j - 2] + 1
            if value > limit:
                value = limit
            new.append(value)
            left = value
        nxt = self._state((row, tuple(new), mask))
        self.transitions[(sid, mask)] = nxt
        return nxt

    def walk(self, text: str, previous: str, path: list[int]) -> tuple[int, int]:
        """Run ``text`` through the automaton, reusing the states of the characters it
        shares with ``previous`` (``path[i]``: the state after ``i`` characters of
        ``previous``; updated in place for ``text``). Returns the final state and the
        position of the character that led to a dead state (-1 if none)."""
        common = 0
        limit = min(len(text), len(previous), len(path) - 1)
        while common < limit and text[common] == previous[common]:
            common += 1
        del path[common + 1 :]
        sid = path[common]
        masks = self.masks
        transitions = self.transitions
        dead = self.dead
        for k in range(common, len(text)):
            mask = masks.get(text[k], 0)
            nxt = transitions.get((sid, mask))
            sid = self.step(sid, mask) if nxt is None else nxt
            path.append(sid)
            if dead[sid]:
                return sid, k
        return sid, -1


_AUTOMATA: OrderedDict[tuple[str, int], _Automaton] = OrderedDict()
_AUTOMATA_LOCK = threading.Lock()
AUTOMATON_CACHE = 256
"""Automata kept for reuse (the most recently used, by query term and distance)."""


def automaton(query: str, max_edits: int) -> _Automaton:
    """The automaton of ``query`` (shared: a query seen recently reuses the states its
    earlier searches built)."""
    key = (query, max_edits)
    with _AUTOMATA_LOCK:
        found = _AUTOMATA.get(key)
        if found is not None:
            _AUTOMATA.move_to_end(key)
            return found
    built = _Automaton(query, max_edits)
    with _AUTOMATA_LOCK:
        _AUTOMATA[key] = built
        while len(_AUTOMATA) > AUTOMATON_CACHE:
            _AUTOMATA.popitem(last=False)
    return built


def clear_automata() -> None:
    """Forget every cached automaton (benchmarks measure the cold case with it)."""
    with _AUTOMATA_LOCK:
        _AUTOMATA.clear()


def fuzzy_expand(
    terms: TermDictionary,
    query: str,
    max_edits: int,
    prefix_length: int,
    automaton: _Automaton | None = None,
) -> dict[str, int]:
    """Every term of the dictionary within ``max_edits`` of ``query`` (term → distance);
    ``automaton`` may be shared between the segments of one search."""
    found: dict[str, int] = {}
    head = query[:prefix_length]
    head_bytes = term_bytes(head)
    if automaton is None:
        automaton = _Automaton(query[prefix_length:], max_edits)
    walk = automaton.walk
    accepting = automaton.accepting
    cursor = terms.enum()
    term = cursor.seek_ceil(head_bytes)
    path = [automaton.start]  # path[i]: the state after i characters of the current term
    previous = ""
    skip = len(head)
    while term is not None and term.startswith(head_bytes):
        text = term.decode("utf-8", "surrogatepass")[skip:]
        sid, dead_at = walk(text, previous, path)
        previous = text
        if dead_at >= 0:
            term = cursor.seek_ceil(term_bytes(head + text[: dead_at + 1]) + b"\xff")
            continue
        distance = accepting[sid]
        if distance >= 0:
            found[head + text] = distance
        term = cursor.next()
    return found


def _smallest_live_label(automaton: _Automaton, sid: int, after: str) -> str | None:
    """The smallest character greater than ``after`` that leads from state ``sid`` to a state
    that is not dead (characters absent from the query all behave alike, so the smallest of
    them stands for all)."""
    masks = automaton.masks
    other = chr(ord(after) + 1) if ord(after) < 0x10FFFF else None
    while other is not None and other in masks:
        other = chr(ord(other) + 1) if ord(other) < 0x10FFFF else None
    candidates = [c for c in automaton.chars if c > after]
    if other is not None:
        candidates.append(other)
        candidates.sort()
    transitions = automaton.transitions
    for char in candidates:
        mask = masks.get(char, 0)
        nxt = transitions.get((sid, mask))
        if nxt is None:
            nxt = automaton.step(sid, mask)
        if not automaton.dead[nxt]:
            return char
    return None


def fuzzy_expand_list(
    terms: list[str], query: str, max_edits: int, prefix_length: int, automaton: _Automaton
) -> dict[str, int]:
    """:func:`fuzzy_expand` over a field's sorted terms held in memory (strings in code point
    order, which is UTF-8 byte order).

    When a term runs into a dead state, the walk does not merely skip the terms sharing the
    dead prefix: it computes the smallest string after it that the automaton can still
    accept a continuation of (replace the last character it can by the smallest larger one
    leading to a live state, Lucene's ``AutomatonTermsEnum``) and seeks straight there with
    one :func:`bisect.bisect_left`, jumping over every dead subtree in between."""
    found: dict[str, int] = {}
    head = query[:prefix_length]
    skip = len(head)
    walk = automaton.walk
    accepting = automaton.accepting
    n = len(terms)
    i = bisect_left(terms, head)
    path = [automaton.start]
    previous = ""
    while i < n:
        term = terms[i]
        if not term.startswith(head):
            break
        text = term[skip:] if skip else term
        sid, dead_at = walk(text, previous, path)
        previous = text
        if dead_at >= 0:
            target = None
            for pos in range(dead_at, -1, -1):
                label = _smallest_live_label(automaton, path[pos], text[pos])
                if label is not None:
                    target = head + text[:pos] + label
                    break
            if target is None:
                break  # no string after this one can match
            i = bisect_left(terms, target, i + 1)
            continue
        distance = accepting[sid]
        if distance >= 0:
            found[term] = distance
        i += 1
    return found


def _boost(term: str, query: str, distance: int) -> float:
    shortest = min(len(term), len(query))
    return max(0.0, 1.0 - distance / shortest) if shortest else 0.0


@dataclass(frozen=True)
class FuzzyQuery(Query):
    """Documents with a term close to ``term`` (see the module docstring)."""

    field: str
    term: str
    max_edits: int = MAX_EDITS
    prefix_length: int = 0
    max_expansions: int = 50

    def __post_init__(self) -> None:
        if not 0 <= self.max_edits <= MAX_EDITS:
            raise QueryError(f"fuzzy edit distance must be 0, 1 or 2, not {self.max_edits}")
        if self.prefix_length < 0 or self.max_expansions < 1:
            raise QueryError("fuzzy prefix length must be >= 0 and expansions >= 1")

    def expand(self, reader: IndexReader) -> list[tuple[str, int]]:
        """The terms this query rewrites to, with their distances, best first."""
        found: dict[str, int] = {}
        shared = automaton(self.term[self.prefix_length :], self.max_edits)
        for leaf in reader.leaves:
            field = leaf.segment.field(self.field)
            if field is None:
                continue
            listed = field.term_list()
            if listed is not None:
                near = fuzzy_expand_list(
                    listed, self.term, self.max_edits, self.prefix_length, shared
                )
            else:
                near = fuzzy_expand(
                    field.terms, self.term, self.max_edits, self.prefix_length, shared
                )
            for term, distance in near.items():
                if term in found:
                    continue
                if leaf.live is not None:
                    docs = field.postings(field.lookup(term_bytes(term))).read().docs
                    if not leaf.live[docs].any():
                        continue  # only in deleted documents: not a term of the index
                found[term] = distance
        ranked = sorted(found.items(), key=lambda pair: (pair[1], pair[0]))
        return ranked[: self.max_expansions]

    def rewrite(self, reader: IndexReader) -> Query:
        ranked = self.expand(reader)
        if not ranked:
            return MatchNoDocsQuery()
        return ScoredTermsQuery(self.field, tuple((t, _boost(t, self.term, d)) for t, d in ranked))

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        raise QueryError("a fuzzy query must be rewritten before it is searched")

    def to_string(self, default_field: str = "") -> str:
        return f"{field_prefix(self.field, default_field)}{escape(self.term)}~{self.max_edits}"

    def term_matchers(self) -> dict[str, list[Callable[[str], bool]]]:
        def near(term: str) -> bool:
            return (
                term.startswith(self.term[: self.prefix_length])
                and edit_distance(term, self.term) <= self.max_edits
            )

        return {self.field: [near]}


@dataclass(frozen=True)
class ScoredTermsQuery(Query):
    """Documents with any of the terms, each scored with its boost and a blended frequency
    (what a fuzzy query rewrites to)."""

    field: str
    weighted: tuple[tuple[str, float], ...]

    def create_weight(self, searcher: IndexSearcher, scoring: bool, boost: float) -> Weight:
        return _ScoredTermsWeight(self, searcher, scoring, boost)

    def to_string(self, default_field: str = "") -> str:
        prefix = field_prefix(self.field, default_field)
        return " ".join(f"{prefix}{escape(t)}^{b:g}" for t, b in self.weighted)

    def terms(self) -> dict[str, set[str]]:
        return {self.field: {t for t, _ in self.weighted}}


class _ScoredTermsWeight(Weight):
    def __init__(
        self, query: ScoredTermsQuery, searcher: IndexSearcher, scoring: bool, boost: float
    ) -> None:
        super().__init__(query, scoring)
        self._field = query.field
        self._terms = [(term_bytes(t), b) for t, b in query.weighted]
        self._sims: list[BM25 | None] = [None] * len(self._terms)
        if scoring:
            doc_count, total = searcher.field_stats(self._field)
            blended = max(searcher.doc_freq(self._field, t) for t, _ in self._terms)
            self._sims = [
                BM25(idf(blended, doc_count), doc_count, total, boost * b) for _, b in self._terms
            ]

    def scorer(self, leaf: LeafReader) -> Scorer | None:
        field = leaf.segment.field(self._field)
        if field is None:
            return None
        scorers = []
        for (term, _), sim in zip(self._terms, self._sims, strict=True):
            ordinal = field.lookup(term)
            if ordinal >= 0:
                scorers.append(TermScorer(field, field.postings(ordinal), sim))
        return _SumScorer(scorers, self.scoring) if scorers else None


class _SumScorer(Scorer):
    """Union of term scorers, scores summed."""

    def __init__(self, scorers: list[TermScorer], scoring: bool) -> None:
        self._scorers = scorers
        self._scoring = scoring

    def cost(self) -> int:
        return sum(s.cost() for s in self._scorers)

    def evaluate(self, candidates: I64 | None = None) -> Matches:
        parts = [s.evaluate(candidates) for s in self._scorers]
        docs, inverse = np.unique(np.concatenate([p.docs for p in parts]), return_inverse=True)
        if not self._scoring:
            return Matches(docs.astype(np.int64), None)
        weights = np.concatenate([p.scores for p in parts if p.scores is not None])
        scores = np.bincount(inverse, weights, minlength=len(docs)).astype(np.float64)
        return Matches(docs.astype(np.int64), scores)
