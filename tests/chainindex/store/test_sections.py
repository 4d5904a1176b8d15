"""Bloom sections written with the Generator into a real LevelDB, and read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from eth_typing import Hash32

from bloombits.bitutil import decompress_bytes
from bloombits.generator import Generator
from chainindex.errors import ConfigMismatchError
from chainindex.store import LevelDBStore, SectionStore, open_datadir, schema

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


def test_write_and_range_read_round_trip(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    built = [random_section(i, fill) for i, fill in enumerate([0.0, 0.05, 0.5, 1.0, 0.3])]
    for i, vectors in enumerate(built):
        write(sections, i, vectors)
    assert sections.count() == 5
    assert sections.heads(0, 4) == [head(i) for i in range(5)]
    for bit in (0, 1, 777, 2047):
        blobs = sections.read_bit_vectors(bit, 1, 4)
        assert len(blobs) == 4
        for i, blob in enumerate(blobs, start=1):
            assert blob is not None
            assert decompress_bytes(blob, SIZE // 8) == built[i][bit].tobytes()


def test_unstored_sections_read_as_none(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    write(sections, 0, random_section(0, 0.5))
    assert sections.read_bit_vectors(5, 0, 2)[1:] == [None, None]
    assert sections.read_bit_vectors(5, 3, 2) == []


def test_sections_must_be_written_in_order(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    with pytest.raises(ValueError, match="out of order"), leveldb.batch() as batch:
        sections.write_section(batch, 1, head(1), random_section(1, 0.5))
    assert sections.count() == 0


def test_truncate_then_rewrite_under_new_head_hides_stale_vectors(leveldb: LevelDBStore) -> None:
    sections = SectionStore(leveldb, SIZE)
    old = [random_section(i, 0.5) for i in range(3)]
    for i, vectors in enumerate(old):
        write(sections, i, vectors)
    with leveldb.batch() as batch:
        sections.truncate(batch, 1)
    assert sections.count() == 1
    assert sections.read_bit_vectors(9, 0, 2)[1:] == [None, None]
    # No vector of a removed section is left behind.
    start, stop = schema.bloom_bits_range(0, 1, 2)
    assert list(leveldb.iterate(start, stop)) == []
    new = random_section(99, 0.05)
    write(sections, 1, new, salt=1)
    blob = sections.read_bit_vectors(9, 1, 1)[0]
    assert blob is not None
    assert decompress_bytes(blob, SIZE // 8) == new[9].tobytes()


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
    blob = sections.read_bit_vectors(100, 0, 0)[0]
    assert blob is not None
    assert decompress_bytes(blob, SIZE // 8) == vectors[100].tobytes()
    store.close()


def test_section_size_is_fixed_per_directory(leveldb: LevelDBStore) -> None:
    SectionStore(leveldb, SIZE)
    with pytest.raises(ConfigMismatchError, match="section size 64, not 128"):
        SectionStore(leveldb, 128)
