"""The query-string parser: Lucene's syntax, read with ordinary boolean precedence.

Syntax (Lucene's classic ``QueryParser``)::

    vitalik                      the default field (for logs: every decoded string)
    name:vitalik  name:(a b)     a field, for one term or a group
    +a -b c                      required / prohibited / optional clauses
    a AND b, a OR b, NOT a       also && || !
    "wrapped ether"~2            a phrase, with a slop
    vitalk~ vitalk~1             fuzzy (edit distance 0..2, default 2)
    vit*  v?talik  *alik         prefix and wildcards (``\\`` escapes * and ?)
    /vit.*k/                     a regular expression over whole terms
    block:[100 TO 200]  {a TO b} inclusive / exclusive ranges, ``*`` for an open end
    name:vitalik^2               boost
    field:*   *:*                field present / every document

Precedence is NOT, then AND, then OR (``a OR b AND c`` is ``a OR (b AND c)``); a run of
clauses without an operator combines with the default operator (OR), and ``+``/``-`` mark
required and prohibited clauses within such a run, as in Lucene. Unlike Lucene, a query of
prohibited clauses only (``NOT spam``, ``-a -b``) means "every document except", as in
Elasticsearch's query string. An empty query matches every document.

Terms are analyzed with the field's analyzer (text fields are tokenized and lowercased,
keyword fields lowercased; a bare term that splits into several terms combines them with the
default operator, a quoted one becomes a phrase); wildcard, prefix, fuzzy and range terms are
only lowercased. For numeric (point) fields a term must be an integer (decimal or ``0x``
hex) and ranges compare numbers. Malformed input raises
:class:`~chainindex.textindex.errors.QueryParseError` naming the problem and its position.
"""

from __future__ import annotations

from collections.abc import Callable

from chainindex.textindex.analysis import KEYWORD, STANDARD, Analyzer
from chainindex.textindex.errors import QueryError, QueryParseError
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import Occur
from chainindex.textindex.query.fuzzy import MAX_EDITS, FuzzyQuery
from chainindex.textindex.query.matchall import (
    BoostQuery,
    ExistsQuery,
    MatchAllDocsQuery,
    MatchNoDocsQuery,
)
from chainindex.textindex.query.phrase import PhraseQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.query.prefix import PrefixQuery
from chainindex.textindex.query.regexp import RegexpQuery
from chainindex.textindex.query.term import TermQuery
from chainindex.textindex.query.termrange import TermRangeQuery
from chainindex.textindex.query.wildcard import WildcardQuery
from chainindex.textindex.queryparser.build import (
    Clauses,
    FieldKind,
    combine,
    either,
    has_wildcard,
    parse_int,
    unescape,
)
from chainindex.textindex.queryparser.lexer import QueryToken, tokenize

__all__ = ["FieldKind", "QueryParser"]

MAX_CLAUSES = 1024
"""Most leaf queries one query string may produce (Lucene's maxClauseCount)."""
MAX_QUERY_LENGTH = 10_000
"""Longest query string accepted."""

_STARTS = {"TERM", "QUOTED", "REGEXP", "LPAREN", "LBRACKET", "LBRACE", "PLUS", "MINUS"}
_STARTS |= {"BANG", "NOT"}


class QueryParser:
    """Parses query strings for one index's fields."""

    def __init__(
        self,
        default_field: str,
        field_kind: Callable[[str], FieldKind] | None = None,
        *,
        default_operator: str = "OR",
        max_clauses: int = MAX_CLAUSES,
    ) -> None:
        if default_operator not in ("OR", "AND"):
            raise ValueError("default operator must be OR or AND")
        self.default_field = default_field
        """Field of terms written without one."""
        self.field_kind = field_kind or (lambda name: FieldKind())
        """How to read a field's terms."""
        self.default_occur = Occur.SHOULD if default_operator == "OR" else Occur.MUST
        """Occur of clauses joined without an operator."""
        self.max_clauses = max_clauses
        """Limit on leaf queries."""

    def parse(self, query: str) -> Query:
        """The query a string describes."""
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryParseError(f"query longer than {MAX_QUERY_LENGTH} characters", "", 0)
        if not query.strip():
            return MatchAllDocsQuery()
        return _Parse(self, query).run()


class _Parse:
    """The state of one parse (recursive descent over the tokens)."""

    def __init__(self, parser: QueryParser, query: str) -> None:
        self.p = parser
        self.query = query
        self.tokens = tokenize(query)
        self.i = 0
        self.leaves = 0

    # -- token access -----------------------------------------------------------------

    def peek(self, offset: int = 0) -> QueryToken | None:
        at = self.i + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def kind(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.kind if token else "EOF"

    def take(self) -> QueryToken:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, token: QueryToken | None = None) -> QueryParseError:
        at = token.position if token else len(self.query)
        return QueryParseError(message, self.query, at)

    def leaf(self, query: Query) -> Query:
        self.leaves += 1
        if self.leaves > self.p.max_clauses:
            raise self.error(f"too many clauses (more than {self.p.max_clauses})")
        return query

    # -- grammar ----------------------------------------------------------------------

    def run(self) -> Query:
        clauses = self.or_expr(self.p.default_field)
        if self.kind() != "EOF":
            token = self.peek()
            if token is not None and token.kind == "RPAREN":
                raise self.error("unexpected ')' (no matching '(')", token)
            raise self.error(f"unexpected {token.text if token else ''!r}", token)
        return combine(clauses)

    def or_expr(self, field: str) -> Clauses:
        parts = [self.and_expr(field)]
        while self.kind() == "OR":
            op = self.take()
            if self.kind() not in _STARTS:
                raise self.error("expected a clause after OR", self.peek() or op)
            parts.append(self.and_expr(field))
        if len(parts) == 1:
            return parts[0]
        return [(Occur.SHOULD, combine(part)) for part in parts]

    def and_expr(self, field: str) -> Clauses:
        parts = [self.sequence(field)]
        while self.kind() == "AND":
            op = self.take()
            if self.kind() not in _STARTS:
                raise self.error("expected a clause after AND", self.peek() or op)
            parts.append(self.sequence(field))
        if len(parts) == 1:
            return parts[0]
        out: Clauses = []
        for part in parts:
            if len(part) == 1:
                occur, query = part[0]
                out.append((Occur.MUST_NOT if occur is Occur.MUST_NOT else Occur.MUST, query))
            else:
                out.append((Occur.MUST, combine(part)))
        return out

    def sequence(self, field: str) -> Clauses:
        clauses: Clauses = []
        while self.kind() in _STARTS:
            clauses.append(self.clause(field))
        if not clauses:
            token = self.peek()
            if token is None:
                raise self.error("unexpected end of query")
            if token.kind == "RPAREN":
                raise self.error("unexpected ')' (no matching '(')", token)
            if token.kind == "COLON":
                raise self.error("empty field name before ':'", token)
            raise self.error(f"unexpected {token.text!r}", token)
        return clauses

    def clause(self, field: str) -> tuple[Occur, Query]:
        occur = self.p.default_occur
        if self.kind() in ("PLUS", "MINUS", "BANG", "NOT"):
            modifier = self.take()
            occur = Occur.MUST if modifier.kind == "PLUS" else Occur.MUST_NOT
            if self.kind() not in _STARTS - {"PLUS", "MINUS", "BANG", "NOT"}:
                raise self.error(
                    f"expected a clause after {modifier.text!r}", self.peek() or modifier
                )
        return occur, self.unary(field)

    def unary(self, field: str) -> Query:
        if self.kind() == "TERM" and self.kind(1) == "COLON":
            name_token = self.take()
            colon = self.take()
            if not name_token.text:
                raise self.error("empty field name", name_token)
            if name_token.wildcard and name_token.text != "*":
                raise self.error("a field name cannot contain wildcards", name_token)
            field = name_token.text
            if self.kind() == "EOF":
                raise self.error(f"expected a value after '{field}:'", colon)
            if name_token.text == "*":
                value = self.peek()
                if value is not None and value.kind == "TERM" and value.raw == "*":
                    self.take()
                    return self.boost(self.leaf(MatchAllDocsQuery()))
                raise self.error("'*:' must be followed by '*'", name_token)
        elif self.kind() == "COLON":
            raise self.error("empty field name", self.peek())
        return self.boost(self.primary(field))

    def boost(self, query: Query) -> Query:
        if self.kind() != "CARET":
            return query
        token = self.take()
        try:
            value = float(token.text)
        except ValueError:
            raise self.error("'^' must be followed by a number", token) from None
        if not value > 0:
            raise self.error("a boost must be positive", token)
        return BoostQuery(query, value)

    def primary(self, field: str) -> Query:
        token = self.peek()
        assert token is not None
        if token.kind == "LPAREN":
            self.take()
            if self.kind() == "RPAREN":
                raise self.error("empty parentheses", self.peek())
            clauses = self.or_expr(field)
            if self.kind() != "RPAREN":
                raise self.error("missing ')' to close this '('", token)
            self.take()
            return combine(clauses)
        if token.kind in ("LBRACKET", "LBRACE"):
            return self.leaf(self.range(field))
        if token.kind == "QUOTED":
            self.take()
            slop = self.tilde_number(default=0, what="phrase slop", limit=None)
            return self.leaf(self.phrase(field, token, slop))
        if token.kind == "REGEXP":
            self.take()
            try:
                return self.leaf(RegexpQuery(field, token.text))
            except QueryError as err:
                raise self.error(str(err), token) from None
        if token.kind == "TERM":
            self.take()
            if self.kind() == "TILDE" and not self.peek_spaced():
                distance = self.tilde_number(default=MAX_EDITS, what="fuzzy edit distance", limit=2)
                analyzer = self.analyzer(field)
                return self.leaf(FuzzyQuery(field, analyzer.normalize(token.text), distance))
            return self.leaf(self.term(field, token))
        raise self.error(f"unexpected {token.text!r}", token)

    def peek_spaced(self) -> bool:
        token = self.peek()
        return bool(token and token.spaced)

    def tilde_number(self, default: int, what: str, limit: int | None) -> int:
        if self.kind() != "TILDE" or self.peek_spaced():
            return default
        token = self.take()
        if token.text == "":
            return default
        if not token.text.isdigit():
            raise self.error(f"{what} must be a whole number, not {token.text!r}", token)
        value = int(token.text)
        if limit is not None and value > limit:
            raise self.error(f"{what} must be 0, 1 or 2, not {value}", token)
        return value

    # -- leaves -----------------------------------------------------------------------

    def analyzer(self, field: str) -> Analyzer:
        return STANDARD if self.p.field_kind(field).tokenized else KEYWORD

    def numeric(self, field: str, text: str, token: QueryToken) -> int:
        try:
            return parse_int(text)
        except ValueError:
            raise self.error(
                f"field {field!r} is numeric: {text!r} is not a number", token
            ) from None

    def term(self, field: str, token: QueryToken) -> Query:
        kind = self.p.field_kind(field)
        if token.raw == "*":
            return ExistsQuery(field)
        if not kind.points:
            return self.text_term(field, token)
        if token.wildcard:
            if kind.terms:
                return self.text_term(field, token)
            raise self.error(f"field {field!r} is numeric: wildcards do not apply", token)
        try:
            value = parse_int(token.text)
        except ValueError:
            if kind.terms:
                return self.text_term(field, token)
            raise self.error(
                f"field {field!r} is numeric: {token.text!r} is not a number", token
            ) from None
        point = PointRangeQuery(field, value, value)
        return either(self.text_term(field, token), point) if kind.terms else point

    def text_term(self, field: str, token: QueryToken) -> Query:
        analyzer = self.analyzer(field)
        if token.wildcard:
            pattern = analyzer.normalize(token.raw)
            body = pattern[:-1]
            if pattern.endswith("*") and not has_wildcard(body) and not body.endswith("\\"):
                return PrefixQuery(field, unescape(body))
            return WildcardQuery(field, pattern)
        terms = analyzer.terms(token.text)
        if not terms:
            return MatchNoDocsQuery()
        if len(terms) == 1:
            return TermQuery(field, terms[0])
        return combine([(self.p.default_occur, TermQuery(field, t)) for t in terms])

    def phrase(self, field: str, token: QueryToken, slop: int) -> Query:
        kind = self.p.field_kind(field)
        if kind.points and not kind.terms:
            value = self.numeric(field, token.text, token)
            return PointRangeQuery(field, value, value)
        terms = self.analyzer(field).terms(token.text)
        if not terms:
            return MatchNoDocsQuery()
        if len(terms) == 1:
            return TermQuery(field, terms[0])
        return PhraseQuery(field, tuple(terms), slop)

    def range_bound(self, what: str) -> QueryToken | None:
        token = self.peek()
        if token is None or token.kind not in ("TERM", "QUOTED"):
            raise self.error(f"expected the {what} bound of a range", token)
        self.take()
        if token.kind == "TERM" and token.raw == "*":
            return None
        return token

    def range(self, field: str) -> Query:
        opening = self.take()
        low = self.range_bound("lower")
        if self.kind() != "TO":
            raise self.error("expected 'TO' in a range", self.peek() or opening)
        self.take()
        high = self.range_bound("upper")
        closing = self.peek()
        if closing is None or closing.kind not in ("RBRACKET", "RBRACE"):
            raise self.error("expected ']' or '}' to close the range", closing or opening)
        self.take()
        include_low = opening.kind == "LBRACKET"
        include_high = closing.kind == "RBRACKET"
        kind = self.p.field_kind(field)
        queries: list[Query] = []
        if kind.points:
            lower = None if low is None else self.numeric(field, low.text, low)
            upper = None if high is None else self.numeric(field, high.text, high)
            if lower is not None and not include_low:
                lower += 1
            if upper is not None and not include_high:
                upper -= 1
            queries.append(PointRangeQuery(field, lower, upper))
        if kind.terms or not kind.points:
            normalize = self.analyzer(field).normalize
            queries.append(
                TermRangeQuery(
                    field,
                    None if low is None else normalize(low.text),
                    None if high is None else normalize(high.text),
                    include_low,
                    include_high,
                )
            )
        return queries[0] if len(queries) == 1 else either(*queries)
