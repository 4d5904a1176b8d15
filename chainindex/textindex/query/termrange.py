"""TermRangeQuery: terms between two bounds in term order (``field:[a TO b]``, ``{a TO b}``).

Term order is UTF-8 byte order, which is Unicode code point order: ``"0xab" < "0xb"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.query.multiterm import MultiTermQuery
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.query.term import term_bytes

__all__ = ["TermRangeQuery"]


@dataclass(frozen=True)
class TermRangeQuery(MultiTermQuery):
    """Documents with a term in the range (``None`` = unbounded)."""

    field: str
    lower: str | None
    upper: str | None
    include_lower: bool = True
    include_upper: bool = True

    def ordinals(self, terms: TermDictionary) -> Iterable[int]:
        low = b"" if self.lower is None else term_bytes(self.lower)
        high = None if self.upper is None else term_bytes(self.upper)
        for term, ordinal in terms.iterate(low):
            if not self.include_lower and self.lower is not None and term == low:
                continue
            if high is not None and (term > high or (term == high and not self.include_upper)):
                break
            yield ordinal

    def accepts(self, term: str) -> bool:
        if self.lower is not None and (
            term < self.lower or (term == self.lower and not self.include_lower)
        ):
            return False
        return not (
            self.upper is not None
            and (term > self.upper or (term == self.upper and not self.include_upper))
        )

    def to_string(self, default_field: str = "") -> str:
        low = "*" if self.lower is None else escape(self.lower)
        high = "*" if self.upper is None else escape(self.upper)
        opening = "[" if self.include_lower else "{"
        closing = "]" if self.include_upper else "}"
        return f"{field_prefix(self.field, default_field)}{opening}{low} TO {high}{closing}"
