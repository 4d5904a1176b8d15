"""The chain-archive source on the real fixture archive, damaged archives, and export."""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson
import pytest

from chainindex.errors import ArchiveError, LogsUnavailableError, MissingBlockError
from chainindex.source import ArchiveSource, write_archive
from chainindex.source.archive import CHECKPOINT_EVERY
from tests.chainindex.reference import reference_header, reference_logs
from tests.fixtures import execution_apis_archive, mainnet_block_files


def lines() -> list[bytes]:
    return execution_apis_archive().read_bytes().splitlines()


async def test_reads_any_range_in_any_order() -> None:
    records = [orjson.loads(line) for line in lines()]
    source = ArchiveSource(execution_apis_archive())
    try:
        assert (source.first, source.last) == (0, 54)
        assert await source.latest() == reference_header(records[54]["block"])
        assert await source.chain_id() is None
        rng = random.Random(4)
        for _ in range(25):
            first = rng.randrange(55)
            last = rng.randrange(first, min(first + 12, 55))
            blocks = await source.blocks(first, last, with_logs=True)
            for block, record in zip(blocks, records[first : last + 1], strict=True):
                assert block.header == reference_header(record["block"])
                assert block.logs is not None
                assert list(block.logs) == reference_logs(record["block"], record["receipts"])
        assert await source.header_at(60) is None
        header = await source.header_at(2)
        assert header is not None
        logs = await source.block_logs(header)
        assert len(logs) == 67
        assert sum(len(log.data) for log in logs) == 10_640_352
    finally:
        await source.aclose()


async def test_seeks_in_a_long_archive(tmp_path: Path) -> None:
    # The fixture repeated 12 times is not a chain, but each line is still a valid record
    # with its own number: renumbering is not possible without rehashing, so check seeking
    # through checkpoints with a headers-only archive of hash-linked synthetic headers.
    path = tmp_path / "long.jsonl"
    parent = "0x" + "00" * 32
    with path.open("wb") as f:
        for n in range(3 * CHECKPOINT_EVERY + 5):
            block_hash = "0x" + n.to_bytes(32, "big").hex()
            block = {
                "number": hex(n), "hash": block_hash, "parentHash": parent,
                "timestamp": hex(1000 + n), "logsBloom": "0x" + "00" * 256, "transactions": [],
            }  # fmt: skip
            f.write(orjson.dumps({"block": block}) + b"\n")
            parent = block_hash
    source = ArchiveSource(path, verify=False)  # made-up hashes
    try:
        for first in (700, 3, 512, 513, 255, 256, 0, 772):
            blocks = await source.blocks(first, min(first + 4, 772), with_logs=False)
            assert [b.header.number for b in blocks] == list(range(first, min(first + 4, 772) + 1))
            assert blocks[0].header.timestamp == 1000 + first
        with pytest.raises(
            ArchiveError, match=r"long.jsonl:11: block 10 has no receipts .* --no-logs"
        ):
            await source.blocks(10, 12, with_logs=True)
        header = await source.header_at(5)
        assert header is not None
        with pytest.raises(LogsUnavailableError, match="no receipts for it"):
            await source.block_logs(header)
    finally:
        await source.aclose()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ls: [*ls[:5], b"{not json", *ls[6:]], r"bad.jsonl:6: not JSON"),
        (lambda ls: [*ls[:5], b'{"receipts": []}', *ls[6:]], r"bad.jsonl:6: not a chain-archive"),
        (
            lambda ls: [*ls[:5], *ls[6:]],
            r"bad.jsonl:6: block 5: the upstream answered with block 6",
        ),
        (lambda ls: [*ls[:5], ls[4], *ls[5:]], r"bad.jsonl:6: block 5: the upstream answered"),
        (
            lambda ls: [*ls[:3], ls[3].replace(b'"0x3"', b'"0x4"', 1), *ls[4:]],
            r"bad.jsonl:4: block 3",
        ),
    ],
)
async def test_damaged_archives_name_file_and_line(
    tmp_path: Path, damage: object, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(damage(lines())) + b"\n")  # type: ignore[operator]
    source = ArchiveSource(path)
    bad_line = int(message.split(":")[1])
    try:
        with pytest.raises(ArchiveError, match=message) as info:
            await source.blocks(0, 10, with_logs=True)
        # The good blocks before the bad line come with the error (sync commits them).
        assert [b.header.number for b in info.value.good] == list(range(bad_line - 1))
    finally:
        await source.aclose()


@pytest.mark.parametrize("cut", [1, 40, 200])
async def test_an_archive_cut_off_mid_line_serves_the_blocks_before_it(
    tmp_path: Path, cut: int
) -> None:
    whole = lines()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b"\n".join(whole)[:-cut])  # the last line loses its end, no newline
    source = ArchiveSource(path)
    try:
        assert source.defect is not None
        assert str(source.defect).startswith(f"{path}:{len(whole)}: not JSON")
        last = len(whole) - 2  # blocks 0..n-1 on lines 1..n; the last line is cut
        assert source.last == last
        assert (await source.header_at(last)) is not None
        assert [b.header.number for b in await source.blocks(0, last - 1, with_logs=True)] == list(
            range(last)
        )
        with pytest.raises(ArchiveError, match=rf"cut.jsonl:{len(whole)}: not JSON") as info:
            await source.blocks(last - 3, last, with_logs=True)
        assert [b.header.number for b in info.value.good] == list(range(last - 3, last + 1))
    finally:
        await source.aclose()
    single = tmp_path / "single.jsonl"
    single.write_bytes(whole[0][:-cut])
    with pytest.raises(ArchiveError, match=r"single.jsonl:1: not JSON"):
        ArchiveSource(single)


def test_unreadable_archives(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"cannot read archive .*missing.jsonl"):
        ArchiveSource(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n\n")
    with pytest.raises(ArchiveError, match="empty archive"):
        ArchiveSource(empty)
    with pytest.raises(ArchiveError, match="cannot read archive"):
        ArchiveSource(tmp_path)


async def test_export_reproduces_the_archive_byte_for_byte(tmp_path: Path) -> None:
    source = ArchiveSource(execution_apis_archive())
    out = tmp_path / "copy.jsonl"
    try:
        assert await write_archive(source, 0, 54, out, chunk=7) == 55
    finally:
        await source.aclose()
    assert out.read_bytes() == execution_apis_archive().read_bytes()
    assert not (tmp_path / "copy.jsonl.tmp").exists()


async def test_failed_export_leaves_no_file(tmp_path: Path) -> None:
    source = ArchiveSource(execution_apis_archive())
    out = tmp_path / "partial.jsonl"
    try:
        with pytest.raises(MissingBlockError, match="block 55"):
            await write_archive(source, 50, 60, out, chunk=4)
        with pytest.raises(ArchiveError, match="starts at block 0, not"):
            await source.blocks(-1, 3, with_logs=True)
    finally:
        await source.aclose()
    assert os.listdir(tmp_path) == []


async def test_mainnet_records_as_an_archive(tmp_path: Path) -> None:
    # 15537393 -> 15537394 (the merge; 10,041 logs and a saturated bloom in the second).
    files = [p for p in mainnet_block_files() if p.stem in ("15537393", "15537394")]
    path = tmp_path / "merge.jsonl"
    path.write_bytes(b"".join(p.read_bytes().strip() + b"\n" for p in files))
    source = ArchiveSource(path)
    try:
        blocks = await source.blocks(15537393, 15537394, with_logs=True)
        assert [len(b.logs or ()) for b in blocks] == [1, 10041]
    finally:
        await source.aclose()
