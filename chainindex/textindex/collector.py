"""Top-k collection: by relevance or by doc-value fields, after a cursor, merged over segments.

Every segment yields its own best ``k`` (Lucene's ``TopFieldCollector`` per leaf, then
``TopDocs.merge`` reduces the per-segment results). The order is a lexicographic key:

- by relevance: score descending, then the sort fields (ties broken by, say, block and log
  index), then the index-wide document number;
- by fields: the sort fields (each ascending or descending), then the document number.

``after`` is the key of the last hit of the previous page without the document number
(document numbers change when segments merge); a page holds the hits strictly after it. Keys
that tie on every sort value are therefore not split across pages: give sort fields that
identify a document (block and log index do for logs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from chainindex.textindex.arrays import F64, I64, Mask, Values
from chainindex.textindex.errors import QueryError
from chainindex.textindex.query.base import Matches
from chainindex.textindex.reader import LeafReader

__all__ = [
    "RELEVANCE",
    "LeafTop",
    "ScoreDoc",
    "Sort",
    "SortField",
    "TopDocs",
    "collect_leaf",
    "merge",
]


@dataclass(frozen=True, slots=True)
class SortField:
    """A doc-values column to sort on."""

    field: str
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Sort:
    """The order of hits: relevance first (``by_score``), then the fields."""

    fields: tuple[SortField, ...] = ()
    by_score: bool = True

    def key_size(self) -> int:
        """Number of values in a cursor for this sort."""
        return len(self.fields) + (1 if self.by_score else 0)


RELEVANCE = Sort()
"""Order by score alone (then document number)."""


@dataclass(frozen=True, slots=True)
class ScoreDoc:
    """One hit."""

    score: float
    """Its score (0 when the search does not score)."""
    leaf: int
    """The segment's position in the reader."""
    doc: int
    """Document number within the segment."""
    global_doc: int
    """Document number within the whole snapshot."""
    sort_values: tuple[float | int, ...]
    """The hit's sort key without the document number: a cursor for the next page."""


@dataclass(frozen=True, slots=True)
class TopDocs:
    """The result of a search."""

    total: int
    """How many live documents match (whatever the page)."""
    hits: list[ScoreDoc]
    """The best hits in order."""


@dataclass(frozen=True, slots=True)
class LeafTop:
    """A segment's best hits: the key columns (in ascending-is-better form) and documents."""

    columns: list[Values]
    docs: I64
    scores: F64
    leaf: int
    doc_base: int


def _columns(leaf: LeafReader, matches: Matches, sort: Sort) -> tuple[list[Values], F64]:
    scores = (matches.scores if matches.scores is not None else np.zeros(len(matches.docs))).astype(
        np.float64
    )
    columns: list[Values] = []
    if sort.by_score:
        columns.append(-scores)
    for field in sort.fields:
        values = leaf.segment.doc_values(field.field)
        column = (
            np.zeros(len(matches.docs), dtype=np.int64) if values is None else values[matches.docs]
        )
        columns.append(-column if field.reverse else column)
    return columns, scores


def _oriented(sort: Sort, after: Sequence[float | int]) -> list[float | int]:
    if len(after) != sort.key_size():
        raise QueryError(f"cursor has {len(after)} values, this sort needs {sort.key_size()}")
    values = list(after)
    oriented: list[float | int] = []
    i = 0
    if sort.by_score:
        oriented.append(-float(values[0]))
        i = 1
    for field, value in zip(sort.fields, values[i:], strict=True):
        oriented.append(-int(value) if field.reverse else int(value))
    return oriented


def _after_mask(columns: list[npt.NDArray[Any]], cursor: list[float | int]) -> Mask:
    n = len(columns[0]) if columns else 0
    greater = np.zeros(n, dtype=bool)
    equal = np.ones(n, dtype=bool)
    for column, value in zip(columns, cursor, strict=True):
        greater |= equal & (column > value)
        equal &= column == value
    return greater


def _top(columns: list[Values], k: int) -> I64:
    """Indexes of the ``k`` smallest keys, in order (lexicographic over ``columns``)."""
    n = len(columns[-1])
    if n > 4 * k and len(columns) > 1:
        first = columns[0]
        threshold = np.partition(first, k - 1)[k - 1]
        keep = np.flatnonzero(first <= threshold)
        order = np.lexsort([c[keep] for c in columns[::-1]])
        return keep[order[:k]]
    return np.lexsort(columns[::-1])[:k].astype(np.int64)


def collect_leaf(
    leaf: LeafReader, matches: Matches, sort: Sort, k: int, after: Sequence[float | int] | None
) -> LeafTop:
    """The segment's best ``k`` hits after the cursor."""
    columns, scores = _columns(leaf, matches, sort)
    docs = matches.docs
    if after is not None:
        keep = _after_mask(columns, _oriented(sort, after))
        columns = [c[keep] for c in columns]
        docs, scores = docs[keep], scores[keep]
    columns.append(docs + leaf.doc_base)
    chosen = _top(columns, k) if k > 0 else np.zeros(0, dtype=np.int64)
    return LeafTop(
        [c[chosen] for c in columns], docs[chosen], scores[chosen], leaf.ord, leaf.doc_base
    )


def merge(tops: list[LeafTop], sort: Sort, k: int) -> list[ScoreDoc]:
    """The best ``k`` hits over all segments."""
    tops = [t for t in tops if len(t.docs)]
    if not tops or k <= 0:
        return []
    if len(tops) == 1:  # already in order
        top = tops[0]
        columns, docs, scores = top.columns, top.docs, top.scores
        leaves = [top.leaf] * len(docs)
        order = list(range(min(k, len(docs))))
    else:
        width = len(tops[0].columns)
        columns = [np.concatenate([t.columns[i] for t in tops]) for i in range(width)]
        docs = np.concatenate([t.docs for t in tops])
        scores = np.concatenate([t.scores for t in tops])
        leaves = np.concatenate([np.full(len(t.docs), t.leaf) for t in tops]).tolist()
        order = np.lexsort(columns[::-1])[:k].tolist()
    score_list = scores.tolist()
    doc_list = docs.tolist()
    value_lists = [c.tolist() for c in columns]
    signs = [-1 if f.reverse else 1 for f in sort.fields]
    first = 1 if sort.by_score else 0
    hits = []
    for i in order:
        values: list[float | int] = [score_list[i]] if sort.by_score else []
        values.extend(
            sign * int(column[i]) for sign, column in zip(signs, value_lists[first:-1], strict=True)
        )
        hits.append(
            ScoreDoc(score_list[i], leaves[i], doc_list[i], int(value_lists[-1][i]), tuple(values))
        )
    return hits
