"""Codec round trips: every on-disk structure against plain Python references (hypothesis)."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.textindex.codec.compound import CompoundReader, CompoundWriter
from chainindex.textindex.codec.docvalues import encode_doc_values, read_doc_values
from chainindex.textindex.codec.livedocs import read_live_docs, write_live_docs
from chainindex.textindex.codec.norms import NormsReader, encode_norms
from chainindex.textindex.codec.points import PointsReader, encode_points
from chainindex.textindex.codec.positions import decode_positions, encode_positions
from chainindex.textindex.codec.postings import BLOCK_SIZE, decode_blocks, encode_postings
from chainindex.textindex.codec.storedfields import StoredFieldsReader, StoredFieldsWriter
from chainindex.textindex.codec.termdict import TermDictionary, encode_terms
from chainindex.textindex.document import POINT_MAX, POINT_MIN
from chainindex.textindex.errors import IndexCorruptError
from chainindex.textindex.packed import PackedInts, pack, ragged_ranges, unpack, unpack_at

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ packed integers


@SETTINGS
@given(st.lists(st.integers(0, 2**40), max_size=200), st.data())
def test_packed_round_trip(values: list[int], data: st.DataObject) -> None:
    width, raw = PackedInts.encode(values)
    column = PackedInts(np.frombuffer(raw, dtype=np.uint8), 0, len(values), width)
    assert column.all().tolist() == values
    if values:
        picks = data.draw(st.lists(st.integers(0, len(values) - 1), max_size=20))
        assert column.take(picks).tolist() == [values[i] for i in picks]
        assert column.get(picks[0] if picks else 0) == values[picks[0] if picks else 0]


@given(st.integers(1, 4), st.lists(st.integers(0, 255), max_size=50))
def test_pack_unpack_each_width(width: int, small: list[int]) -> None:
    raw = np.frombuffer(pack(small, width), dtype=np.uint8)
    assert unpack(raw, 0, len(small), width).tolist() == small
    assert unpack_at(raw, 0, width, list(range(len(small)))[::-1]).tolist() == small[::-1]


@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(0, 6)), max_size=30))
def test_ragged_ranges(pairs: list[tuple[int, int]]) -> None:
    expected = [i for s, n in pairs for i in range(s, s + n)]
    starts = [s for s, _ in pairs]
    lengths = [n for _, n in pairs]
    assert ragged_ranges(starts, lengths).tolist() == expected


# ------------------------------------------------------------------ postings


@st.composite
def inverted(draw: st.DrawFn) -> dict[int, list[tuple[int, int]]]:
    """term -> [(doc, freq)] with ascending docs; some terms dense, some singletons."""
    n_terms = draw(st.integers(1, 8))
    max_doc = draw(st.sampled_from([5, 300, 3000, 70_000]))
    out = {}
    for t in range(n_terms):
        kind = draw(st.sampled_from(["single", "sparse", "dense", "run"]))
        if kind == "single":
            docs = [draw(st.integers(0, max_doc - 1))]
        elif kind == "run":
            start = draw(st.integers(0, max_doc - 1))
            docs = list(range(start, min(max_doc, start + draw(st.integers(1, 400)))))
        else:
            size = draw(st.integers(1, 40 if kind == "sparse" else 600))
            docs = sorted(draw(st.sets(st.integers(0, max_doc - 1), min_size=1, max_size=size)))
        freqs = draw(
            st.one_of(
                st.just([1] * len(docs)),
                st.lists(st.integers(1, 70_000), min_size=len(docs), max_size=len(docs)),
            )
        )
        out[t] = list(zip(docs, freqs, strict=True))
    return out


def encode(index: dict[int, list[tuple[int, int]]]) -> tuple[object, list[int], list[int]]:
    terms = [t for t, posts in index.items() for _ in posts]
    docs = [d for posts in index.values() for d, _ in posts]
    freqs = [f for posts in index.values() for _, f in posts]
    enc = encode_postings(
        np.array(terms, dtype=np.int64),
        np.array(docs, dtype=np.int64),
        np.array(freqs, dtype=np.int64),
        len(index),
    )
    return enc, docs, freqs


@SETTINGS
@given(inverted())
def test_postings_round_trip(index: dict[int, list[tuple[int, int]]]) -> None:
    enc, _, _ = encode(index)
    data = np.frombuffer(enc.data, dtype=np.uint8)  # type: ignore[attr-defined]
    for t, posts in index.items():
        assert enc.df[t] == len(posts)  # type: ignore[attr-defined]
        assert enc.ttf[t] == sum(f for _, f in posts)  # type: ignore[attr-defined]
        if enc.df[t] == 1 and enc.ttf[t] == 1:  # type: ignore[attr-defined]
            assert enc.first[t] == posts[0][0]  # type: ignore[attr-defined]
            continue
        n_blocks = (len(posts) + BLOCK_SIZE - 1) // BLOCK_SIZE
        first = int(enc.first[t])  # type: ignore[attr-defined]
        ids = np.arange(first, first + n_blocks)
        docs, freqs = decode_blocks(enc.blocks, data, ids)  # type: ignore[attr-defined]
        assert docs.tolist() == [d for d, _ in posts]
        assert freqs.tolist() == [f for _, f in posts]
        # Skip data: the last document of every block.
        lasts = enc.blocks["last"][first : first + n_blocks].tolist()  # type: ignore[attr-defined]
        assert lasts == [
            posts[min(len(posts), (b + 1) * BLOCK_SIZE) - 1][0] for b in range(n_blocks)
        ]
        # Any subset of blocks, in any order, decodes independently.
        picks = ids[::-2]
        docs2, _ = decode_blocks(enc.blocks, data, picks)  # type: ignore[attr-defined]
        expect = [
            posts[i][0]
            for b in (picks - first).tolist()
            for i in range(b * BLOCK_SIZE, min(len(posts), (b + 1) * BLOCK_SIZE))
        ]
        assert docs2.tolist() == expect


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 3000), min_size=1, max_size=9), max_size=40))
def test_positions_round_trip(groups: list[list[int]]) -> None:
    groups = [sorted(set(g)) for g in groups]
    flat = np.array([p for g in groups for p in g], dtype=np.int64)
    freqs = np.array([len(g) for g in groups], dtype=np.int64)
    width, raw = encode_positions(flat, freqs)
    data = np.frombuffer(raw, dtype=np.uint8)
    starts = np.cumsum(freqs) - freqs
    assert decode_positions(data, width, starts, freqs).tolist() == flat.tolist()
    order = list(range(len(groups)))[::-1]
    got = decode_positions(data, width, starts[order], freqs[order]).tolist()
    assert got == [p for i in order for p in groups[i]]


# ------------------------------------------------------------------ terms dictionary

terms_strategy = st.sets(
    st.one_of(
        st.binary(max_size=12),
        st.sampled_from(["0x", "0xab", "0xabc", "vit", "vita"]).flatmap(
            lambda p: st.text("abcdef0123", max_size=6).map(lambda s: (p + s).encode())
        ),
    ),
    max_size=400,
)


@SETTINGS
@given(terms_strategy, st.lists(st.binary(max_size=8), max_size=10))
def test_terms_dictionary(terms: set[bytes], probes: list[bytes]) -> None:
    ordered = sorted(terms)
    enc = encode_terms(ordered)
    reader = TermDictionary(
        np.frombuffer(enc.blocks, dtype=np.uint8),
        enc.offsets,
        enc.first_ords,
        np.frombuffer(enc.index_blob, dtype=np.uint8),
        enc.index_offsets,
    )
    assert reader.size == len(ordered)
    for i, term in enumerate(ordered):
        assert reader.lookup(term) == i
        assert reader.term(i) == term
    for probe in [*probes, b"", b"\xff" * 9]:
        expected_ord = ordered.index(probe) if probe in terms else -1
        assert reader.lookup(probe) == expected_ord
        start = bisect.bisect_left(ordered, probe)
        assert [t for t, _ in reader.iterate(probe)] == ordered[start:]
        cursor = reader.enum()
        assert cursor.seek_ceil(probe) == (ordered[start] if start < len(ordered) else None)
    walked = []
    cursor = reader.enum()
    while (current := cursor.next()) is not None:
        walked.append((current, cursor.ordinal))
    assert walked == [(t, i) for i, t in enumerate(ordered)]
    for block in range(reader.block_count - 1):
        assert 25 <= len(reader.block(block)) <= 48


# ------------------------------------------------------------------ stored, points, norms...


@SETTINGS
@given(st.lists(st.binary(max_size=5000), max_size=60))
def test_stored_fields_round_trip(records: list[bytes]) -> None:
    writer = StoredFieldsWriter()
    for record in records:
        writer.add(record)
    data, first, offsets = writer.finish()
    reader = StoredFieldsReader(np.frombuffer(data, dtype=np.uint8), first, offsets, len(records))
    for doc in [*range(len(records))][::-1]:
        assert reader.get(doc) == records[doc]
    with pytest.raises(IndexError):
        reader.get(len(records))


point_values = st.one_of(
    st.integers(-1000, 1000), st.integers(POINT_MIN, POINT_MAX), st.integers(-(2**63), 2**63 - 1)
)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 50), point_values), max_size=80),
    st.lists(st.tuples(st.one_of(st.none(), point_values), st.one_of(st.none(), point_values))),
)
def test_points_ranges(pairs: list[tuple[int, int]], ranges: list[tuple[int, int]]) -> None:
    values = [v for _, v in pairs]
    docs = np.array([d for d, _ in pairs], dtype=np.int64)
    encoding, sorted_values, sorted_docs = encode_points(values, docs)
    reader = PointsReader(encoding, sorted_values, sorted_docs)
    for lower, upper in [*ranges, (None, None)]:
        expect = sorted(
            {d for d, v in pairs if (lower is None or v >= lower) and (upper is None or v <= upper)}
        )
        assert reader.docs_in_range(lower, upper).tolist() == expect


@given(st.lists(st.integers(0, 3), max_size=100))
def test_norms_round_trip(lengths: list[int]) -> None:
    array = np.array(lengths, dtype=np.int64)
    meta, raw = encode_norms(array)
    reader = NormsReader(meta, np.frombuffer(raw, dtype=np.uint8), len(lengths))
    present = np.flatnonzero(array > 0)
    assert reader.lengths(present).tolist() == array[present].tolist()
    live = np.array([i % 3 != 0 for i in range(len(lengths))], dtype=bool)
    assert reader.stats(live) == (
        sum(1 for i, n in enumerate(lengths) if n and live[i]),
        sum(n for i, n in enumerate(lengths) if live[i]),
    )


@given(st.lists(st.integers(-(2**62), 2**62), max_size=50))
def test_doc_values_round_trip(values: list[int]) -> None:
    meta, raw = encode_doc_values(np.array(values, dtype=np.int64))
    got = read_doc_values(meta, np.frombuffer(raw, dtype=np.uint8), len(values))
    assert got.tolist() == values


def test_live_docs_round_trip_and_damage(tmp_path: Path) -> None:
    live = np.array([True, False, True] * 7 + [False], dtype=bool)
    path = tmp_path / "_1_1.liv"
    write_live_docs(path, live)
    assert read_live_docs(path, len(live)).tolist() == live.tolist()
    with pytest.raises(IndexCorruptError, match="does not fit"):
        read_live_docs(path, len(live) + 1)
    raw = bytearray(path.read_bytes())
    raw[20] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="damaged"):
        read_live_docs(path, len(live))


def test_compound_file_and_damage(tmp_path: Path) -> None:
    path = tmp_path / "_0.seg"
    out = CompoundWriter(path)
    out.add("a", b"hello")
    out.add("b", np.arange(5, dtype="<i8"))
    out.finish({"k": 1})
    reader = CompoundReader(path)
    assert bytes(reader.part("a")) == b"hello"
    assert reader.array("b", "<i8").tolist() == [0, 1, 2, 3, 4]
    assert reader.meta == {"k": 1}
    reader.verify()
    with pytest.raises(IndexCorruptError, match="missing"):
        reader.part("c")
    raw = bytearray(path.read_bytes())
    raw[9] ^= 0xFF  # inside part "a": only the full checksum notices
    (tmp_path / "flipped.seg").write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="checksum"):
        CompoundReader(tmp_path / "flipped.seg").verify()
    (tmp_path / "cut.seg").write_bytes(bytes(raw[:-3]))
    with pytest.raises(IndexCorruptError, match="footer"):
        CompoundReader(tmp_path / "cut.seg")
    (tmp_path / "empty.seg").write_bytes(b"")
    with pytest.raises(IndexCorruptError, match="truncated"):
        CompoundReader(tmp_path / "empty.seg")
