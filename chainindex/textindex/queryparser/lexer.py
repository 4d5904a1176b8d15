"""Tokens of the query syntax (Lucene's classic QueryParser lexer).

======================  ==============================================================
token                   text
======================  ==============================================================
``TERM``                a bare term: any characters but whitespace and ``( ) [ ] { } :
                        ^ ~ "``, with ``\\`` escaping any character; ``+ - !`` may
                        appear inside a term but not first; ``*`` and ``?`` make it a
                        wildcard unless escaped
``QUOTED``              ``"..."`` (``\\"`` and ``\\\\`` escapes)
``REGEXP``              ``/.../`` (``\\/`` escapes a slash)
``AND OR NOT TO``       the words in capitals (and ``&&``, ``||``); escape to search them
``PLUS MINUS BANG``     ``+ - !`` before a clause
``LPAREN RPAREN``       ``( )``
``LBRACKET LBRACE``     ``[ {`` opening a range; ``RBRACKET RBRACE``: ``] }``
``COLON``               ``:`` after a field name
``CARET TILDE``         ``^`` (boost) and ``~`` (fuzzy or slop), each with the number
                        written right after it, if any
======================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from chainindex.textindex.errors import QueryParseError

__all__ = ["QueryToken", "tokenize"]

_SINGLE = {
    "(": "LPAREN",
    ")": "RPAREN",
    "[": "LBRACKET",
    "]": "RBRACKET",
    "{": "LBRACE",
    "}": "RBRACE",
    ":": "COLON",
}
_TERM_END = set(' \t\r\n()[]{}:^~"')
_RANGE_END = set(' \t\r\n]}"')
_KEYWORDS = {"AND": "AND", "OR": "OR", "NOT": "NOT", "TO": "TO"}


@dataclass(frozen=True, slots=True)
class QueryToken:
    """One token of a query string (the classic QueryParser's ``Token``; the analysis
    :class:`~chainindex.textindex.analysis.Token` is a term of a field value)."""

    kind: str
    """Token kind (see the module docstring)."""
    text: str
    """The value: a term with escapes resolved, a phrase's content, a number after ^ or ~."""
    position: int
    """Offset of the token's first character in the query."""
    raw: str = ""
    """For terms: the text as written (escapes kept), to read wildcards from."""
    wildcard: bool = False
    """For terms: an unescaped ``*`` or ``?`` appears."""
    spaced: bool = False
    """Whitespace came right before the token."""


def _delimited(query: str, start: int, close: str, what: str) -> tuple[str, int]:
    out = []
    i = start + 1
    while i < len(query):
        char = query[i]
        if char == "\\" and i + 1 < len(query):
            nxt = query[i + 1]
            out.append(nxt if close == '"' or nxt == "/" else char + nxt)
            i += 2
            continue
        if char == close:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise QueryParseError(f"unterminated {what}", query, start)


def _number(query: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(query) and (query[j].isdigit() or query[j] == "."):
        j += 1
    return query[i:j], j


def tokenize(query: str) -> list[QueryToken]:
    """The tokens of a query string; raises :class:`QueryParseError` on bad input."""
    tokens: list[QueryToken] = []
    i = 0
    spaced = False
    in_range = False
    n = len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
            spaced = True
            continue
        start = i
        if in_range and char not in ']}"':
            # Inside [ ... ] any run of characters but spaces and brackets is a bound
            # (Lucene's RANGE_GOOP): "-1", "0x10", "a:b".
            text, raw, wildcard, i = _term(query, i, _RANGE_END)
            kind = "TO" if raw == "TO" else "TERM"
            tokens.append(QueryToken(kind, text, start, raw, wildcard, spaced))
        elif char in _SINGLE:
            in_range = (in_range or char in "[{") and char not in "]}"
            tokens.append(QueryToken(_SINGLE[char], char, start, spaced=spaced))
            i += 1
        elif query.startswith("&&", i) or query.startswith("||", i):
            tokens.append(
                QueryToken("AND" if char == "&" else "OR", char * 2, start, spaced=spaced)
            )
            i += 2
        elif char in "+-!":
            kind = {"+": "PLUS", "-": "MINUS", "!": "BANG"}[char]
            tokens.append(QueryToken(kind, char, start, spaced=spaced))
            i += 1
        elif char in "^~":
            number, i = _number(query, i + 1)
            tokens.append(
                QueryToken("CARET" if char == "^" else "TILDE", number, start, spaced=spaced)
            )
        elif char == '"':
            text, i = _delimited(query, i, '"', "phrase (missing closing quote)")
            tokens.append(QueryToken("QUOTED", text, start, spaced=spaced))
        elif char == "/":
            text, i = _delimited(query, i, "/", "regular expression (missing closing /)")
            tokens.append(QueryToken("REGEXP", text, start, spaced=spaced))
        else:
            text, raw, wildcard, i = _term(query, i)
            kind = _KEYWORDS.get(raw, "TERM")
            tokens.append(QueryToken(kind, text, start, raw, wildcard, spaced))
        spaced = False
    return tokens


def _term(
    query: str, i: int, end: frozenset[str] | set[str] = frozenset()
) -> tuple[str, str, bool, int]:
    stop = end or _TERM_END
    start = i
    text = []
    wildcard = False
    while i < len(query) and query[i] not in stop:
        char = query[i]
        if char == "\\":
            if i + 1 >= len(query):
                raise QueryParseError("dangling escape character '\\'", query, i)
            text.append(query[i + 1])
            i += 2
            continue
        if char in "*?":
            wildcard = True
        text.append(char)
        i += 1
    return "".join(text), query[start:i], wildcard, i
