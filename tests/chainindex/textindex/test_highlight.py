"""Best fragments with matches marked."""

from __future__ import annotations

from chainindex.textindex.highlight import HighlightOptions, best_fragments
from chainindex.textindex.query.fuzzy import FuzzyQuery
from chainindex.textindex.queryparser import QueryParser


def exact(*terms: str) -> list[object]:
    return [set(terms).__contains__]


def test_marks_matching_tokens_whatever_their_case() -> None:
    got = best_fragments("Vitalik Buterin registered vitalik.eth", exact("vitalik"))  # type: ignore[arg-type]
    assert got == ["<em>Vitalik</em> Buterin registered <em>vitalik</em>.eth"]


def test_no_match_no_fragment() -> None:
    assert best_fragments("alice and bob", exact("carol")) == []  # type: ignore[arg-type]
    assert best_fragments("alice", []) == []


def test_text_is_escaped_around_tags() -> None:
    got = best_fragments("<b>wrapped</b> & ether", exact("ether"))  # type: ignore[arg-type]
    assert got == ["&lt;b&gt;wrapped&lt;/b&gt; &amp; <em>ether</em>"]
    raw = HighlightOptions(pre="[", post="]", escape_html=False)
    assert best_fragments("<b>ether</b>", exact("ether"), raw) == ["<b>[ether]</b>"]  # type: ignore[arg-type]


def test_best_fragments_first() -> None:
    text = " ".join(["filler"] * 30 + ["alpha"] + ["filler"] * 30 + ["alpha", "beta"])
    options = HighlightOptions(fragment_size=40, max_fragments=2)
    got = best_fragments(text, exact("alpha", "beta"), options)  # type: ignore[arg-type]
    assert len(got) == 2
    assert "<em>alpha</em> <em>beta</em>" in got[0]  # two distinct terms beat one
    assert "<em>alpha</em>" in got[1]
    assert all(len(f) < 40 + 60 for f in got)


def test_query_predicates_drive_highlighting() -> None:
    query = QueryParser("text").parse('vit* OR "wrapped ether" OR /bo+b/ OR alicia~2')
    matchers = query.term_matchers()["text"]
    got = best_fragments("Vitalik sent wrapped ether to booob and alice", matchers)
    assert got == [
        "<em>Vitalik</em> sent <em>wrapped</em> <em>ether</em> to <em>booob</em> and <em>alice</em>"
    ]
    fuzzy = FuzzyQuery("text", "vitalik", 1).term_matchers()["text"]
    assert best_fragments("vitalk vitalix vitaly", fuzzy) == [
        "<em>vitalk</em> <em>vitalix</em> vitaly"
    ]


def test_excluded_terms_are_not_marked() -> None:
    query = QueryParser("text").parse("alice -bob")
    assert best_fragments("alice bob", query.term_matchers()["text"]) == ["<em>alice</em> bob"]


def test_unicode_offsets() -> None:
    got = best_fragments("名前 café 🔥 token", exact("café", "🔥", "名"))  # type: ignore[arg-type]
    assert got == ["<em>名</em>前 <em>café</em> <em>🔥</em> token"]
