"""``logfilter check`` and ``logfilter repair`` on real damaged copies of a synced directory.

Each test damages a copy of one synced directory (the execution-apis chain of tests/data,
sections of 8 blocks) in one way, then runs the commands as a user does. What the output
must name comes from the damage done (its component and blocks), and a repaired directory is
compared with the undamaged one record by record: nothing here is computed by the code
under test.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from eth_typing import BlockNumber

from bloombits.bitutil import compress_bytes, decompress_bytes
from chainindex.logsearch.index import TextIndex
from chainindex.store import schema
from rpc.cli import main
from tests.chainindex.check.damage import flip_in_table, get, keys, put, synced, uncompressed_copy
from tests.chainindex.reference import dump

SOUND = (
    "data directory sound: 55 blocks (0-54), 383 logs, 6 bloom sections, exact index of 6 "
    "sections, text index of 383 logs\n"
)
"""The chain has 55 blocks and 383 logs (tests/data/CHAINS.md); 6 sections of 8 blocks."""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synced directory every test copies (never changed)."""
    return synced(tmp_path_factory.mktemp("pristine") / "dd")


@pytest.fixture
def copy(pristine: Path, tmp_path: Path) -> Path:
    """A copy of it to damage."""
    target = tmp_path / "dd"
    shutil.copytree(pristine, target)
    return target


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def blocks_of(line: str, component: str) -> tuple[int, int]:
    match = re.match(rf"{component}, blocks (\d+)-(\d+): ", line)
    assert match, line
    return int(match[1]), int(match[2])


def test_a_sound_directory(pristine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--datadir", str(pristine)) == (0, SOUND, "")


def test_a_flipped_byte_in_a_logs_block_is_primary_damage(
    pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = uncompressed_copy(pristine, tmp_path / "dd")
    assert run(capsys, "check", "--datadir", str(copy))[0] == 0  # the copy itself is sound
    block_hash = get(copy, schema.canonical_hash_key(BlockNumber(20)))
    flip_in_table(copy, schema.logs_key(BlockNumber(20), block_hash))

    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    lines = out.splitlines()
    first, last = blocks_of(lines[0], "logs")
    assert first <= 20 <= last
    assert "unreadable" in lines[0]
    assert "resync" in lines[1]
    assert len(lines) == 2
    assert str(tmp_path) not in out
    assert ".ldb" not in out

    status, out, _ = run(capsys, "repair", "--datadir", str(copy))
    assert status == 1  # only the node has those logs
    assert out.splitlines()[0] == "salvaged the LevelDB database (damaged blocks dropped)"
    assert blocks_of(out.splitlines()[1], "logs") == (first, last)


def test_a_deleted_bloom_vector_is_rebuilt(
    pristine: Path, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = get(copy, schema.section_head_key(2))
    put(copy, schema.bloom_bits_key(100, 2, head), None)  # section 2: blocks 16-23

    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    assert out.splitlines()[0] == "bloom sections, blocks 16-23: bloom vectors missing"
    assert len(out.splitlines()) == 2  # and the hint to repair

    status, out, _ = run(capsys, "repair", "--datadir", str(copy))
    assert (status, out.splitlines()[-1] + "\n") == (0, SOUND)
    assert dump(copy) == dump(pristine)


def test_an_altered_bloom_vector_is_rebuilt(
    pristine: Path, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = get(copy, schema.section_head_key(3))
    key = schema.bloom_bits_key(7, 3, head)  # section 3: blocks 24-31
    vector = bytearray(decompress_bytes(get(copy, key), 1))
    vector[0] ^= 0x10
    put(copy, key, compress_bytes(bytes(vector)))

    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    assert out.splitlines()[0] == (
        "bloom sections, blocks 24-31: bloom vectors differ from the headers' blooms"
    )
    assert run(capsys, "repair", "--datadir", str(copy))[0] == 0
    assert dump(copy) == dump(pristine)


def test_a_removed_section_head_is_rebuilt(
    pristine: Path, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(copy, schema.section_head_key(4), None)
    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    assert out.splitlines()[0] == "bloom sections, blocks 32-39: no section head record"
    assert run(capsys, "repair", "--datadir", str(copy))[0] == 0
    assert dump(copy) == dump(pristine)


@pytest.mark.parametrize("how", ["deleted", "swapped"])
def test_exact_index_records(
    how: str, pristine: Path, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The records are taken by their place among the index's keys, whatever their layout.
    records = keys(copy, b"x")
    one, other = records[len(records) // 3], records[2 * len(records) // 3]
    if how == "deleted":
        put(copy, one, None)
    else:
        first, second = get(copy, one), get(copy, other)
        assert first != second
        put(copy, one, second)
        put(copy, other, first)

    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    lines = out.splitlines()
    assert lines[-1] == "derived data damaged: `logfilter repair --datadir DIR` rebuilds it"
    for line in lines[:-1]:
        first_block, last_block = blocks_of(line, "exact index")
        assert 0 <= first_block <= last_block <= 47  # the sectioned blocks
        assert line.endswith(": records differ from the logs")

    status, out, _ = run(capsys, "repair", "--datadir", str(copy))
    assert (status, out.splitlines()[-1] + "\n") == (0, SOUND)
    assert dump(copy) == dump(pristine)


def _all_logs(datadir: Path) -> list[tuple[int, int, bytes]]:
    index = TextIndex.in_datadir(datadir, readonly=True)
    try:
        hits: list[tuple[int, int, bytes]] = []
        after = None
        while True:
            page = index.search("", limit=100, sort="block_asc", after=after)
            hits += [(h.log.block_number, h.log.log_index, h.log.data) for h in page.hits]
            if page.cursor is None:
                return hits
            after = page.cursor
    finally:
        index.close()


def test_a_truncated_text_index_segment_is_rebuilt(
    pristine: Path, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segment = sorted((copy / "textindex").glob("*.seg"))[0]
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])

    status, out, _ = run(capsys, "check", "--datadir", str(copy))
    assert status == 1
    assert (
        out.splitlines()[0] == "text index, blocks 0-54: a segment of the newest commit is damaged"
    )
    assert str(copy) not in out

    status, out, _ = run(capsys, "repair", "--datadir", str(copy))
    assert out.splitlines() == ["rebuilt the text index", SOUND.rstrip("\n")]
    assert status == 0
    assert _all_logs(copy) == _all_logs(pristine)
    assert len(_all_logs(copy)) == 383


def test_no_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "check", "--datadir", str(tmp_path / "none"))
    assert (status, err) == (1, f"logfilter: no data directory at {tmp_path / 'none'}\n")
    assert not (tmp_path / "none").exists()
