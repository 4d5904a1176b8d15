"""Random small corpora for the property tests (hypothesis strategies).

The vocabulary is small and full of near neighbours (``vitalik``/``vitalk``/``vital``,
``wrap``/``wrapped``) so that prefix, wildcard, fuzzy and phrase queries have something to
find. Text values are lowercase ASCII words joined by single spaces, which the standard
analyzer splits exactly like ``str.split()``; keyword values mix cases (the index lowercases).
"""

from __future__ import annotations

from hypothesis import strategies as st

from chainindex.textindex.document import POINT_MAX, POINT_MIN, Document

WORDS = [
    "vitalik",
    "vitalk",
    "vital",
    "alice",
    "alicia",
    "bob",
    "bobby",
    "wrap",
    "wrapped",
    "ether",
    "eth",
    "token",
    "a",
]
KEYWORDS = ["0xAb12", "0xab12", "0xab13", "0xcd", "Transfer", "Approval", "true", "x_y"]
TEXT_FIELDS = ["name", "text"]
KEYWORD_FIELDS = ["address", "event", "tag"]
POINT_FIELDS = ["block", "value"]

texts = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
point_values = st.one_of(
    st.integers(0, 40), st.integers(POINT_MIN, POINT_MAX), st.sampled_from([2**64, -(2**70)])
)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """One random document."""
    keywords = draw(
        st.lists(st.tuples(st.sampled_from(KEYWORD_FIELDS), st.sampled_from(KEYWORDS)), max_size=4)
    )
    text_values = draw(st.lists(st.tuples(st.sampled_from(TEXT_FIELDS), texts), max_size=3))
    points = draw(st.lists(st.tuples(st.sampled_from(POINT_FIELDS), point_values), max_size=3))
    block = draw(st.integers(0, 30))
    return Document(
        keywords=keywords,
        texts=text_values,
        points=[("block", block), *points],
        doc_values={"block": block, "logIndex": draw(st.integers(0, 5))},
        stored=draw(st.binary(max_size=20)),
    )
