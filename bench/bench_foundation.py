"""Foundation benchmark: keccak and bloom indexes, section rotation, section build end to end.

    python -m bench.bench_foundation [--repeats N]

Random blooms at a sparse (~5% of bits set) and a saturated (~50%) fill. "End to end" is one
section of 4096 blooms -> 2048 compressed vectors -> one synced write batch into a real
LevelDB in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

import numpy as np
from eth_typing import Hash32

from bench.common import Table, machine, median_seconds
from bloombits import bloom
from bloombits.bitutil import compress_many, decompress_many
from bloombits.generator import Generator, rotate
from chainindex.store import SectionStore, open_datadir

SECTION = 4096
FILLS = {"sparse (5%)": 0.05, "saturated (50%)": 0.50}


def random_blooms(fill: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.packbits(rng.random((SECTION, 2048)) < fill, axis=1)


def bench_hashing(repeats: int) -> None:
    table = Table("keccak256 and bloom indexes (32-byte values)", ["what", "rate (M/s)"])
    values = [os.urandom(32) for _ in range(100_000)]
    backends = {"keccak256 (pysha3, in use)": bloom.keccak256}
    try:
        from Crypto.Hash import keccak as cryptodome_keccak

        backends["keccak256 (pycryptodome, eth-hash's default)"] = lambda v: (
            cryptodome_keccak.new(digest_bits=256, data=v).digest()
        )
    except ImportError:  # pragma: no cover
        pass
    for name, fn in backends.items():
        seconds = median_seconds(lambda fn=fn: [fn(v) for v in values], repeats=repeats)
        table.add(name, len(values) / seconds / 1e6)

    def uncached() -> None:
        bloom.bloom_indexes.cache_clear()
        for v in values:
            bloom.bloom_indexes(v)

    table.add("bloom_indexes, distinct values", len(values) / median_seconds(uncached) / 1e6)
    seconds = median_seconds(lambda: [bloom.bloom_indexes(v) for v in values], repeats=repeats)
    table.add("bloom_indexes, repeated values (cached)", len(values) / seconds / 1e6)
    table.print()


def bench_sections(repeats: int) -> None:
    table = Table(
        "One 4096-block section (median ms)",
        ["fill", "rotate", "compress 2048", "decompress 2048", "end to end", "compressed KiB"],
    )
    for name, fill in FILLS.items():
        blooms = random_blooms(fill)
        vectors = rotate(blooms)
        blobs = compress_many(vectors)
        t_rotate = median_seconds(lambda b=blooms: rotate(b), repeats=repeats)
        t_compress = median_seconds(lambda v=vectors: compress_many(v), repeats=repeats)
        t_decompress = median_seconds(lambda c=blobs: decompress_many(c, 512), repeats=repeats)
        tmp = tempfile.mkdtemp(prefix="lf-bench-")
        store = open_datadir(tmp)
        sections = SectionStore(store, SECTION)
        counter = iter(range(10**9))

        def end_to_end(blooms: np.ndarray = blooms) -> None:
            section = next(counter)
            gen = Generator(SECTION)
            gen.add_blooms(0, blooms)
            with store.batch() as batch:
                sections.write_section(
                    batch, section, Hash32(section.to_bytes(32, "big")), gen.vectors()
                )

        t_e2e = median_seconds(end_to_end, repeats=repeats)
        store.close()
        shutil.rmtree(tmp)
        size = sum(map(len, blobs)) / 1024
        table.add(name, t_rotate * 1e3, t_compress * 1e3, t_decompress * 1e3, t_e2e * 1e3, size)
    table.print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    bench_hashing(args.repeats)
    bench_sections(args.repeats)


if __name__ == "__main__":
    main()
