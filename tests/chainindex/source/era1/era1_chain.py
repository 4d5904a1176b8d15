"""The execution-apis fixture chain's pre-merge blocks (0..35) written as era1 files.

The raw block bodies come from the fixture's ``chain.rlp`` (the concatenated RLP blocks
1..54, split here with the independent ``rlp`` package; genesis has the empty body), the
headers and receipts from ``blocks.jsonl``; the total difficulty is the running sum of the
JSON ``difficulty`` fields (CHAINS.md: blocks 0..35 sum to the terminal total difficulty).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
import rlp

from chainindex.source.era1 import era1_tuple, write_era1_file
from tests.fixtures import execution_apis_archive, fixtures_dir

PRE_MERGE = 36
"""Blocks 0..35 are proof-of-work; 36 is the merge block."""
CHAIN_ID = 3503995874084926
"""The fixture chain's id (its genesis.json)."""


@cache
def records() -> tuple[dict[str, Any], ...]:
    """The fixture's JSON records of blocks 0..35."""
    with execution_apis_archive().open("rb") as f:
        return tuple(orjson.loads(line) for _, line in zip(range(PRE_MERGE), f, strict=False))


@cache
def bodies() -> tuple[bytes, ...]:
    """The raw RLP body ``[transactions, uncles]`` of blocks 0..35, from chain.rlp."""
    raw = (fixtures_dir() / "execution-apis" / "chain.rlp").read_bytes()
    out = [rlp.encode([[], []])]  # genesis: not in chain.rlp
    pos = 0
    while len(out) < PRE_MERGE:
        _, _, length, start = rlp.codec.consume_length_prefix(raw, pos)
        block = rlp.decode(raw[pos : start + length])
        out.append(rlp.encode(block[1:]))
        pos = start + length
    return tuple(out)


def total_difficulties() -> list[int]:
    """The running total difficulty of blocks 0..35."""
    out, td = [], 0
    for record in records():
        td += int(record["block"]["difficulty"], 16)
        out.append(td)
    return out


def write_fixture_era1(
    directory: Path, per_file: int = 8192, network: str = "fixture"
) -> list[Path]:
    """Blocks 0..35 as era1 files of ``per_file`` blocks each, in ``directory``."""
    tuples = [
        era1_tuple(record, body, td)  # type: ignore[arg-type]
        for record, body, td in zip(records(), bodies(), total_difficulties(), strict=True)
    ]
    return [
        write_era1_file(directory, network, epoch, tuples[start : start + per_file], start)
        for epoch, start in enumerate(range(0, PRE_MERGE, per_file))
    ]


def write_archive_prefix(path: Path) -> Path:
    """The chain archive of the same blocks 0..35 (the fixture's first 36 lines)."""
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records()))
    return path
