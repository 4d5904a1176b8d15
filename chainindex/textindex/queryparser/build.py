"""Pieces the query parser builds with: field kinds, numbers, and combining clauses."""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanClause, BooleanQuery, Occur
from chainindex.textindex.query.matchall import MatchAllDocsQuery

__all__ = ["Clauses", "FieldKind", "combine", "either", "has_wildcard", "parse_int", "unescape"]

Clauses = list[tuple[Occur, Query]]
"""Clauses of a boolean query under construction."""


@dataclass(frozen=True, slots=True)
class FieldKind:
    """What the index holds in a field, which decides how its terms are read."""

    terms: bool = True
    """The field has terms."""
    tokenized: bool = True
    """Its terms come from analyzed text (else from keywords)."""
    points: bool = False
    """The field has integer points."""


def parse_int(text: str) -> int:
    """An integer written in decimal or ``0x`` hexadecimal (``ValueError`` otherwise)."""
    cleaned = text.strip().lower()
    if cleaned.startswith(("0x", "-0x")):
        return int(cleaned, 16)
    if not cleaned.lstrip("-").isdigit():
        raise ValueError(text)
    return int(cleaned, 10)


def has_wildcard(raw: str) -> bool:
    escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            return True
    return False


def unescape(raw: str) -> str:
    out = []
    chars = iter(raw)
    for char in chars:
        out.append(next(chars, "") if char == "\\" else char)
    return "".join(out)


def either(*queries: Query) -> Query:
    """Documents matching any of the queries."""
    return BooleanQuery(tuple(BooleanClause(Occur.SHOULD, q) for q in queries))


def combine(clauses: Clauses) -> Query:
    """One query from clauses: a lone required or optional clause is itself; prohibited
    clauses alone are taken against every document."""
    if len(clauses) == 1 and clauses[0][0] in (Occur.MUST, Occur.SHOULD):
        return clauses[0][1]
    if all(occur is Occur.MUST_NOT for occur, _ in clauses):
        clauses = [(Occur.MUST, MatchAllDocsQuery()), *clauses]
    return BooleanQuery(tuple(BooleanClause(o, q) for o, q in clauses))
