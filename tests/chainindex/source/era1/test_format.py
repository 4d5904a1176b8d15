"""The era1 files the writer makes, read back with an independent reader written here from
the published format (eth-clients/e2store-format-specs ``formats/era1.md``, go-ethereum's
``internal/era``): record types and lengths, the block index offsets, the total
difficulties, the content of every record, and the accumulator root computed by a naive
reference (the whole 8192-leaf tree built level by level)."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import cramjam
import pytest
import rlp
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.source.era1.accumulator import accumulator_root
from tests.chainindex.source.era1.era1_chain import (
    bodies,
    records,
    total_difficulties,
    write_fixture_era1,
)


def walk(data: bytes) -> list[tuple[bytes, int, bytes]]:
    """``(type, offset, value)`` of every e2store record (header: type 2, u32 LE, 2 zero)."""
    out, pos = [], 0
    while pos < len(data):
        kind = data[pos : pos + 2]
        (length,) = struct.unpack("<I", data[pos + 2 : pos + 6])
        assert data[pos + 6 : pos + 8] == b"\x00\x00"
        out.append((kind, pos, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length
    assert pos == len(data)
    return out


def naive_root(pairs: list[tuple[bytes, int]]) -> bytes:
    """SSZ hash_tree_root of List[Container(Bytes32, uint256), 8192], spelled out."""
    leaves = [hashlib.sha256(h + td.to_bytes(32, "little")).digest() for h, td in pairs]
    leaves += [b"\x00" * 32] * (8192 - len(leaves))
    while len(leaves) > 1:
        leaves = [
            hashlib.sha256(a + b).digest() for a, b in zip(leaves[::2], leaves[1::2], strict=False)
        ]
    return hashlib.sha256(leaves[0] + struct.pack("<Q", len(pairs)) + bytes(24)).digest()


@pytest.mark.parametrize("per_file", [8192, 10])
def test_records_follow_the_published_layout(tmp_path: Path, per_file: int) -> None:
    paths = write_fixture_era1(tmp_path, per_file=per_file)
    tds = total_difficulties()
    first = 0
    for epoch, path in enumerate(paths):
        data = path.read_bytes()
        entries = walk(data)
        count = min(per_file, 36 - first)
        kinds = [kind for kind, _, _ in entries]
        assert kinds == [b"\x65\x32"] + [
            b"\x03\x00",
            b"\x04\x00",
            b"\x05\x00",
            b"\x06\x00",
        ] * count + [
            b"\x07\x00",
            b"\x66\x32",
        ]
        assert entries[0][2] == b""  # Version has no data
        pairs = []
        for i in range(count):
            number = first + i
            record = records()[number]
            (_, _, header), (_, _, body), (_, _, receipts), (_, _, td) = entries[
                1 + 4 * i : 5 + 4 * i
            ]
            header_rlp = bytes(cramjam.snappy.decompress(header))
            assert "0x" + keccak(header_rlp).hex() == record["block"]["hash"]
            assert int.from_bytes(rlp.decode(header_rlp)[8], "big") == number
            for framed in (header, body, receipts):  # snappy *framed*: the stream identifier
                assert framed[:10] == b"\xff\x06\x00\x00sNaPpY"
            assert bytes(cramjam.snappy.decompress(body)) == bodies()[number]
            decoded = rlp.decode(bytes(cramjam.snappy.decompress(receipts)))
            assert len(decoded) == len(record["receipts"])
            for item, receipt in zip(decoded, record["receipts"], strict=True):
                kind = int(receipt["type"], 16)
                if kind:  # a typed receipt is a string: type ‖ rlp([status, gas, bloom, logs])
                    assert item[0] == kind
                    item = rlp.decode(item[1:])
                assert len(item) == 4
                assert int.from_bytes(item[1], "big") == int(receipt["cumulativeGasUsed"], 16)
                assert "0x" + item[2].hex() == receipt["logsBloom"]
                assert ["0x" + log[0].hex() for log in item[3]] == [
                    log["address"] for log in receipt["logs"]
                ]
            assert len(td) == 32
            assert int.from_bytes(td, "little") == tds[number]
            pairs.append((keccak(header_rlp), tds[number]))
        (_, _, root), (_, index_at, index) = entries[-2:]
        assert root == naive_root(pairs)
        assert path.name == f"fixture-{epoch:05d}-{root.hex()[:8]}.era1"
        words = struct.unpack(f"<{count + 2}q", index)
        assert words[0] == first
        assert words[-1] == count
        header_offsets = [offset for kind, offset, _ in entries if kind == b"\x03\x00"]
        assert [index_at + rel for rel in words[1:-1]] == header_offsets
        first += count
    assert first == 36


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 2**256 - 1)),
        max_size=40,
    )
)
def test_accumulator_root_is_the_ssz_root(pairs: list[tuple[bytes, int]]) -> None:
    hashes = [h for h, _ in pairs]
    tds = [td for _, td in pairs]
    assert accumulator_root(hashes, tds) == naive_root(pairs)


def test_accumulator_root_of_a_full_file() -> None:
    pairs = [(hashlib.sha256(bytes([i % 256, i // 256])).digest(), i * 3) for i in range(8192)]
    assert accumulator_root([h for h, _ in pairs], [t for _, t in pairs]) == naive_root(pairs)
    with pytest.raises(ValueError, match="8193 hashes"):
        accumulator_root([b"\x00" * 32] * 8193, [0] * 8193)


def test_published_epoch_accumulator_vectors() -> None:
    """The Portal network's epoch accumulator test vectors (ethereum/portal-network-specs,
    ``header-gossip-network-test-vectors.md`` at 6b06db1e): the same SSZ list of header
    records era1 uses, over mainnet blocks 1 and 1..2 (total difficulty counted from block
    1 there, as the vector's input gives it; the document calls block 1 "genesis")."""
    block1 = bytes.fromhex("88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6")
    block2 = bytes.fromhex("b495a1d7e6663152ae92708da4843337b958146015a2802f4193a410044698c9")
    d1, d2 = 17171480576, 17163096064
    assert accumulator_root([block1], [d1]).hex() == (
        "1978df242d723405f28d26184e57ccf1938b253ef08234bfeb4951abdf3bbe4c"
    )
    assert accumulator_root([block1, block2], [d1, d1 + d2]).hex() == (
        "90cc48e39fe7062a3e5b6a3e78ff1f01544c22b87c6453cd718a1e5fe5ed8fa9"
    )
