"""Bloom sections written with the Generator into a real LevelDB, and read back."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from eth_typing import Hash32
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bloombits.bitutil import decompress_bytes
from bloombits.generator import Generator
from chainindex.errors import ConfigMismatchError, CorruptDataError
from chainindex.store import LevelDBStore, SectionStore, open_datadir, schema
from chainindex.store.rows import decode_rows, encode_rows, row_mask

SIZE = 64


def random_section(seed: int, fill: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gen = Generator(SIZE)
    gen.add_blooms(0, np.packbits(rng.random((SIZE, 2048)) < fill, axis=1))
    return gen.vectors()


def head(i: int, salt: int = 0) -> Hash32:
    return Hash32(bytes([salt]) + i.to_bytes(31, "big"))


def write(sections: SectionStore, index: int, vectors: np.ndarray, salt: int = 0) -> None:
    with sections.kv.batch() as batch:
        sections.write_section(batch, index, head(index, salt), vectors)


def write_all(
    sections: SectionStore, built: list[np.ndarray], start: int = 0, salt: int = 0
) -> None:
    """Write ``built`` as sections ``start``, ``start + 1``, ..."""
    for i, vectors in enumerate(built, start=start):
        write(sections, i, vectors, salt)


def truncate(sections: SectionStore, count: int) -> None:
    with sections.kv.batch() as batch:
        sections.truncate(batch, count)


def test_write_and_range_read_round_trip(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    built = [random_section(i, fill) for i, fill in enumerate([0.0, 0.05, 0.5, 1.0, 0.3])]
    write_all(sections, built)
    assert sections.count() == 5
    assert sections.heads(0, 4) == [head(i) for i in range(5)]
    for bit in (0, 1, 777, 2047):
        vectors, found = sections.read_vectors(bit, 1, 4)
        assert found.all()
        for i, row in enumerate(vectors, start=1):
            assert row.tobytes() == built[i][bit].tobytes()
    # The records are go-ethereum's: compressed vectors under B · bit · section · head.
    blob = leveldb.get(schema.bloom_bits_key(777, 2, head(2)))
    assert blob is not None
    assert decompress_bytes(blob, SIZE // 8) == built[2][777].tobytes()


def test_unstored_sections_read_as_none(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    write(sections, 0, random_section(0, 0.5))
    assert sections.read_vectors(5, 0, 2)[1].tolist() == [True, False, False]
    assert not sections.read_vectors(5, 0, 2)[0][1:].any()
    assert sections.read_vectors(5, 3, 2)[0].shape == (0, SIZE // 8)


def test_sections_must_be_written_in_order(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    with pytest.raises(ValueError, match="out of order"), leveldb.batch() as batch:
        sections.write_section(batch, 1, head(1), random_section(1, 0.5))
    assert sections.count() == 0


def test_truncate_then_rewrite_under_new_head_hides_stale_vectors(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    old = [random_section(i, 0.5) for i in range(3)]
    write_all(sections, old)
    truncate(sections, 1)
    assert sections.count() == 1
    assert sections.read_vectors(9, 0, 2)[1].tolist() == [True, False, False]
    # No vector of a removed section is left behind.
    start, stop = schema.bloom_bits_range(0, 1, 2)
    assert list(leveldb.iterate(start, stop)) == []
    new = random_section(99, 0.05)
    write(sections, 1, new, salt=1)
    vectors, found = sections.read_vectors(9, 1, 1)
    assert found.all()
    assert vectors[0].tobytes() == new[9].tobytes()


def test_a_failed_batch_writes_no_part_of_a_section(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)

    def crash_before_commit() -> None:
        with leveldb.batch() as batch:
            sections.write_section(batch, 0, head(0), random_section(0, 0.5))
            raise RuntimeError("killed before commit")

    with pytest.raises(RuntimeError):
        crash_before_commit()
    assert sections.count() == 0
    assert list(leveldb.iterate(b"B", b"C")) == []


def test_sections_survive_reopen(datadir: Path) -> None:
    store = open_datadir(datadir)
    vectors = random_section(3, 0.3)
    write(SectionStore(store, SIZE), 0, vectors)
    store.close()
    store = open_datadir(datadir)
    sections = SectionStore(store, SIZE)
    found, present = sections.read_vectors(100, 0, 0)
    assert present.all()
    assert found[0].tobytes() == vectors[100].tobytes()
    store.close()


def test_section_size_is_fixed_per_directory(leveldb: LevelDBStore) -> None:
    SectionStore(leveldb, SIZE)
    with pytest.raises(ConfigMismatchError, match="section size 64, not 128"):
        SectionStore(leveldb, 128)


# --- rows: whole groups of sections, one record per bit ------------------------------------


def row_keys(leveldb: LevelDBStore) -> list[tuple[int, int, bytes]]:
    """(bit, group, head) of every row record."""
    return [schema.parse_bloom_bits_key(k, b"R") for k, _ in leveldb.iterate(b"R", b"S")]


def section_keys(leveldb: LevelDBStore) -> set[int]:
    """Sections that have at least one B record."""
    return {schema.parse_bloom_bits_key(k)[1] for k, _ in leveldb.iterate(b"B", b"C")}


def assert_reads(sections: SectionStore, built: list[np.ndarray], bits: tuple[int, ...]) -> None:
    """Every range of sections reads back as written, for ``bits``."""
    for bit in bits:
        for first in range(len(built)):
            for last in range(first, len(built)):
                vectors, found = sections.read_vectors(bit, first, last)
                assert found.all(), (bit, first, last)
                expected = np.stack([v[bit] for v in built[first : last + 1]])
                assert (vectors == expected).all(), (bit, first, last)


def test_a_completed_group_moves_into_rows(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=4)
    built = [random_section(i, [0.02, 0.5, 1.0][i % 3]) for i in range(10)]
    for i, vectors in enumerate(built):
        write(sections, i, vectors)
        complete = (i + 1) // 4
        assert {(g, h) for _, g, h in row_keys(leveldb)} == {
            (g, head(4 * g + 3)) for g in range(complete)
        }
        assert section_keys(leveldb) == set(range(4 * complete, i + 1))
    assert len(row_keys(leveldb)) == 2 * 2048
    assert_reads(sections, built, (0, 5, 1500, 2047))


def test_rows_take_the_form_their_density_calls_for() -> None:
    rng = np.random.default_rng(5)
    rows = np.packbits(rng.random((3, 4096 * 8)) < [[0.002], [0.5], [0.05]], axis=1)
    values = encode_rows(rows)
    assert [v[:1] for v in values] == [b"\x01", b"\x00", b"\x02"]  # compressed, raw, masked
    assert [len(v) for v in values][1:] == [4097, 4097]
    assert values[2][1:] != rows[2].tobytes()
    decoded = decode_rows(values, 8, 512, "test")
    assert all((d.reshape(-1) == r).all() for d, r in zip(decoded, rows, strict=True))


@pytest.mark.parametrize("fill", [0.001, 0.05, 0.5])
def test_rows_read_back_at_every_density(leveldb: LevelDBStore, fill: float) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=2)
    built = [random_section(i, fill) for i in range(2)]
    write_all(sections, built)
    assert_reads(sections, built, tuple(range(0, 2048, 97)))


def test_the_row_mask_is_keccak_of_a_counter() -> None:
    mask = row_mask(70).tobytes()
    expected = b"".join(keccak(b"logfilter row mask" + i.to_bytes(4, "big")) for i in range(3))
    assert mask == expected[:70]


def test_truncating_into_a_group_puts_its_kept_sections_back(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=4)
    old = [random_section(i, 0.3) for i in range(9)]
    write_all(sections, old)
    truncate(sections, 6)
    assert sections.count() == 6
    assert {g for _, g, _ in row_keys(leveldb)} == {0}
    assert section_keys(leveldb) == {4, 5}
    assert_reads(sections, old[:6], (3, 2047))
    assert not sections.read_vectors(3, 6, 8)[1].any()
    # Rewritten under new heads, the group moves into rows again, with the new vectors.
    new = [random_section(100 + i, 0.05) for i in range(6, 9)]
    write_all(sections, new, start=6, salt=1)
    assert {(g, h) for _, g, h in row_keys(leveldb)} == {(0, head(3)), (1, head(7, salt=1))}
    assert_reads(sections, old[:6] + new, (3, 2047))
    # Truncating at a group boundary drops its rows, and nothing is put back.
    truncate(sections, 4)
    assert {g for _, g, _ in row_keys(leveldb)} == {0}
    assert section_keys(leveldb) == set()
    assert_reads(sections, old[:4], (3,))


def test_a_group_below_the_first_section_stays_per_section(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=4)
    with leveldb.batch() as batch:  # what a sync that starts at section 3 records
        batch.put(schema.meta_key(schema.META_SECTION_FIRST), schema.encode_u64(3))
        batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(3))
    built = {i: random_section(i, 0.3) for i in range(3, 9)}
    for i, vectors in built.items():
        write(sections, i, vectors)
    assert {g for _, g, _ in row_keys(leveldb)} == {1}
    assert section_keys(leveldb) == {3, 8}
    vectors, found = sections.read_vectors(7, 2, 8)
    assert found.tolist() == [False] + [True] * 6
    assert all(vectors[i - 2].tobytes() == built[i][7].tobytes() for i in built)


def test_a_row_under_a_stale_head_is_not_read(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=2)
    for i in range(2):
        write(sections, i, random_section(i, 0.5))
    value = leveldb.get(schema.bloom_row_key(9, 0, head(1)))
    assert value is not None
    with leveldb.batch() as batch:
        batch.delete(schema.bloom_row_key(9, 0, head(1)))
        batch.put(schema.bloom_row_key(9, 0, head(1, salt=7)), value)
    assert sections.read_vectors(9, 0, 1)[1].tolist() == [False, False]


def test_a_malformed_row_is_corrupt_data(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=2)
    for i in range(2):
        write(sections, i, random_section(i, 0.5))
    for bad in (b"", b"\x00" + bytes(3), b"\x02" + bytes(15), b"\x03" + bytes(16), b"\x01\xff"):
        with leveldb.batch() as batch:
            batch.put(schema.bloom_row_key(9, 0, head(1)), bad)
        with pytest.raises(CorruptDataError, match="malformed"):
            sections.read_vectors(9, 0, 1)


def test_group_size_is_fixed_per_directory(leveldb: LevelDBStore) -> None:
    assert SectionStore(leveldb, SIZE).group_size == 64
    assert SectionStore(leveldb, SIZE, group_size=64).group_size == 64
    with pytest.raises(ConfigMismatchError, match="groups 64 sections per row, not 8"):
        SectionStore(leveldb, SIZE, group_size=8)


def test_a_version_1_directory_moves_into_rows_as_it_grows(datadir: Path) -> None:
    store = open_datadir(datadir)
    sections = SectionStore(store, SIZE, group_size=1000)
    built = [random_section(i, 0.3) for i in range(6)]
    for i in range(3):
        write(sections, i, built[i])
    with store.batch() as batch:  # version 1 had no group size and no rows
        batch.delete(schema.meta_key(schema.META_SECTION_GROUP))
        batch.put(schema.SCHEMA_KEY, (1).to_bytes(4, "big"))
    store.close()
    store = open_datadir(datadir)
    sections = SectionStore(store, SIZE, group_size=4)
    for i in range(3, 6):
        write(sections, i, built[i])
    assert {g for _, g, _ in row_keys(store)} == {0}
    assert section_keys(store) == {4, 5}
    assert_reads(sections, built, (0, 1234))
    store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    group=st.integers(1, 4),
    steps=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=6),
    first=st.integers(0, 3),
)
def test_reads_equal_a_reference_through_writes_and_truncations(
    group: int, steps: list[tuple[int, int]], first: int
) -> None:
    """Append ``n`` sections then truncate ``k`` of them, step after step (a chain that
    grows and reorganises), from a first section ``first``; every read equals what a plain
    dictionary of the live sections says."""
    size = 8
    rng = np.random.default_rng(group * 1000 + first)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_datadir(Path(tmp) / "dd")
        try:
            sections = SectionStore(store, size, group_size=group)
            with store.batch() as batch:
                batch.put(schema.meta_key(schema.META_SECTION_FIRST), schema.encode_u64(first))
                batch.put(schema.meta_key(schema.META_SECTION_COUNT), schema.encode_u64(first))
            live: dict[int, np.ndarray] = {}
            for salt, (grow, cut) in enumerate(steps):
                for _ in range(grow):
                    index = sections.count()
                    live[index] = rng.integers(0, 256, (2048, 1), dtype=np.uint8)
                    with store.batch() as batch:
                        sections.write_section(batch, index, head(index, salt), live[index])
                keep = max(first, sections.count() - cut)
                with store.batch() as batch:
                    sections.truncate(batch, keep)
                live = {i: v for i, v in live.items() if i < keep}
                top = first + len(live) + 2
                for bit in (0, 2047):
                    vectors, found = sections.read_vectors(bit, 0, top)
                    assert found.tolist() == [i in live for i in range(top + 1)]
                    for i, vector in live.items():
                        assert vectors[i].tobytes() == vector[bit].tobytes()
                # Each live section is in exactly one form: its own records, or its row.
                rows = {g for _, g, _ in row_keys(store)}
                assert section_keys(store) == {i for i in live if i // group not in rows}
                assert all(g * group >= first for g in rows)
                assert len(row_keys(store)) == 2048 * len(rows)
        finally:
            store.close()


def test_a_group_missing_a_vector_is_not_moved(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE, group_size=3)
    for i in range(2):
        write(sections, i, random_section(i, 0.3))
    with leveldb.batch() as batch:
        batch.delete(schema.bloom_bits_key(1000, 1, head(1)))
    with pytest.raises(CorruptDataError, match="exactly one current vector per bit"):
        write(sections, 2, random_section(2, 0.3))
    assert sections.count() == 2
    assert row_keys(leveldb) == []
