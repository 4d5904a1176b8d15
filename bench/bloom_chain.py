"""A chain of header blooms for the matcher benchmark: blooms at a chosen fill, with a known
workload of logs planted in them, stored both as sections and as a flat bloom file.

Only blooms are needed here, for 20M blocks, so they are drawn directly rather than through
the full-block generator of :mod:`chainindex.synthetic`.

Each block's bloom has every one of its 2048 bits set independently with probability
``fill`` (the background noise of the thousands of addresses and topics a real block has;
44% is about a saturated mainnet block, 5% a quiet chain). On top of that, the workload
plants real logs: each of :data:`ADDRESSES` emits, in a block with probability
:data:`LOG_RATE`, a log with topics ``[TOPICS[0], TOPICS[1]]`` (say, a token transfer to
one watched account).

Both stores describe the same chain because both are written from the same blooms: the
sections through the real :class:`~bloombits.Generator` rotation, compression and
:class:`~chainindex.store.SectionStore`, the flat file as the blooms themselves
(``256`` bytes per block, in block order), which is what a naive per-header scan reads.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from eth_typing import Hash32

from bloombits.arrays import U8
from bloombits.bloom import BLOOM_BYTE_LENGTH, bloom_indexes
from bloombits.generator import rotate
from bloombits.keccak import keccak256
from chainindex.store import SectionStore, open_datadir
from chainindex.store.schema import SCHEMA_VERSION

__all__ = ["ADDRESSES", "FILLS", "LOG_RATE", "TOPICS", "ChainSpec", "build_chain"]


SECTION_SIZE = 4096
"""Blocks per section (geth's)."""

FILLS = {"saturated (44%)": 7 / 16, "sparse (5%)": 3 / 64}
"""Fractions of bloom bits set per block; products of fair coin flips, so cheap to draw."""

ADDRESSES = [keccak256(b"address %d" % i)[:20] for i in range(10)]
"""The watched contracts."""

TOPICS = [keccak256(b"Transfer(address,address,uint256)"), keccak256(b"watched account")]
"""The event signature and one indexed argument of the planted logs."""

LOG_RATE = 1e-4
"""Chance that a given watched contract emits a planted log in a given block."""


@dataclass(frozen=True)
class ChainSpec:
    """What a built chain directory holds (written beside it to reuse it)."""

    fill: float
    sections: int
    seed: int
    section_size: int = SECTION_SIZE
    schema: int = SCHEMA_VERSION
    """The store layout it was written with (a chain of another layout is rebuilt)."""


def _coins(rng: np.random.Generator, count: int) -> U8:
    """``count`` blooms of fair random bits."""
    raw = np.frombuffer(rng.bytes(count * BLOOM_BYTE_LENGTH), dtype=np.uint8)
    return raw.reshape(count, BLOOM_BYTE_LENGTH)


def random_blooms(rng: np.random.Generator, count: int, fill: float) -> U8:
    """``count`` blooms with each bit set with probability ``fill`` (7/16 or 3/64)."""
    if fill == 7 / 16:  # a & (b | c | d)
        return _coins(rng, count) & (_coins(rng, count) | _coins(rng, count) | _coins(rng, count))
    if fill == 3 / 64:  # a & b & c & d & (e | f)
        out = _coins(rng, count) & _coins(rng, count) & _coins(rng, count) & _coins(rng, count)
        return out & (_coins(rng, count) | _coins(rng, count))
    raise ValueError(f"unsupported fill {fill}")


def plant_logs(rng: np.random.Generator, blooms: U8) -> None:
    """Add the workload's logs to ``blooms`` in place."""
    count = len(blooms)
    for address in ADDRESSES:
        rows = np.flatnonzero(rng.random(count) < LOG_RATE)
        for value in (address, *TOPICS):
            for bit in bloom_indexes(value):
                blooms[rows, BLOOM_BYTE_LENGTH - 1 - bit // 8] |= np.uint8(1 << (bit % 8))


def build_chain(directory: Path, spec: ChainSpec, *, progress: bool = True) -> None:
    """Write the chain of ``spec`` into ``directory`` (``sections/`` LevelDB and
    ``blooms.bin``), unless it already holds exactly that chain."""
    marker = directory / "chain.json"
    if marker.exists() and json.loads(marker.read_text()) == asdict(spec):
        return
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    rng = np.random.default_rng(spec.seed)
    store = open_datadir(directory / "sections")
    try:
        sections = SectionStore(store, spec.section_size)
        with open(directory / "blooms.bin", "wb") as flat:
            for section in range(spec.sections):
                blooms = random_blooms(rng, spec.section_size, spec.fill)
                plant_logs(rng, blooms)
                flat.write(blooms.tobytes())
                head = Hash32(rng.bytes(32))
                with store.batch() as batch:
                    sections.write_section(batch, section, head, rotate(blooms))
                if progress and (section + 1) % 200 == 0:
                    print(f"  built {section + 1}/{spec.sections} sections", flush=True)
    finally:
        store.close()
    marker.write_text(json.dumps(asdict(spec)))
