"""The query-string parser: what strings mean, round trips, and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.textindex.errors import QueryParseError
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanClause, BooleanQuery, Occur
from chainindex.textindex.query.fuzzy import FuzzyQuery
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
from chainindex.textindex.queryparser import FieldKind, QueryParser

KINDS = {
    "block": FieldKind(terms=False, points=True),
    "value": FieldKind(terms=True, tokenized=True, points=True),
    "address": FieldKind(tokenized=False),
    "kw": FieldKind(tokenized=False),
}
PARSER = QueryParser("text", lambda f: KINDS.get(f, FieldKind()))


def T(field: str, term: str) -> TermQuery:  # noqa: N802
    return TermQuery(field, term)


def B(*clauses: tuple[Occur, Query]) -> BooleanQuery:  # noqa: N802
    return BooleanQuery(tuple(BooleanClause(o, q) for o, q in clauses))


MUST, SHOULD, NOT = Occur.MUST, Occur.SHOULD, Occur.MUST_NOT
ALL = MatchAllDocsQuery()

EXAMPLES: list[tuple[str, Query]] = [
    ("vitalik", T("text", "vitalik")),
    ("Vitalik", T("text", "vitalik")),
    ("name:vitalik", T("name", "vitalik")),
    ("a b", B((SHOULD, T("text", "a")), (SHOULD, T("text", "b")))),
    ("a AND b", B((MUST, T("text", "a")), (MUST, T("text", "b")))),
    ("a && b", B((MUST, T("text", "a")), (MUST, T("text", "b")))),
    ("a OR b", B((SHOULD, T("text", "a")), (SHOULD, T("text", "b")))),
    (
        "a OR b AND c",
        B((SHOULD, T("text", "a")), (SHOULD, B((MUST, T("text", "b")), (MUST, T("text", "c"))))),
    ),
    (
        "(a OR b) AND c",
        B((MUST, B((SHOULD, T("text", "a")), (SHOULD, T("text", "b")))), (MUST, T("text", "c"))),
    ),
    ("+a -b c", B((MUST, T("text", "a")), (NOT, T("text", "b")), (SHOULD, T("text", "c")))),
    ("a AND NOT b", B((MUST, T("text", "a")), (NOT, T("text", "b")))),
    ("a !b", B((SHOULD, T("text", "a")), (NOT, T("text", "b")))),
    ("NOT spam", B((MUST, ALL), (NOT, T("text", "spam")))),
    ("-a -b", B((MUST, ALL), (NOT, T("text", "a")), (NOT, T("text", "b")))),
    ('"wrapped ether"', PhraseQuery("text", ("wrapped", "ether"))),
    ('"wrapped ether"~2', PhraseQuery("text", ("wrapped", "ether"), 2)),
    ('"ether"', T("text", "ether")),
    ('""', MatchNoDocsQuery()),
    ("vitalk~", FuzzyQuery("text", "vitalk", 2)),
    ("vitalk~1", FuzzyQuery("text", "vitalk", 1)),
    ("VIT*", PrefixQuery("text", "vit")),
    ("v?talik", WildcardQuery("text", "v?talik")),
    ("*alik", WildcardQuery("text", "*alik")),
    # An escaped star is a plain character; the standard analyzer splits on it.
    (r"a\*b", B((SHOULD, T("text", "a")), (SHOULD, T("text", "b")))),
    (r"kw:a\*b", T("kw", "a*b")),
    ("/vit.*k/", RegexpQuery("text", "vit.*k")),
    ("address:0xABcd", T("address", "0xabcd")),
    ("address:0xab*", PrefixQuery("address", "0xab")),
    ('kw:"Transfer(address,uint256)"', T("kw", "transfer(address,uint256)")),
    ("name:(alice bob)", B((SHOULD, T("name", "alice")), (SHOULD, T("name", "bob")))),
    (
        "name:(alice bob)^2",
        BoostQuery(B((SHOULD, T("name", "alice")), (SHOULD, T("name", "bob"))), 2.0),
    ),
    ("name:alice^0.5", BoostQuery(T("name", "alice"), 0.5)),
    ("block:[100 TO 200]", PointRangeQuery("block", 100, 200)),
    ("block:{100 TO 200}", PointRangeQuery("block", 101, 199)),
    ("block:[* TO 0x10]", PointRangeQuery("block", None, 16)),
    ("block:42", PointRangeQuery("block", 42, 42)),
    ("name:[alice TO bob}", TermRangeQuery("name", "alice", "bob", True, False)),
    ("name:{* TO Bob]", TermRangeQuery("name", None, "bob", False, True)),
    ("value:7", B((SHOULD, T("value", "7")), (SHOULD, PointRangeQuery("value", 7, 7)))),
    ("value:seven", T("value", "seven")),
    ("*:*", ALL),
    ("name:*", ExistsQuery("name")),
    ("foo-bar", B((SHOULD, T("text", "foo")), (SHOULD, T("text", "bar")))),
    ("", ALL),
    ("   ", ALL),
    ("名前", B((SHOULD, T("text", "名")), (SHOULD, T("text", "前")))),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[e[0] or "empty" for e in EXAMPLES])
def test_examples(text: str, expected: Query) -> None:
    assert PARSER.parse(text) == expected


def test_default_operator_and() -> None:
    parser = QueryParser("text", default_operator="AND")
    assert parser.parse("a b") == B((MUST, T("text", "a")), (MUST, T("text", "b")))


ERRORS = [
    ("a AND", "expected a clause after AND", 2),
    ("a OR", "expected a clause after OR", 2),
    ("(a", "missing ')' to close this '('", 0),
    ("a (b (c) d", "missing ')' to close this '('", 2),
    ("a)", "unexpected ')' (no matching '(')", 1),
    ("()", "empty parentheses", 1),
    ('"abc', "unterminated phrase", 0),
    ("/ab", "unterminated regular expression", 0),
    ("x~3", "fuzzy edit distance must be 0, 1 or 2, not 3", 1),
    ("x~0.5", "fuzzy edit distance must be a whole number", 1),
    ("block:abc", "field 'block' is numeric: 'abc' is not a number", 6),
    ("block:[1 TO x]", "field 'block' is numeric: 'x' is not a number", 12),
    ("block:ab*", "wildcards do not apply", 6),
    ("[a b]", "expected 'TO' in a range", 3),
    ("[a TO b", "expected ']' or '}' to close the range", 0),
    ("[a TO", "expected the upper bound of a range", 5),
    ("a^x", "'^' must be followed by a number", 1),
    ("a^0", "a boost must be positive", 1),
    (":a", "empty field name before ':'", 0),
    ("name:", "expected a value after 'name:'", 4),
    ("*:a", "'*:' must be followed by '*'", 0),
    ("a \\", "dangling escape character", 2),
    ("+", "expected a clause after '+'", 0),
    ("a -", "expected a clause after '-'", 2),
    ("/(a+)+b/", "nests repetitions", 0),
    ("/[a/", "bad regular expression", 0),
    ("a b)", "unexpected ')'", 3),
]


@pytest.mark.parametrize(("text", "message", "position"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_are_clear(text: str, message: str, position: int) -> None:
    with pytest.raises(QueryParseError) as info:
        PARSER.parse(text)
    assert message in info.value.reason
    assert info.value.position == position
    assert "\n" not in str(info.value)
    assert str(info.value).count("position") == 1, str(info.value)  # said once


def test_too_many_clauses() -> None:
    with pytest.raises(QueryParseError, match="too many clauses"):
        QueryParser("text", max_clauses=10).parse(" ".join(f"w{i}" for i in range(11)))
    with pytest.raises(QueryParseError, match="longer than"):
        PARSER.parse("a " * 6000)


# ------------------------------------------------------------------ round trips

word = st.text("abcdefxyz019", min_size=1, max_size=6)
keyword_text = st.text("abcxyz0189 :+-!()[]{}^~*?\\/\"'&|.é", max_size=8).filter(
    lambda s: s == s.lower()
)


@st.composite
def leaves(draw: st.DrawFn) -> Query:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return TermQuery(draw(st.sampled_from(["text", "name"])), draw(word))
    if kind == 1:
        return TermQuery("kw", draw(keyword_text))
    if kind == 2:
        return PhraseQuery(
            "name", tuple(draw(st.lists(word, min_size=2, max_size=4))), draw(st.integers(0, 3))
        )
    if kind == 3:
        return PrefixQuery(draw(st.sampled_from(["name", "kw"])), draw(word))
    if kind == 4:
        pattern = draw(
            st.text("ab*?", min_size=1, max_size=6).filter(lambda p: "*" in p or "?" in p)
        )
        body = pattern[:-1]
        if pattern.endswith("*") and "*" not in body and "?" not in body:
            pattern += "?"
        return WildcardQuery("name", pattern)
    if kind == 5:
        return FuzzyQuery("name", draw(word), draw(st.integers(0, 2)))
    if kind == 6:
        return RegexpQuery("name", draw(st.sampled_from(["a.*", "[ab]+c", "x|y", r"\d+"])))
    if kind == 7:
        low, high = draw(st.one_of(st.none(), word)), draw(st.one_of(st.none(), word))
        return TermRangeQuery("kw", low, high, draw(st.booleans()), draw(st.booleans()))
    if kind == 8:
        bound = st.one_of(st.none(), st.integers(-(2**70), 2**70))
        return PointRangeQuery("block", draw(bound), draw(bound))
    return draw(st.sampled_from([MatchAllDocsQuery(), ExistsQuery("name")]))


def trees() -> st.SearchStrategy[Query]:
    def extend(inner: st.SearchStrategy[Query]) -> st.SearchStrategy[Query]:
        occurs = st.sampled_from([Occur.MUST, Occur.SHOULD, Occur.MUST_NOT])
        clause = st.builds(BooleanClause, occurs, inner)
        boolean = st.lists(clause, min_size=2, max_size=4).filter(
            lambda cs: any(c.occur is not Occur.MUST_NOT for c in cs)
        )
        return st.one_of(
            boolean.map(lambda cs: BooleanQuery(tuple(cs))),
            st.builds(BoostQuery, inner, st.sampled_from([0.5, 2.0, 3.0])),
        )

    return st.recursive(leaves(), extend, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(trees())
def test_to_string_parses_back(query: Query) -> None:
    text = query.to_string("text")
    assert PARSER.parse(text) == query, text
