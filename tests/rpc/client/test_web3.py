"""Next to web3.py on the same anvil: the client's logs converted with ``to_web3_log`` are
exactly what ``w3.eth.get_logs`` returns, web3 entries convert back, web3's FilterParams are
accepted as criteria, and web3's contract event decoding takes the converted logs."""

from __future__ import annotations

import orjson
from web3 import Web3

from rpc.client import AsyncClient
from rpc.client.web3compat import from_web3_log, to_web3_log
from tests.anvil import Anvil
from tests.emitter import ARTIFACT, Emitter
from tests.rpc.client.support import fill_chain


async def test_logs_in_web3s_shape(anvil: Anvil) -> None:
    emitter = Emitter(anvil)
    fill_chain(anvil, emitter, [0, 3, 1, 7, 2])
    owner = anvil.accounts()[3]
    emitter.register("vitalik", owner, 10**16, 0, 1_900_000_000)
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    address = w3.to_checksum_address(emitter.address)
    params = {"fromBlock": 0, "toBlock": "latest", "address": address}
    theirs = w3.eth.get_logs(params)  # type: ignore[arg-type]
    async with AsyncClient(anvil.url) as client:
        ours = await client.get_logs(params)  # web3's FilterParams, unchanged
    assert len(theirs) == 14
    assert [to_web3_log(log) for log in ours] == theirs
    assert [from_web3_log(entry) for entry in theirs] == ours
    # web3's ABI decoding works on the converted entries.
    abi = orjson.loads(ARTIFACT.read_bytes())["abi"]
    contract = w3.eth.contract(address=address, abi=abi)
    event = contract.events.NameRegistered().process_log(to_web3_log(ours[-1]))
    assert event["args"]["name"] == "vitalik"
    assert event["args"]["owner"] == w3.to_checksum_address(owner)
