"""Every header field of every recorded block (each fork's header shape) is kept exactly:
the kept fields rebuild the block hash (keccak256 of the RLP header, with the independent
``rlp`` package), and no field the node gave is lost or changed on the way to the store."""

from __future__ import annotations

from typing import Any

import pytest

from bloombits.keccak import keccak256
from chainindex.errors import InvalidBlockError
from chainindex.header_extra import EXTRA_FIELDS, RLP_ORDER, HeaderExtra
from chainindex.source.parse import parse_header
from chainindex.store.headerrecord import decode_header, encode_header
from tests.chainindex.consensus_reference import reference_header_rlp
from tests.fixtures import all_block_records, hexbytes


def stored_fields(block: dict[str, Any]) -> dict[str, Any]:
    """The block's header fields as the store gives them back, as JSON-RPC values."""
    parsed = parse_header(block, verify=False)  # kept as given; verification is tested apart
    header = decode_header(parsed.number, parsed.hash, encode_header(parsed))
    extra = HeaderExtra.decode(header.extra)
    out: dict[str, Any] = {
        "parentHash": "0x" + header.parent_hash.hex(),
        "logsBloom": "0x" + header.logs_bloom.hex(),
        "number": hex(header.number),
        "timestamp": hex(header.timestamp),
    }
    for attr, name, kind in EXTRA_FIELDS:
        value = getattr(extra, attr)
        if value is not None:
            out[name] = hex(value) if kind == "int" else "0x" + value.hex()
    return out


def test_every_recorded_header_is_kept_exactly() -> None:
    shapes = set()
    rebuilt = 0
    for record in all_block_records():
        block = record["block"]
        given = {name: block[name] for name in RLP_ORDER if name in block}
        kept = stored_fields(block)
        assert kept == given
        shapes.add(tuple(kept))
        if "mixHash" in block:  # two ethereum-etl records lack it: their hash cannot be rebuilt
            assert keccak256(reference_header_rlp(kept)) == hexbytes(block["hash"])
            rebuilt += 1
    # Frontier, London, Shanghai, Cancun, Prague shapes (and the two without mixHash).
    assert len(shapes) == 6
    assert rebuilt >= 70


@pytest.mark.parametrize(
    ("field", "value"),
    [("miner", "0x01"), ("gasLimit", "0x01ff"), ("nonce", "0x00"), ("extraData", "0xz0")],
)
def test_a_malformed_field_names_the_block_and_field(field: str, value: str) -> None:
    block = next(all_block_records())["block"]
    with pytest.raises(InvalidBlockError, match=f"block {int(block['number'], 16)}.*{field}"):
        parse_header({**block, field: value})
