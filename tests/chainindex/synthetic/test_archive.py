"""Writing archives: streamed, all or nothing, never over an existing file by accident."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from chainindex.errors import SyntheticChainError
from chainindex.synthetic import ChainGenerator, ChainShape, GenerationStats, write_archive

SHAPE = ChainShape(logs_per_block=20, contracts=500, holders=5000)


def test_writes_to_a_stream() -> None:
    out = io.BytesIO()
    stats = write_archive(ChainGenerator(SHAPE, 1), out, 30)
    assert out.getvalue().count(b"\n") == 30
    assert stats.blocks == 30
    assert stats.logs > 0


def test_existing_file_is_kept_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "chain.jsonl"
    target.write_bytes(b"precious")
    with pytest.raises(SyntheticChainError, match="exists"):
        write_archive(ChainGenerator(SHAPE, 1), target, 5)
    assert target.read_bytes() == b"precious"
    write_archive(ChainGenerator(SHAPE, 1), target, 5, overwrite=True)
    assert target.read_bytes().count(b"\n") == 5


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "chain.jsonl"
    calls: list[int] = []

    def interrupt(stats: GenerationStats, seconds: float) -> None:
        calls.append(stats.blocks)
        raise KeyboardInterrupt

    generator = ChainGenerator(SHAPE, 1)
    with pytest.raises(KeyboardInterrupt):
        write_archive(generator, target, 10_000, progress=interrupt)
    assert calls
    assert calls[0] < 10_000
    assert list(tmp_path.iterdir()) == []  # no target, no temporary file


def test_records_stream_one_at_a_time() -> None:
    # Asking for a trillion blocks returns at once: nothing is built ahead of the consumer
    # beyond the current batch.
    generator = ChainGenerator(SHAPE, 1)
    records = generator.records(10**12)
    first = next(records)
    assert first["block"]["number"] == "0x0"
    assert generator.stats.blocks == 1
    assert next(records)["block"]["number"] == "0x1"


_PEAK_RSS = """
import os, resource, sys
from chainindex.synthetic import ChainGenerator, ChainShape, write_archive
blocks = int(sys.argv[1])
with open(os.devnull, "wb") as out:
    # Few actors (both runs meet them all) and no string events (whose names and token ids
    # fill bounded caches): what remains to grow with the length would be a leak.
    mix = (("erc20", 0.8), ("weth", 0.1), ("uniswap-pair", 0.1))
    shape = ChainShape(logs_per_block=40, contracts=1000, holders=5000, mix=mix)
    write_archive(ChainGenerator(shape, 1), out, blocks)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kib(blocks: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(blocks)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(done.stdout.strip())


def test_memory_does_not_grow_with_length() -> None:
    short = _peak_rss_kib(1500)
    long = _peak_rss_kib(12_000)  # 8 times as long, about 480k logs
    # A leak of even 1 KiB per block would add 10 MiB here.
    assert long - short < 4 * 1024, (short, long)


def test_negative_counts_are_refused_at_once() -> None:
    generator = ChainGenerator(SHAPE, 1)
    with pytest.raises(SyntheticChainError):
        generator.records(-1)
    with pytest.raises(SyntheticChainError):
        write_archive(generator, io.BytesIO(), -1)
