"""The end-to-end suite's chains: generated archives (cached), the queries asked of them, the
syncs that load them (``logfilter sync`` as a user runs it) and the sizes of what was stored.

A chain is one (scale, fill) pair of :mod:`chainindex.synthetic` (seed 1). It carries logs when
its archive fits ``max_archive_bytes`` (a full saturated archive takes about 380 KB per block),
else it is generated ``--headers-only`` and synced ``--no-logs``: its blooms are real, its logs
exist nowhere, so its queries stop at the candidate blocks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from chainindex.store import open_datadir, schema
from chainindex.store.codec import LogsRecord
from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape

REPO = Path(__file__).resolve().parent.parent
SEED = 1
"""Seed of every chain of the suite."""
TRANSFER = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
"""topic0 of ERC-20 (and ERC-721) Transfer."""
TRANSFER_SHARE = 0.70
"""Share of logs with the Transfer topic0 (ERC-20 66% + ERC-721 3%, BENCHMARKS.md, generator)."""
BYTES_PER_BLOCK = {"sparse": 18_400, "saturated": 378_200}
"""Full archive bytes per block (BENCHMARKS.md, synthetic chain generator)."""
HEADERS_BYTES_PER_BLOCK = 1_433


def parse_scale(text: str) -> int:
    """``10k``, ``100k``, ``1m`` or a plain number of blocks."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def label(blocks: int) -> str:
    """``10k``, ``1m``... for a number of blocks."""
    if blocks % 1_000_000 == 0:
        return f"{blocks // 1_000_000}m"
    if blocks % 1_000 == 0:
        return f"{blocks // 1_000}k"
    return str(blocks)


@dataclass(frozen=True)
class Query:
    """One filter of the suite, without its range."""

    kind: str
    """What it asks, for the tables."""
    addresses: tuple[bytes, ...]
    """Addresses (any of), empty for any."""
    topics: tuple[bytes | None, ...]
    """One value or None (any) per position."""
    logs_per_block: float
    """Expected matching logs per block (an upper estimate), to skip huge answers."""

    def filter(self, first: int, last: int) -> dict[str, Any]:
        """The eth_getLogs filter object over ``first..last``."""
        out: dict[str, Any] = {"fromBlock": hex(first), "toBlock": hex(last)}
        if self.addresses:
            out["address"] = ["0x" + a.hex() for a in self.addresses]
        if self.topics:
            out["topics"] = [None if t is None else "0x" + t.hex() for t in self.topics]
        return out

    @property
    def groups(self) -> list[list[bytes]]:
        """The bloom groups: every group must have one of its values in a block's bloom."""
        groups = [list(self.addresses)] if self.addresses else []
        return groups + [[t] for t in self.topics if t is not None]


@dataclass
class Chain:
    """One chain of the suite and where its files live."""

    blocks: int
    fill: str
    with_logs: bool
    workdir: Path
    generate_seconds: float | None = None
    """Generation time when generated in this run (None: cached)."""
    mean_logs: float = 0.0
    queries: list[Query] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{label(self.blocks)} {self.fill}" + ("" if self.with_logs else " (headers only)")

    @property
    def archive(self) -> Path:
        suffix = "" if self.with_logs else "-headers"
        return self.workdir / "chains" / f"{self.fill}-{self.blocks}{suffix}.jsonl"

    def datadir(self, mode: str) -> Path:
        return self.workdir / "data" / f"{self.fill}-{self.blocks}-{mode}"

    def ranges(self) -> list[int]:
        """Range lengths asked: 1k, 10k, 100k (those shorter than the chain) and the chain."""
        return [n for n in (1_000, 10_000, 100_000) if n < self.blocks] + [self.blocks]

    def window(self, length: int) -> tuple[int, int]:
        """The last ``length`` blocks of the chain (recent blocks, as users mostly ask)."""
        return self.blocks - length, self.blocks - 1


def make_chain(blocks: int, fill: str, workdir: Path, max_archive_bytes: float) -> Chain:
    """The chain's description and its queries (values picked by popularity rank)."""
    with_logs = blocks * BYTES_PER_BLOCK[fill] <= max_archive_bytes
    chain = Chain(blocks, fill, with_logs, workdir)
    gen = ChainGenerator(ChainShape(fill=FILL_PRESETS[fill]), seed=SEED)
    chain.mean_logs = gen.mean_logs
    # The rare address: the most popular contract expected to emit at most one log per
    # 1,000 blocks (so a few in a 10k range, none to a handful in 1k).
    rare = next(
        r for r in range(gen.shape.contracts) if gen.contract_share(r) * gen.mean_logs <= 1e-3
    )
    common = gen.contract(0)
    holder = b"\x00" * 12 + gen.holder(0)
    common_rate = gen.contract_share(0) * gen.mean_logs
    chain.queries = [
        Query(f"rare address (rank {rare})", (gen.contract(rare),), (),
              gen.contract_share(rare) * gen.mean_logs),
        Query("common address (rank 0)", (common,), (), common_rate),
        Query("topic only (Transfer)", (), (TRANSFER,), TRANSFER_SHARE * gen.mean_logs),
        Query("address + topics (rank 0 Transfers to top holder)", (common,),
              (TRANSFER, None, holder), common_rate),
    ]  # fmt: skip
    return chain


def ensure_archive(chain: Chain) -> None:
    """Generate the chain's archive unless a previous run left it (writes are atomic)."""
    if chain.archive.exists():
        return
    chain.archive.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "rpc.cli", "generate", "--blocks", str(chain.blocks),
        "--fill", chain.fill, "--seed", str(SEED), "--out", str(chain.archive), "--quiet",
    ] + ([] if chain.with_logs else ["--headers-only"])  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    chain.generate_seconds = time.perf_counter() - started


def run_sync(upstream: Path, datadir: Path, *flags: str) -> float:
    """Wall seconds of ``logfilter sync --no-follow --confirmations 0`` into a fresh
    ``datadir`` (the process as a user starts it, sections built as it goes)."""
    subprocess.run(["rm", "-rf", str(datadir)], check=True)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "rpc.cli", "sync", "--upstream", str(upstream),
        "--datadir", str(datadir), "--no-follow", "--confirmations", "0",
        "--log-interval", "3600", *flags,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(
        command, cwd=REPO, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


@dataclass
class StoreSizes:
    """Bytes of keys + values per kind of record (LevelDB compresses further on disk)."""

    vectors: int = 0
    headers: int = 0
    logs: int = 0
    other: int = 0
    log_count: int = 0
    on_disk: int = 0
    """Bytes of the LevelDB files (``du``), text index excluded."""
    text_index: int = 0
    """Bytes of DATADIR/textindex (0 when absent)."""


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def store_sizes(datadir: Path) -> StoreSizes:
    """Walk every record of the data directory once (the server must not hold it)."""
    sizes = StoreSizes()
    store = open_datadir(datadir)
    try:
        for key, value in store.iterate(b"", b"\xff"):
            n = len(key) + len(value)
            prefix = key[:1]
            if prefix in (schema.BLOOM_BITS_PREFIX, schema.BLOOM_ROWS_PREFIX):
                sizes.vectors += n
            elif prefix == schema.LOGS_PREFIX:
                sizes.logs += n
                sizes.log_count += len(LogsRecord.parse(value))
            elif prefix in (schema.HEADER_PREFIX, schema.CANONICAL_PREFIX,
                            schema.HASH_TO_NUMBER_PREFIX):  # fmt: skip
                sizes.headers += n
            else:
                sizes.other += n
    finally:
        store.close()
    text = datadir / "textindex"
    sizes.text_index = dir_bytes(text)
    sizes.on_disk = dir_bytes(datadir) - sizes.text_index
    return sizes


def dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_DATACLASS)
    )
