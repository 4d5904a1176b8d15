"""WildcardQuery: ``*`` (any run of characters) and ``?`` (one character), ``\\`` escapes.

The pattern's literal prefix (up to the first wildcard) seeks the terms dictionary, so only
terms with that prefix are tested; a pattern starting with a wildcard tests every term of
the field, as in Lucene.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.query.multiterm import MultiTermQuery, pattern_ordinals
from chainindex.textindex.query.syntax import SPECIAL, field_prefix

__all__ = ["WildcardQuery", "wildcard_parts"]


def wildcard_parts(pattern: str) -> list[str]:
    """The pattern as pieces: ``"*"``, ``"?"`` or one literal character (escapes resolved)."""
    parts = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            parts.append(char)
        else:
            parts.append("\\" + char)
    if escaped:
        parts.append("\\\\")
    return parts


@dataclass(frozen=True)
class WildcardQuery(MultiTermQuery):
    """Documents with a term matching ``pattern`` (``*``, ``?``, ``\\`` escapes)."""

    field: str
    pattern: str
    _regex: re.Pattern[str] = dataclasses.field(init=False, repr=False, compare=False, hash=False)
    _prefix: str = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        parts = wildcard_parts(self.pattern)
        prefix = []
        for part in parts:
            if part in ("*", "?"):
                break
            prefix.append(part[1])
        regex = "".join(".*" if p == "*" else "." if p == "?" else re.escape(p[1]) for p in parts)
        object.__setattr__(self, "_regex", re.compile(regex, re.DOTALL))
        object.__setattr__(self, "_prefix", "".join(prefix))

    def ordinals(self, terms: TermDictionary) -> Iterable[int]:
        return pattern_ordinals(terms, self._prefix, self._regex)

    def accepts(self, term: str) -> bool:
        return self._regex.fullmatch(term) is not None

    def to_string(self, default_field: str = "") -> str:
        text = "".join(
            p if p in ("*", "?") else ("\\" + p[1] if p[1] in SPECIAL else p[1])
            for p in wildcard_parts(self.pattern)
        )
        return field_prefix(self.field, default_field) + text
