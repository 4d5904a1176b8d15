"""Era1Source on era1 files written from the fixture chain: the same blocks as the chain
archive of the same blocks, across files of any size; damaged or missing files are one
Era1Error that carries no block."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from chainindex.errors import ConfigError, Era1Error, MissingBlockError
from chainindex.source import ArchiveSource, SourceOptions, open_source
from chainindex.source.era1 import Era1Source
from tests.chainindex.reference import reference_header, reference_logs
from tests.chainindex.source.era1.era1_chain import (
    CHAIN_ID,
    records,
    write_archive_prefix,
    write_fixture_era1,
)


@pytest.mark.parametrize("per_file", [8192, 7, 1])
async def test_same_blocks_as_the_archive(tmp_path: Path, per_file: int) -> None:
    write_fixture_era1(tmp_path / "era1", per_file=per_file)
    archive = ArchiveSource(write_archive_prefix(tmp_path / "chain.jsonl"))
    source = Era1Source(tmp_path / "era1", chain_id=CHAIN_ID)
    try:
        assert (source.first, source.last) == (0, 35)
        assert await source.chain_id() == CHAIN_ID
        assert await source.latest() == reference_header(records()[35]["block"])
        assert await source.blocks(0, 35, with_logs=True) == await archive.blocks(
            0, 35, with_logs=True
        )
        rng = random.Random(per_file)
        for _ in range(20):
            a, b = sorted(rng.randrange(36) for _ in range(2))
            blocks = await source.blocks(a, b, with_logs=True)
            for block, record in zip(blocks, records()[a : b + 1], strict=True):
                assert block.header == reference_header(record["block"])
                assert list(block.logs or ()) == reference_logs(record["block"], record["receipts"])
            headers = await source.blocks(a, b, with_logs=False)
            assert [blk.header for blk in headers] == [blk.header for blk in blocks]
            assert all(blk.logs is None for blk in headers)
        header = await source.header_at(2)
        assert header is not None
        assert list(await source.block_logs(header)) == reference_logs(
            records()[2]["block"], records()[2]["receipts"]
        )
        assert await source.header_at(36) is None
        with pytest.raises(MissingBlockError):
            await source.blocks(30, 36, with_logs=True)
    finally:
        await source.aclose()
        await archive.aclose()


async def test_open_source_needs_a_chain_id(tmp_path: Path) -> None:
    write_fixture_era1(tmp_path)
    with pytest.raises(ConfigError, match="era1 files name no chain: give --chain-id"):
        async with open_source(f"era1:{tmp_path}"):
            pass
    async with open_source(f"era1:{tmp_path}", SourceOptions(chain_id=CHAIN_ID)) as source:
        assert isinstance(source, Era1Source)
        assert (await source.latest()).number == 35


def _damage(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _record_offset(path: Path, kind: bytes, nth: int = 0) -> int:
    raw = path.read_bytes()
    pos, seen = 0, 0
    while pos < len(raw):
        length = int.from_bytes(raw[pos + 2 : pos + 6], "little")
        if raw[pos : pos + 2] == kind:
            if seen == nth:
                return pos
            seen += 1
        pos += 8 + length
    raise AssertionError(kind)


async def _first_error(directory: Path) -> Era1Error:
    async def read_all() -> None:
        source = Era1Source(directory, chain_id=1)
        try:
            await source.latest()
            await source.blocks(0, source.last, with_logs=True)
        finally:
            await source.aclose()

    with pytest.raises(Era1Error) as info:
        await read_all()
    assert info.value.good == ()
    assert "\n" not in str(info.value)
    return info.value


async def test_damaged_files(tmp_path: Path) -> None:
    def fresh(name: str) -> Path:
        directory = tmp_path / name
        (path,) = write_fixture_era1(directory)
        return path

    path = fresh("snappy")  # the receipts of block 20: bytes inside the snappy frame
    _damage(path, _record_offset(path, b"\x05\x00", 20) + 8 + 20, b"\xde\xad\xbe\xef")
    assert "block 20 receipts: bad snappy data" in str(await _first_error(path.parent))

    path = fresh("accumulator")
    _damage(path, _record_offset(path, b"\x07\x00") + 8, b"\x00" * 4)
    assert "is not the root of the file's headers" in str(await _first_error(path.parent))

    path = fresh("td")
    _damage(path, _record_offset(path, b"\x06\x00", 9) + 8, b"\x01")
    assert "block 9: total difficulty" in str(await _first_error(path.parent))

    path = fresh("truncated")
    path.write_bytes(path.read_bytes()[:-100])
    assert "truncated" in str(await _first_error(path.parent))

    path = fresh("cut")  # cut inside a block: the index at the end is gone
    path.write_bytes(path.read_bytes()[: _record_offset(path, b"\x04\x00", 30) + 50])
    assert "truncated or not era1" in str(await _first_error(path.parent))

    path = fresh("type")  # a body where a header belongs
    _damage(path, _record_offset(path, b"\x03\x00", 3), b"\x04\x00")
    assert "has type 0400, expected 0300" in str(await _first_error(path.parent))

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .era1 files" in str(await _first_error(empty))
    assert "not a directory" in str(await _first_error(tmp_path / "absent"))


async def test_files_must_follow_each_other(tmp_path: Path) -> None:
    paths = write_fixture_era1(tmp_path, per_file=10)
    paths[1].unlink()  # blocks 10..19
    error = await _first_error(tmp_path)
    assert "starts at block 20" in str(error)
    assert "ends at 9" in str(error)


def _tuples_with_receipts(change: object) -> list[tuple[bytes, bytes, bytes, int]]:
    """The fixture's era1 tuples with each block's decoded receipts list passed through
    ``change`` (pyrlp lists) and re-encoded."""
    import rlp

    from chainindex.source.era1 import era1_tuple
    from tests.chainindex.source.era1.era1_chain import bodies, total_difficulties

    out = []
    for record, body, td in zip(records(), bodies(), total_difficulties(), strict=True):
        header, body, receipts, td = era1_tuple(record, body, td)  # type: ignore[arg-type]
        out.append((header, body, rlp.encode(change(rlp.decode(receipts))), td))  # type: ignore[operator]
    return out


async def test_storage_shaped_receipts_are_accepted(tmp_path: Path) -> None:
    """[status, cumulativeGas, logs] without the bloom, typed ones as bare lists (the type
    taken from the transaction): the same blocks."""
    import rlp

    from chainindex.source.era1 import write_era1_file

    def storage(receipts: list[object]) -> list[object]:
        out: list[object] = []
        for item in receipts:
            if isinstance(item, bytes):  # typed: type ‖ rlp(list)
                item = rlp.decode(item[1:])
            out.append([item[0], item[1], item[3]])  # type: ignore[index]
        return out

    write_era1_file(tmp_path / "era1", "fixture", 0, _tuples_with_receipts(storage), 0)
    archive = ArchiveSource(write_archive_prefix(tmp_path / "chain.jsonl"))
    source = Era1Source(tmp_path / "era1", chain_id=CHAIN_ID)
    try:
        assert await source.blocks(0, 35, with_logs=True) == await archive.blocks(
            0, 35, with_logs=True
        )
    finally:
        await source.aclose()
        await archive.aclose()


async def test_a_changed_log_fails_the_receipts_root(tmp_path: Path) -> None:
    """Valid snappy, a valid accumulator (it covers headers only), but one log's data
    changed in block 5: the block's receipts root check rejects it, naming it."""
    from chainindex.source.era1 import write_era1_file

    calls = iter(range(36))

    def tamper(receipts: list[list[object]]) -> list[list[object]]:
        if next(calls) == 5:  # legacy receipts: [status, gas, bloom, logs]
            receipt = next(r for r in receipts if r[3])
            receipt[3][0][2] = b"\x01" * 32  # type: ignore[index]
        return receipts

    write_era1_file(tmp_path, "fixture", 0, _tuples_with_receipts(tamper), 0)
    error = await _first_error(tmp_path)
    assert "block 5" in str(error)
    assert "receiptsRoot" in str(error)
    assert "is not the root of the receipts" in str(error)


def _open_era1_files() -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            count += fd.readlink().suffix == ".era1"
    return count


async def test_one_file_open_at_a_time(tmp_path: Path) -> None:
    """A mainnet directory holds ~1900 files: they are not all kept open."""
    write_fixture_era1(tmp_path, per_file=1)
    source = Era1Source(tmp_path, chain_id=CHAIN_ID)
    try:
        assert _open_era1_files() == 0
        assert len(await source.blocks(0, 35, with_logs=True)) == 36
        assert _open_era1_files() == 1
        assert len(await source.blocks(3, 20, with_logs=False)) == 18
        assert _open_era1_files() == 1
    finally:
        await source.aclose()
    assert _open_era1_files() == 0


async def test_total_difficulty_goes_on_across_files(tmp_path: Path) -> None:
    """Each file consistent in itself, but the second one counts from another total."""
    from chainindex.source.era1 import era1_tuple, write_era1_file
    from tests.chainindex.source.era1.era1_chain import bodies, total_difficulties

    tuples = [
        era1_tuple(record, body, td + (7 if 10 <= n < 20 else 0))  # type: ignore[arg-type]
        for n, (record, body, td) in enumerate(
            zip(records(), bodies(), total_difficulties(), strict=True)
        )
    ]
    for epoch, start in enumerate(range(0, 36, 10)):
        write_era1_file(tmp_path, "fixture", epoch, tuples[start : start + 10], start)
    source = Era1Source(tmp_path, chain_id=CHAIN_ID)
    try:
        assert len(await source.blocks(0, 9, with_logs=True)) == 10
        with pytest.raises(Era1Error, match="starts from total difficulty") as info:
            await source.blocks(8, 12, with_logs=True)
        assert "fixture-00001-" in str(info.value)
    finally:
        await source.aclose()
