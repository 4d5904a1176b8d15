"""RegexpQuery: terms matching a regular expression as a whole (``field:/vit.*k/``).

The syntax is Python's :mod:`re`, matched against the whole term (Lucene's RegExp syntax
shares its common core: ``.``, ``*``, ``+``, ``?``, ``{n,m}``, ``[...]``, ``|``, groups;
Lucene's ``~``, ``&``, ``<n-m>``, ``@``, ``#`` operators are not supported). A literal
prefix of the expression seeks the terms dictionary. Expressions that could backtrack
exponentially (a repeated group that itself repeats) are refused with a clear error, since
the expression comes from the outside.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chainindex.textindex.codec.termdict import TermDictionary
from chainindex.textindex.errors import QueryError
from chainindex.textindex.query.multiterm import MultiTermQuery, pattern_ordinals
from chainindex.textindex.query.syntax import field_prefix

__all__ = ["RegexpQuery"]

_sre: Any = getattr(re, "_parser", None)
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_META = set(".^$*+?{}[]\\|()")
_QUANTIFIERS = set("*+?{")


def _nested_repeat(items: Any, inside: bool) -> bool:
    """True when a repetition contains another repetition (exponential backtracking)."""
    for op, arg in items:
        name = str(op)
        if name in _REPEATS:
            if inside or _nested_repeat(arg[2], True):
                return True
        elif name == "SUBPATTERN":
            if _nested_repeat(arg[-1], inside):
                return True
        elif name == "BRANCH" and any(_nested_repeat(branch, inside) for branch in arg[1]):
            return True
    return False


def _literal_prefix(pattern: str) -> str:
    """Characters every match starts with (empty when unsure, e.g. with alternatives)."""
    if "|" in pattern:
        return ""
    prefix: list[str] = []
    for char in pattern:
        if char in _META:
            if char in _QUANTIFIERS and prefix:
                prefix.pop()
            break
        prefix.append(char)
    return "".join(prefix)


@dataclass(frozen=True)
class RegexpQuery(MultiTermQuery):
    """Documents with a term fully matching ``pattern``."""

    field: str
    pattern: str
    _regex: re.Pattern[str] = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            regex = re.compile(self.pattern, re.DOTALL)
        except re.error as err:
            where = "" if err.pos is None else f" (character {err.pos} of the expression)"
            raise QueryError(f"bad regular expression /{self.pattern}/: {err.msg}{where}") from None
        if _sre is not None and _nested_repeat(_sre.parse(self.pattern), False):
            raise QueryError(
                f"regular expression /{self.pattern}/ nests repetitions (it could take "
                "exponential time): simplify it"
            )
        object.__setattr__(self, "_regex", regex)

    def ordinals(self, terms: TermDictionary) -> Iterable[int]:
        return pattern_ordinals(terms, _literal_prefix(self.pattern), self._regex)

    def accepts(self, term: str) -> bool:
        return self._regex.fullmatch(term) is not None

    def to_string(self, default_field: str = "") -> str:
        return (
            field_prefix(self.field, default_field) + "/" + self.pattern.replace("/", "\\/") + "/"
        )
