"""``logfilter_search`` end to end on a real anvil node: the emitter contract registers
ENS-style names (``NameRegistered(string name, bytes32 indexed label, address indexed owner,
uint256 baseCost, uint256 premium, uint256 expires)``), ``logfilter serve --text-index``
follows the node, and searches by name through the client library (async and blocking) are
compared with a brute-force reference over the node's own ``eth_getLogs`` answer; a reorg
(``evm_revert``) deletes the undone registrations' hits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rpc.client import AsyncClient, Client, SearchHit
from tests.anvil import Anvil
from tests.emitter import Emitter
from tests.rpc.search_reference import NAME_REGISTERED, Registration, registration
from tests.rpc.serve import ServeProcess

FOLLOW = ["--section-size", "8", "--confirmations", "0", "--poll-interval", "0.05"]
NAMES = [
    "vitalik", "vitalik-fan", "nick", "alice", "vitalikbuterin", "bob-and-vitalik", "carol",
    "vitalik", "dave", "eve-vitalik", "frank", "vitalik-og",
]  # fmt: skip


def node_registrations(anvil: Anvil) -> list[Registration]:
    """The node's own NameRegistered logs, decoded plainly (the reference)."""
    logs = anvil.rpc("eth_getLogs", {"fromBlock": "0x0", "topics": [NAME_REGISTERED]})
    found = [registration(log) for log in logs]
    return [r for r in found if r is not None]


def key(hit: SearchHit) -> tuple[int, int, str]:
    return hit.log.block_number, hit.log.log_index, "0x" + hit.log.block_hash.hex()


def ref_key(r: Registration) -> tuple[int, int, str]:
    return r.block, r.log_index, r.raw["blockHash"]


async def wait_for(client: AsyncClient, expected: list[Registration]) -> None:
    """Until the server's text index holds exactly the node's registrations (30 s at most)."""
    want = [ref_key(r) for r in expected]
    deadline = time.monotonic() + 30
    while True:
        got = [
            key(h) async for h in client.iter_search("", topics=[NAME_REGISTERED], sort="block_asc")
        ]
        if got == want:
            return
        assert time.monotonic() < deadline, f"index has {got[-3:]}, node {want[-3:]}"
        await asyncio.sleep(0.05)


async def test_search_by_name_follows_the_node_through_a_reorg(
    anvil: Anvil, tmp_path: Path
) -> None:
    emitter = Emitter(anvil)
    owners = anvil.accounts()[1:4]
    anvil.set_automine(False)  # one registration per block, mined when asked
    for i, name in enumerate(NAMES[:9]):
        emitter.register(name, owners[i % 3], 10**16 + i, i % 2, 2**35 + i)
        anvil.mine()
    snapshot = anvil.snapshot()
    for i, name in enumerate(NAMES[9:], start=9):
        emitter.register(name, owners[i % 3], 10**16 + i, 0, 2**35 + i)
        anvil.mine()
    before = node_registrations(anvil)
    assert [r.name for r in before] == NAMES

    server = ServeProcess(
        "--upstream", anvil.url, "--datadir", str(tmp_path / "dd"), *FOLLOW, "--text-index"
    )  # fmt: skip
    with server, Client(server.url) as blocking:
        async with AsyncClient(server.url) as client:
            await wait_for(client, before)
            vitalik = [r for r in before if "vitalik" in r.words()]
            assert len(vitalik) == 6  # not vitalikbuterin: one word

            # Paging through the cursor: every hit once, in each order.
            for sort in ("relevance", "block_asc", "block_desc"):
                hits = [h async for h in client.iter_search("name:vitalik", page_size=1, sort=sort)]
                assert sorted(key(h) for h in hits) == sorted(ref_key(r) for r in vitalik)
            prefixed = [r for r in before if any(w.startswith("vitalik") for w in r.words())]
            hits = [h async for h in client.iter_search("name:vitalik*", page_size=2)]
            assert sorted(key(h) for h in hits) == sorted(ref_key(r) for r in prefixed)
            by_key = {ref_key(r): r for r in before}
            for hit in hits:
                assert hit.event is not None
                expected = by_key[key(hit)]
                assert hit.event["name"] == expected.name
                assert hit.event["baseCost"] == expected.base_cost
                assert hit.event["owner"] == bytes.fromhex(expected.owner_topic[26:])
                assert hit.log.address == bytes.fromhex(emitter.address[2:])

            # Filters: owner topic, block range, address.
            owner_topic = vitalik[0].owner_topic
            page = await client.search("name:vitalik", topics=[None, None, owner_topic], limit=50)
            assert sorted(key(h) for h in page.hits) == sorted(
                ref_key(r) for r in vitalik if r.owner_topic == owner_topic
            )
            middle = vitalik[1].block
            page = await client.search(
                "name:vitalik", from_block=middle, to_block="latest", sort="block_asc"
            )
            assert [key(h) for h in page.hits] == [ref_key(r) for r in vitalik if r.block >= middle]
            page = await client.search("name:vitalik", address="0x" + "22" * 20)
            assert page.hits == []
            assert page.total == 0

            # The blocking client, highlighted, newest first.
            page = blocking.search("name:vitalik", highlight=True, sort="block_desc", limit=2)
            assert [key(h) for h in page.hits] == [ref_key(r) for r in vitalik[::-1][:2]]
            assert page.total == 6
            assert page.cursor is not None
            assert all("<em>vitalik</em>" in h.highlights["name"][0] for h in page.hits)
            rest = list(blocking.iter_search("name:vitalik", page_size=3, sort="block_desc"))
            assert [key(h) for h in rest] == [ref_key(r) for r in vitalik[::-1]]

            # A reorg: back to the snapshot, other registrations on a longer chain.
            anvil.revert(snapshot)
            for i, name in enumerate(["brantly", "vitalik-reorged", "zoe", "yan"]):
                emitter.register(name, owners[0], 1, 0, 2**36 + i)
                anvil.mine()
            after = node_registrations(anvil)
            assert [r.name for r in after] == [
                *NAMES[:9],
                "brantly",
                "vitalik-reorged",
                "zoe",
                "yan",
            ]
            await wait_for(client, after)
            gone = await client.search("name:og OR name:eve OR name:frank")
            assert gone.hits == []
            assert gone.total == 0
            page = await client.search("name:vitalik", limit=50, sort="block_asc")
            assert [key(h) for h in page.hits] == [
                ref_key(r) for r in after if "vitalik" in r.words()
            ]
            assert server.alive
