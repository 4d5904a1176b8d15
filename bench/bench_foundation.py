"""Foundation benchmark: keccak and bloom indexes, section rotation, section build end to end.

    python -m bench.bench_foundation [--repeats N]

Random blooms at a sparse (~5% of bits set) and a saturated (~50%) fill. "End to end" is one
section of 4096 blooms -> 2048 compressed vectors -> one synced write batch into a real
LevelDB in a temporary directory. "Completing a group" is the same for the section that
completes a group of 64, whose batch also moves the group's 64 sections into rows (reading
back the 63 stored ones): the cost paid once per 64 sections.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from eth_typing import Hash32

import bloombits.bloom as bloom
from bench.common import Table, machine, median_seconds
from bloombits.bitutil import compress_many, decompress_many
from bloombits.generator import Generator, rotate
from bloombits.keccak import keccak256
from chainindex.store import SectionStore, open_datadir

SECTION = 4096
FILLS = {"sparse (5%)": 0.05, "saturated (50%)": 0.50}


def random_blooms(fill: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.packbits(rng.random((SECTION, 2048)) < fill, axis=1)


def bench_hashing(repeats: int) -> None:
    table = Table("keccak256 and bloom indexes (32-byte values)", ["what", "rate (M/s)"])
    values = [os.urandom(32) for _ in range(100_000)]
    backends: dict[str, Callable[[bytes], bytes]] = {"keccak256 (pysha3, in use)": keccak256}
    try:
        from Crypto.Hash import keccak as cryptodome_keccak

        def cryptodome(value: bytes) -> bytes:
            digest: bytes = cryptodome_keccak.new(digest_bits=256, data=value).digest()
            return digest

        backends["keccak256 (pycryptodome, eth-hash's default)"] = cryptodome
    except ImportError:  # pragma: no cover
        pass

    def hash_all(fn: Callable[[bytes], object]) -> None:
        for value in values:
            fn(value)

    for name, fn in backends.items():
        table.add(name, len(values) / median_seconds(partial(hash_all, fn), repeats=repeats) / 1e6)
    clear = bloom.bloom_indexes.cache_clear
    seconds = median_seconds(partial(hash_all, bloom.bloom_indexes), setup=clear, repeats=repeats)
    table.add("bloom_indexes, distinct values", len(values) / seconds / 1e6)
    seconds = median_seconds(partial(hash_all, bloom.bloom_indexes), repeats=repeats)
    table.add("bloom_indexes, repeated values (cached)", len(values) / seconds / 1e6)
    table.print()


def build_and_store(blooms: np.ndarray, sections: SectionStore) -> None:
    """One section end to end: add blooms, rotate, compress, write in one synced batch."""
    section = sections.count()
    gen = Generator(SECTION)
    gen.add_blooms(0, blooms)
    with sections.kv.batch() as batch:
        head = Hash32(section.to_bytes(32, "big"))
        sections.write_section(batch, section, head, gen.vectors())


def bench_sections(repeats: int) -> None:
    table = Table(
        "One 4096-block section (median ms)",
        ["fill", "rotate", "compress 2048", "decompress 2048", "end to end", "compressed KiB"],
    )
    for name, fill in FILLS.items():
        blooms = random_blooms(fill)
        vectors = rotate(blooms)
        blobs = compress_many(vectors)
        t_rotate = median_seconds(partial(rotate, blooms), repeats=repeats)
        t_compress = median_seconds(partial(compress_many, vectors), repeats=repeats)
        t_decompress = median_seconds(partial(decompress_many, blobs, 512), repeats=repeats)
        with tempfile.TemporaryDirectory(prefix="lf-bench-") as tmp:
            store = open_datadir(tmp)
            sections = SectionStore(store, SECTION)
            t_e2e = median_seconds(partial(build_and_store, blooms, sections), repeats=repeats)
            store.close()
        size = sum(map(len, blobs)) / 1024
        table.add(name, t_rotate * 1e3, t_compress * 1e3, t_decompress * 1e3, t_e2e * 1e3, size)
    table.print()


def complete_then_undo(sections: SectionStore, blooms: np.ndarray) -> float:
    """Seconds to write the section that completes a group; then the group is truncated back
    to its per-section form (not timed) for the next run."""
    started = time.perf_counter()
    build_and_store(blooms, sections)
    took = time.perf_counter() - started
    with sections.kv.batch() as batch:
        sections.truncate(batch, sections.count() - 1)
    return took


def bench_groups(repeats: int) -> None:
    table = Table(
        "The section that completes a group of 64 (median ms; once per 64 sections)",
        ["fill", "end to end", "per section, amortized", "rows MiB", "per-section records MiB"],
    )
    for name, fill in FILLS.items():
        with tempfile.TemporaryDirectory(prefix="lf-bench-") as tmp:
            store = open_datadir(tmp)
            sections = SectionStore(store, SECTION)
            size = sections.group_size
            for seed in range(size - 1):
                build_and_store(random_blooms(fill, seed), sections)
            stored = sum(len(v) for _, v in store.iterate(b"B", b"C"))
            last = random_blooms(fill, size)

            times = [complete_then_undo(sections, last) for _ in range(repeats)]
            build_and_store(last, sections)
            rows = sum(len(v) for _, v in store.iterate(b"R", b"S"))
            store.close()
        took = statistics.median(times)
        per_section = stored * size / (size - 1)
        table.add(name, took * 1e3, took * 1e3 / size, rows / 2**20, per_section / 2**20)
    table.print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    bench_hashing(args.repeats)
    bench_sections(args.repeats)
    bench_groups(min(args.repeats, 5))


if __name__ == "__main__":
    main()
