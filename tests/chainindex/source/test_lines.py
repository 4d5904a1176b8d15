"""Seeking in an archive by bisection, against a linear scan written here: generated
archives of hash-linked headers (lines of varying length), some cut off mid-line or with an
unreadable or empty line; reads in random order. Then the archive source on top: the same
blocks, and errors naming the true line even when lines are missing before a bisection."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainindex.errors import ArchiveError
from chainindex.source import ArchiveSource
from chainindex.source.lines import CHECKPOINT_EVERY, ArchiveLines


def _records(first: int, count: int, seed: int) -> list[bytes]:
    """``count`` hash-linked headers from block ``first``, one JSON line each (no newline),
    padded to random lengths so that lines are not all the same size."""
    rng = random.Random(seed)
    parent = "0x" + "00" * 32
    out = []
    for n in range(first, first + count):
        block_hash = "0x" + n.to_bytes(32, "big").hex()
        block = {
            "number": hex(n), "hash": block_hash, "parentHash": parent,
            "timestamp": hex(1000 + n), "logsBloom": "0x" + "00" * 256, "transactions": [],
            "extraData": "0x" + "ab" * rng.randrange(0, 400),
        }  # fmt: skip
        out.append(orjson.dumps({"block": block}))
        parent = block_hash
    return out


def _linear(data: bytes) -> list[bytes]:
    """The reference: every line of the file, as ``readline`` gives it, in order."""
    return data.splitlines(keepends=True)


archives = st.builds(
    lambda first, count, seed, damage, where, reads: (first, count, seed, damage, where, reads),
    first=st.integers(0, 10**7),
    count=st.integers(1, 4 * CHECKPOINT_EVERY),
    seed=st.integers(0, 2**16),
    damage=st.sampled_from(["none", "cut", "garbage", "empty"]),
    where=st.floats(0, 1),
    reads=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.booleans()), max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives)
def test_bisection_finds_the_lines_a_linear_scan_finds(case: tuple) -> None:  # type: ignore[type-arg]
    first, count, seed, damage, where, reads = case
    lines = _records(first, count, seed)
    bad = min(int(where * count), count - 1)
    if damage == "garbage":
        lines[bad] = b'{"block": {"number": "0xzz"'
    elif damage == "empty":
        lines[bad] = b""
    data = b"\n".join(lines) + b"\n"
    if damage == "cut":
        data = data[: -1 - len(lines[-1]) // 2]  # the last line loses its second half
    reference = _linear(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        path.write_bytes(data)
        with path.open("rb") as f:
            index = ArchiveLines(f, first)
            for at, span, counted in reads:
                start = first + min(int(at * count), count - 1)
                last = min(start + span, first + count - 1)
                got, exact = index.read(start, last, counted=counted)
                want = reference[start - first : last - first + 1]
                # Lines keep their place here (none missing): numbers are true either way.
                assert [line for _, line in got] == want
                assert [n for n, _ in got] == list(range(start - first + 1, last - first + 2))
                assert exact or not counted


def test_a_far_seek_reads_a_few_lines_not_all_before_it(tmp_path: Path) -> None:
    count = 40 * CHECKPOINT_EVERY
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join(_records(0, count, 1)) + b"\n")

    class Counting:
        def __init__(self, f: object) -> None:
            self.f = f
            self.readlines = 0

        def readline(self) -> bytes:
            self.readlines += 1
            return self.f.readline()  # type: ignore[attr-defined, no-any-return]

        def __getattr__(self, name: str) -> object:
            return getattr(self.f, name)

    with path.open("rb") as f:
        counting = Counting(f)
        index = ArchiveLines(counting, 0)  # type: ignore[arg-type]
        got, exact = index.read(count - 10, count - 1)
        assert [orjson.loads(line)["block"]["number"] for _, line in got] == [
            hex(n) for n in range(count - 10, count)
        ]
        assert not exact  # assumed from the block number
        assert counting.readlines < 100  # a linear scan: 10,240
        counting.readlines = 0
        got, exact = index.read(count - 10, count - 1, counted=True)
        assert exact
        assert counting.readlines >= count - 1
        assert [n for n, _ in got] == list(range(count - 9, count + 1))


async def test_blocks_after_a_bisection_and_errors_name_the_true_line(tmp_path: Path) -> None:
    count = 8 * CHECKPOINT_EVERY
    lines = _records(0, count, 2)
    del lines[100]  # block 100 is missing: every later block is one line up
    lines[1503] = b"{not json"  # block 1504's line, line 1504 of the file
    path = tmp_path / "gap.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = ArchiveSource(path, verify=False)  # made-up hashes
    try:
        # Far from the start: found by bisection, served by number.
        blocks = await source.blocks(1490, 1500, with_logs=False)
        assert [b.header.number for b in blocks] == list(range(1490, 1501))
        assert [b.header.timestamp for b in blocks] == [1000 + n for n in range(1490, 1501)]
        # A read that meets a bad line (1504, assumed 1505 from its block number) is read
        # again counting lines, as without bisection: line 1501, where block 1500 belongs,
        # holds block 1501, and the error names that true line.
        with pytest.raises(
            ArchiveError, match=r"gap.jsonl:1501: block 1500: the upstream answered with block 1501"
        ) as info:
            await source.blocks(1500, 1510, with_logs=False)
        assert info.value.good == ()
        # Near the start no bisection: the missing block is reported on its line.
        with pytest.raises(ArchiveError, match=r"gap.jsonl:101: block 100: .* block 101"):
            await source.blocks(90, 110, with_logs=False)
    finally:
        await source.aclose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(2 * CHECKPOINT_EVERY, 5 * CHECKPOINT_EVERY),
    cut=st.booleans(),
    reads=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 30)), min_size=1, max_size=8),
)
async def test_the_source_serves_what_a_linear_scan_reads(
    count: int, cut: bool, reads: list[tuple[float, int]]
) -> None:
    lines = _records(0, count, count)
    data = b"\n".join(lines) + b"\n"
    if cut:
        data = data[: -1 - len(lines[-1]) // 3]
    reference = [orjson.loads(line)["block"] for line in _linear(data)[: count - cut]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.jsonl"
        path.write_bytes(data)
        source = ArchiveSource(path, verify=False)
        try:
            assert source.last == count - 1 - cut
            for at, span in reads:
                start = min(int(at * count), source.last)
                last = min(start + span, source.last)
                if cut and last == source.last:  # the cut-off line comes after the last block
                    with pytest.raises(ArchiveError, match=rf"a.jsonl:{count}: not JSON") as info:
                        await source.blocks(start, last, with_logs=False)
                    blocks = list(info.value.good)
                else:
                    blocks = await source.blocks(start, last, with_logs=False)
                want = reference[start : last + 1]
                assert [hex(b.header.number) for b in blocks] == [w["number"] for w in want]
                assert [b.header.hash.hex() for b in blocks] == [w["hash"][2:] for w in want]
        finally:
            await source.aclose()
