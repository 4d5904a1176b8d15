"""A flushed segment read back: postings, positions, norms, columns."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.textindex.buffer import POSITION_GAP, SegmentBuffer
from chainindex.textindex.document import Document
from chainindex.textindex.segmentreader import SegmentReader
from chainindex.textindex.segmentwriter import write_segment
from tests.chainindex.textindex.strategies import documents

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Reference = dict[str, dict[str, dict[int, list[int]]]]


def reference_index(docs: list[Document]) -> tuple[Reference, dict[str, list[int]]]:
    """field -> term -> doc -> positions, and field -> length per doc, by the documented rules:
    keyword values are one lowercased term; text values split on spaces (the strategies only
    produce lowercase ASCII words, which the standard analyzer splits the same way); a field's
    values are numbered on from each other with a gap of POSITION_GAP."""
    index: Reference = defaultdict(lambda: defaultdict(dict))
    lengths: dict[str, list[int]] = defaultdict(lambda: [0] * len(docs))
    for d, doc in enumerate(docs):
        next_pos: dict[str, int] = defaultdict(int)
        values = [(f, [v.lower()]) for f, v in doc.keywords] + [
            (f, v.split()) for f, v in doc.texts
        ]
        ordered = [(f, terms) for f, terms in values if terms]
        # keywords are inverted before texts (the order of Document's lists)
        for field, terms in ordered:
            pos = next_pos[field]
            for term in terms:
                index[field][term].setdefault(d, []).append(pos)
                lengths[field][d] += 1
                pos += 1
            next_pos[field] = pos + POSITION_GAP
    return index, lengths


def build(tmp_path: Path, docs: list[Document]) -> SegmentReader:
    buffer = SegmentBuffer()
    for doc in docs:
        buffer.add(doc)
    path = tmp_path / "_x.seg"
    path.unlink(missing_ok=True)
    write_segment(path, "_x", buffer.to_inputs())
    return SegmentReader(path, "_x")


@SETTINGS
@given(st.lists(documents(), min_size=1, max_size=60), st.data())
def test_flushed_segment_matches_reference(
    tmp_path_factory: object, docs: list[Document], data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("seg")  # type: ignore[attr-defined]
    reader = build(tmp, docs)
    index, lengths = reference_index(docs)
    assert reader.max_doc == len(docs)
    assert set(reader.field_names) == set(index)
    for field_name, terms in index.items():
        field = reader.field(field_name)
        assert field is not None
        assert [t.decode() for t, _ in field.terms.iterate()] == sorted(terms)
        for term, postings in terms.items():
            tp = field.postings(field.lookup(term.encode()))
            got = tp.read()
            assert got.docs.tolist() == sorted(postings)
            assert got.freqs.tolist() == [len(postings[d]) for d in sorted(postings)]
            flat = field.positions(got.starts, got.freqs).tolist()
            assert flat == [p for d in sorted(postings) for p in postings[d]]
            candidates = sorted(data.draw(st.sets(st.integers(0, len(docs) - 1), max_size=8)))
            restricted = tp.restrict(np.array(candidates, dtype=np.int64))
            assert restricted.docs.tolist() == [d for d in candidates if d in postings]
            assert field.positions(restricted.starts, restricted.freqs).tolist() == [
                p for d in candidates if d in postings for p in postings[d]
            ]
        present = np.flatnonzero(np.array(lengths[field_name]) > 0)
        assert field.norms.lengths(present).tolist() == [lengths[field_name][d] for d in present]
        assert field.norms.stats(None) == (len(present), sum(lengths[field_name]))
    for d, doc in enumerate(docs):
        assert reader.stored(d) == doc.stored
    for name in {n for doc in docs for n in doc.doc_values}:
        column = reader.doc_values(name)
        assert column is not None
        assert column.tolist() == [doc.doc_values.get(name, 0) for doc in docs]
    for name in {n for doc in docs for n, _ in doc.points}:
        points = reader.points(name)
        assert points is not None
        values = [v for doc in docs for n, v in doc.points if n == name]
        lo, hi = min(values), max(values)
        mid = (lo + hi) // 2
        expect = sorted(
            {d for d, doc in enumerate(docs) for n, v in doc.points if n == name and v <= mid}
        )
        assert points.docs_in_range(None, mid).tolist() == expect


def test_immense_keywords_are_stored_not_indexed(tmp_path: Path) -> None:
    from chainindex.textindex.buffer import MAX_KEYWORD_LENGTH

    long_value = "x" * (MAX_KEYWORD_LENGTH + 1)
    docs = [
        Document(keywords=[("k", long_value), ("k", "short")], stored=b"a"),
        Document(keywords=[("k", "x" * MAX_KEYWORD_LENGTH)], stored=b"b"),
    ]
    reader = build(tmp_path, docs)
    field = reader.field("k")
    assert field is not None
    assert [t for t, _ in field.terms.iterate()] == [b"short", b"x" * MAX_KEYWORD_LENGTH]
    assert reader.stored(0) == b"a"
