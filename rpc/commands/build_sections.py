"""``logfilter build-sections``: bloom sections from the headers of a chain archive.

A first look at the section build; ``logfilter sync`` does this and much more.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from eth_typing import Hash32

from bloombits.generator import Generator
from chainindex.errors import ArchiveError
from chainindex.store import SectionStore, open_datadir


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "build-sections", help="build bloom sections from the headers of a chain archive"
    )
    parser.add_argument("--archive", required=True, help="chain archive (.jsonl)")
    parser.add_argument("--datadir", required=True, help="data directory (LevelDB)")
    parser.add_argument("--section-size", type=int, default=4096, help="blocks per section")
    parser.set_defaults(run=run)


def _read_headers(archive: Path) -> tuple[list[bytes], list[Hash32]]:
    """Blooms and hashes of an archive's blocks, which must run 0, 1, 2, ..."""
    blooms: list[bytes] = []
    hashes: list[Hash32] = []
    with archive.open("rb") as f:
        for line_no, line in enumerate(f, start=1):
            try:
                block = orjson.loads(line)["block"]
                number = int(block["number"], 16)
                bloom = bytes.fromhex(block["logsBloom"][2:])
                block_hash = Hash32(bytes.fromhex(block["hash"][2:]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise ArchiveError(f"{archive}:{line_no}: not a block record: {err}") from None
            if number != len(hashes):
                raise ArchiveError(f"{archive}:{line_no}: block {number} out of order")
            blooms.append(bloom)
            hashes.append(block_hash)
    return blooms, hashes


def run(args: argparse.Namespace) -> int:
    """Build every complete section not yet stored and print one line per section."""
    size: int = args.section_size
    started = time.perf_counter()
    blooms, hashes = _read_headers(Path(args.archive))
    store = open_datadir(args.datadir)
    try:
        sections = SectionStore(store, size)
        built = 0
        for section in range(sections.count(), len(hashes) // size):
            first, last = section * size, (section + 1) * size - 1
            gen = Generator(size)
            gen.add_blooms(0, blooms[first : last + 1])
            with store.batch() as batch:
                sections.write_section(batch, section, hashes[last], gen.vectors())
            fill = float(np.mean(np.bitwise_count(gen.vectors()))) / 8
            print(
                f"section {section}: blocks {first}..{last}, head 0x{hashes[last].hex()[:16]}…, "
                f"{fill:.1%} of vector bits set"
            )
            built += 1
        took = time.perf_counter() - started
        print(
            f"{len(hashes)} headers read, {built} new sections built "
            f"({sections.count()} stored) in {took:.2f}s into {args.datadir}"
        )
    finally:
        store.close()
    return 0
