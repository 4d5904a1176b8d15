"""The generator's output is pinned: block hashes, receipts roots and the bytes of whole
records of a saturated and a sparse chain, as the code wrote them before the address books
stopped keeping hex strings (commit 71e6c05, run once and copied here by hand).

Chains on disk and other tests depend on the same spec and seed giving the same bytes: a
change that alters any of these values changes every chain (and must bump
``GENERATOR_VERSION``), not just these.
"""

from __future__ import annotations

import asyncio
import hashlib

import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainindex.source.synthetic import SyntheticSource
from chainindex.synthetic import GeneratedRecord
from chainindex.synthetic.population import AddressBook, hex_rows

# (chain, height, block hash, receiptsRoot, sha256 of the record as orjson writes it);
# saturated: seed 12, sparse: seed 11 (the fixtures of conftest.py).
PINNED = [
    (
        "saturated",
        1,
        "0x2e7c50f448aa8979fac45c0e94d84f0166f5f6c467e7aaf2e1a1a5e287447337",
        "0xe3b130aa1dff9de0a7249de3c6ae76c54125aec5bcc5612762e6939d97fa5b74",
        "13ad2009c96ed6b2e1e6e3de57eb3f17d39cc322764bbb69bc9362f3731ccd01",
    ),
    (
        "saturated",
        31,
        "0x6c6bc1557b1d01273ab302d72962c0cb1090a9e0df35c3f735b3259a833db96f",
        "0xd481e646ed3268e37a18a1a19887fafd8cc21308d1a54bf37ff994f807baec79",
        "8481e813046739166a4b3a4e99ebeee1369790c97315342084cbd4fa4abcf8a7",
    ),
    (
        "saturated",
        32,
        "0x1044c92f0aee12ea3a0ad3cb393c585f82065c56ed25c96c932953acc8808c98",
        "0x68d1509d3d8e6d2f0da9ae1b725616542e00cf9fd3843c44ca2198e00cb2792c",
        "1294d6fa8ae34dab428be45af82e8acec637f7cfa1d8b7c6d9c0d52710635557",
    ),
    (
        "saturated",
        99,
        "0xb8a36f3a1a5be83306459b2b4838b84a5646f93e0f4bf71bc3072e1acd3754e3",
        "0x2c506b6743989308bdda9decdd572d4069f829de9d560035a77e4d29a1b285c0",
        "108d7904df42d3995e351c53e12235c975856fc98970bc613a3c4e40ee842d6e",
    ),
    (
        "sparse",
        1,
        "0xee2fcc58cc84b326e7b59f01a59acc50ccad15cf936852004752de3c163d9fb8",
        "0x854677ac0012e21de790579fe805c17322b891292d1dd4a04327f8570bd6980e",
        "d2920671d55a412c4ad97f2147f83ba6f390909ed657738a9f9a63b681d2ea32",
    ),
    (
        "sparse",
        511,
        "0x25de798de6e5ccb0d3081fe704e2b921e187ea3f8b8c13ae7d1bd4cfabe60b20",
        "0x54753c7898102c995ff9beb0cfd1fa215a11dd9f9dcdb23a1e7beda4c54acada",
        "0e390d8ab2fb5fe77fd7efa4403594ab9d1f43ff00c2064b08ee1a37f16583b9",
    ),
    (
        "sparse",
        512,
        "0xe0374e1ac8af9286c03ed4d237c5abccc794bee34c780d9c843eeb2a95fd1f91",
        "0x9a720b83cda2a0a11297a002619ca480588259e8481a4653ca2011ac27953bdf",
        "aebd28d99781aef669ca9b9b746767aa179fe42b380b1796cb3ef8d266045392",
    ),
    (
        "sparse",
        1099,
        "0x29b7a189225f0a6ad29947f0d65637fd2dfaa13c4607fb30c7ef5ec3a049fba0",
        "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        "9e8e7d49ea4675fe5b931b30697d4615f84774a0f1fbcf364a9a0a5aa6f7b4b8",
    ),
]


@pytest.mark.parametrize(("chain", "height", "block_hash", "receipts_root", "digest"), PINNED)
def test_records_are_those_of_the_code_before(
    request: pytest.FixtureRequest,
    chain: str,
    height: int,
    block_hash: str,
    receipts_root: str,
    digest: str,
) -> None:
    records: list[GeneratedRecord] = request.getfixturevalue(f"{chain}_chain")
    record = records[height]
    assert record["block"]["hash"] == block_hash
    assert record["block"]["receiptsRoot"] == receipts_root
    assert hashlib.sha256(orjson.dumps(record)).hexdigest() == digest


def test_the_source_parses_the_pinned_blocks() -> None:
    """Through ``--upstream`` (blocks parsed as they are generated), after a seek."""
    source = SyntheticSource.from_spec("synthetic:sparse?blocks=1100&seed=11")

    async def fetch() -> list[str]:
        far = await source.blocks(1099, 1099, with_logs=True)
        near = await source.blocks(511, 512, with_logs=True)
        headers = await source.blocks(511, 512, with_logs=False)
        return ["0x" + b.header.hash.hex() for b in (*far, *near, *headers)]

    pinned = {height: block_hash for chain, height, block_hash, _, _ in PINNED if chain == "sparse"}
    assert asyncio.run(fetch()) == [pinned[h] for h in (1099, 511, 512, 511, 512)]


@given(
    st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=40),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=60),
    st.booleans(),
)
def test_hex_on_demand_is_the_values_hex(
    addresses: list[bytes], picks: list[int], topic: bool
) -> None:
    book = AddressBook(b"".join(addresses), topic=topic)
    indexes = np.array([p % len(addresses) for p in picks], dtype=np.int64)
    padding = "00" * 12 if topic else ""
    assert book.hex_many(indexes) == ["0x" + padding + addresses[i].hex() for i in indexes.tolist()]
    assert book.hex_many(indexes, bare=True) == [
        "0x" + addresses[i].hex() for i in indexes.tolist()
    ]
    rows = np.frombuffer(b"".join(addresses), dtype=np.uint8).reshape(-1, 20)[:, :7]
    assert hex_rows(rows, "0x") == ["0x" + a[:7].hex() for a in addresses]
