"""PrefixQuery: terms that start with a prefix (``field:pre*``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.query.multiterm import MultiTermQuery
from chainindex.textindex.query.syntax import escape, field_prefix
from chainindex.textindex.query.term import term_bytes

__all__ = ["PrefixQuery"]


@dataclass(frozen=True)
class PrefixQuery(MultiTermQuery):
    """Documents with a term starting with ``prefix``."""

    field: str
    prefix: str

    def ordinals(self, terms: TermDictionary) -> Iterable[int]:
        start = term_bytes(self.prefix)
        for term, ordinal in terms.iterate(start):
            if not term.startswith(start):
                break
            yield ordinal

    def accepts(self, term: str) -> bool:
        return term.startswith(self.prefix)

    def to_string(self, default_field: str = "") -> str:
        return field_prefix(self.field, default_field) + escape(self.prefix) + "*"
