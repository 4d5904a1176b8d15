"""A brute-force search engine over a list of documents: the reference the index must equal.

Written from the documented semantics only (module docstrings of the query classes and of
``chainindex.textindex.scoring``), with plain Python loops over every document: no postings,
no segments, no numpy. Text values are lowercase ASCII words joined by single spaces (see
``strategies``), so splitting on spaces is exactly the standard analyzer on them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable

from chainindex.textindex.buffer import POSITION_GAP
from chainindex.textindex.document import Document
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery
from chainindex.textindex.query.matchall import (
    BoostQuery,
    ConstantScoreQuery,
    ExistsQuery,
    MatchAllDocsQuery,
    MatchNoDocsQuery,
)
from chainindex.textindex.query.multiterm import TermInSetQuery
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.regexp import RegexpQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.query.termrange import TermRangeQuery
from chainindex.textindex.query.wildcard import WildcardQuery

K1, B = 1.2, 0.75
Scores = dict[int, float]


def field_tokens(doc: Document) -> dict[str, list[tuple[str, int]]]:
    """field -> [(term, position)] of one document, by the documented position rules."""
    out: dict[str, list[tuple[str, int]]] = {}
    next_pos: dict[str, int] = {}
    values = [(f, [v.lower()]) for f, v in doc.keywords] + [(f, v.split()) for f, v in doc.texts]
    for field, terms in values:
        if not terms:
            continue
        pos = next_pos.get(field, 0)
        for term in terms:
            out.setdefault(field, []).append((term, pos))
            pos += 1
        next_pos[field] = pos + POSITION_GAP
    return out


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook recurrence."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    out = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


class Reference:
    """Brute-force evaluation over ``docs`` where ``live[i]`` says doc ``i`` is not deleted."""

    def __init__(self, docs: list[Document], live: list[bool]) -> None:
        self.docs = docs
        self.live = live
        self.tokens = [field_tokens(d) for d in docs]
        self.ids = [i for i in range(len(docs)) if live[i]]

    # -- statistics over the live documents ------------------------------------------

    def _lengths(self, field: str) -> list[int]:
        return [len(self.tokens[i].get(field, [])) for i in self.ids]

    def field_stats(self, field: str) -> tuple[int, int]:
        lengths = self._lengths(field)
        return sum(1 for n in lengths if n), sum(lengths)

    def doc_freq(self, field: str, term: str) -> int:
        return sum(1 for i in self.ids if any(t == term for t, _ in self.tokens[i].get(field, [])))

    def bm25(self, idf: float, tf: float, dl: int, field: str, boost: float) -> float:
        n_docs, total = self.field_stats(field)
        avgdl = total / n_docs if n_docs else 1.0
        return boost * idf * tf / (tf + K1 * (1 - B + B * dl / avgdl))

    def idf(self, field: str, term: str) -> float:
        n_docs, _ = self.field_stats(field)
        n = self.doc_freq(field, term)
        return math.log(1 + (n_docs - n + 0.5) / (n + 0.5))

    def live_terms(self, field: str) -> set[str]:
        return {t for i in self.ids for t, _ in self.tokens[i].get(field, [])}

    # -- evaluation -------------------------------------------------------------------

    def _term_set(self, field: str, accept: Callable[[str], bool], boost: float) -> Scores:
        return {
            i: boost for i in self.ids if any(accept(t) for t, _ in self.tokens[i].get(field, []))
        }

    def search(self, query: Query, boost: float = 1.0) -> Scores:
        """doc -> score for every live matching document."""
        q = query
        if isinstance(q, TermQuery):
            idf = self.idf(q.field, q.term)
            out = {}
            for i in self.ids:
                toks = self.tokens[i].get(q.field, [])
                tf = sum(1 for t, _ in toks if t == q.term)
                if tf:
                    out[i] = self.bm25(idf, tf, len(toks), q.field, boost)
            return out
        if isinstance(q, BooleanQuery):
            return self._boolean(q, boost)
        if isinstance(q, PrefixQuery):
            return self._term_set(q.field, lambda t: t.startswith(q.prefix), boost)
        if isinstance(q, WildcardQuery):
            rx = wildcard_regex(q.pattern)
            return self._term_set(q.field, lambda t: rx.fullmatch(t) is not None, boost)
        if isinstance(q, RegexpQuery):
            rx = re.compile(q.pattern, re.DOTALL)
            return self._term_set(q.field, lambda t: rx.fullmatch(t) is not None, boost)
        if isinstance(q, TermRangeQuery):

            def in_range(t: str) -> bool:
                if q.lower is not None and (t < q.lower or (t == q.lower and not q.include_lower)):
                    return False
                return not (
                    q.upper is not None and (t > q.upper or (t == q.upper and not q.include_upper))
                )

            return self._term_set(q.field, in_range, boost)
        if isinstance(q, TermInSetQuery):
            return self._term_set(q.field, q.values.__contains__, boost)
        if isinstance(q, PointRangeQuery):
            return {
                i: boost
                for i in self.ids
                if any(
                    f == q.field
                    and (q.lower is None or v >= q.lower)
                    and (q.upper is None or v <= q.upper)
                    for f, v in self.docs[i].points
                )
            }
        if isinstance(q, FuzzyQuery):
            return self._fuzzy(q, boost)
        if isinstance(q, PhraseQuery):
            return self._phrase(q, boost)
        if isinstance(q, MatchAllDocsQuery):
            return dict.fromkeys(self.ids, boost)
        if isinstance(q, MatchNoDocsQuery):
            return {}
        if isinstance(q, ExistsQuery):
            return {
                i: boost
                for i in self.ids
                if self.tokens[i].get(q.field) or any(f == q.field for f, _ in self.docs[i].points)
            }
        if isinstance(q, ConstantScoreQuery):
            return dict.fromkeys(self.search(q.query), q.score * boost)
        if isinstance(q, BoostQuery):
            return self.search(q.query, boost * q.boost)
        raise TypeError(f"no reference for {type(q).__name__}")

    def _boolean(self, q: BooleanQuery, boost: float) -> Scores:
        required = [c for c in q.clauses if c.occur in (Occur.MUST, Occur.FILTER)]
        should = [c for c in q.clauses if c.occur is Occur.SHOULD]
        results = [(c.occur, self.search(c.query, boost)) for c in q.clauses]
        needed = q.minimum_should_match if required else max(1, q.minimum_should_match)
        if not required and not should:
            return {}
        out = {}
        for i in self.ids:
            score = 0.0
            ok = True
            matched_should = 0
            for occur, scores in results:
                hit = i in scores
                if (occur in (Occur.MUST, Occur.FILTER) and not hit) or (
                    occur is Occur.MUST_NOT and hit
                ):
                    ok = False
                elif occur is Occur.SHOULD and hit:
                    matched_should += 1
                if hit and occur in (Occur.MUST, Occur.SHOULD):
                    score += scores[i]
            if ok and matched_should >= needed:
                out[i] = score
        return out

    def _fuzzy(self, q: FuzzyQuery, boost: float) -> Scores:
        head = q.term[: q.prefix_length]
        found = {}
        for term in self.live_terms(q.field):
            if not term.startswith(head):  # the query's first prefix_length characters
                continue
            d = osa_distance(term, q.term)
            if d <= q.max_edits:
                found[term] = d
        chosen = sorted(found.items(), key=lambda p: (p[1], p[0]))[: q.max_expansions]
        if not chosen:
            return {}
        n_docs, _ = self.field_stats(q.field)
        blended = max(self.doc_freq(q.field, t) for t, _ in chosen)
        idf = math.log(1 + (n_docs - blended + 0.5) / (blended + 0.5))
        out: Scores = {}
        for term, d in chosen:
            shortest = min(len(term), len(q.term))
            term_boost = max(0.0, 1 - d / shortest) if shortest else 0.0
            for i in self.ids:
                toks = self.tokens[i].get(q.field, [])
                tf = sum(1 for t, _ in toks if t == term)
                if tf:
                    s = self.bm25(idf, tf, len(toks), q.field, boost * term_boost)
                    out[i] = out.get(i, 0.0) + s
        return out

    def _phrase(self, q: PhraseQuery, boost: float) -> Scores:
        words = q.words
        if not words:
            return {}
        if len(words) == 1:
            return self.search(TermQuery(q.field, words[0]), boost)
        idf = sum(self.idf(q.field, w) for w in words)
        out = {}
        for i in self.ids:
            toks = self.tokens[i].get(q.field, [])
            lists = [[p for t, p in toks if t == w] for w in words]
            if not all(lists):
                continue
            if q.slop == 0:
                freq = float(
                    sum(1 for p in lists[0] if all(p + k in lists[k] for k in range(1, len(words))))
                )
            else:
                best = None
                for choice in itertools.product(*lists):
                    if len(set(choice)) < len(choice):
                        continue
                    offsets = [p - k for k, p in enumerate(choice)]
                    span = max(offsets) - min(offsets)
                    if span <= q.slop and (best is None or span < best):
                        best = span
                freq = 0.0 if best is None else 1.0 / (1 + best)
            if freq:
                out[i] = self.bm25(idf, freq, len(toks), q.field, boost)
        return out
