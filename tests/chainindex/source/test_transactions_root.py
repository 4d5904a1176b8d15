"""``--verify-transactions``: full transactions from a real node (anvil: legacy, EIP-2930 and
EIP-1559 transactions) pass the ``transactionsRoot`` check, archives keep only their hashes, and
an altered transaction or root is refused naming the block."""

from __future__ import annotations

import copy

import pytest

from chainindex.errors import InvalidBlockError
from chainindex.source import SourceOptions, open_source
from chainindex.source.parse import parse_block
from chainindex.source.transactions import check_transactions_root
from tests.anvil import Anvil
from tests.chainindex.chains import build_chain


def mine_all_types(anvil: Anvil) -> int:
    build_chain(anvil, 6, seed=3)
    sender, recipient, other = anvil.accounts()[:3]
    anvil.set_automine(True)
    common = {"from": sender, "to": recipient, "value": "0x1", "gasPrice": hex(10**9)}
    anvil.rpc("eth_sendTransaction", {**common, "type": "0x0"})
    key = "0x" + "00" * 31 + "01"
    access = [{"address": other, "storageKeys": [key]}]
    last = anvil.rpc("eth_sendTransaction", {**common, "type": "0x1", "accessList": access})
    return int(anvil.receipt(last)["blockNumber"], 16)


async def test_full_transactions_are_checked_and_archived_as_hashes(anvil: Anvil) -> None:
    head = mine_all_types(anvil)
    options = SourceOptions(verify_transactions=True, backoff=0.01)
    async with open_source(anvil.url, options) as source:
        blocks = await source.blocks(0, head, with_logs=True)
        records = await source.records(0, head, with_logs=True)
    assert len(blocks) == head + 1
    assert all(isinstance(tx, str) for r in records for tx in r["block"]["transactions"])
    types = set()
    for number in range(head + 1):
        block = anvil.rpc("eth_getBlockByNumber", hex(number), True)
        types |= {tx["type"] for tx in block["transactions"]}
    assert types == {"0x0", "0x1", "0x2"}


def test_an_altered_transaction_is_refused(anvil: Anvil) -> None:
    head = mine_all_types(anvil)
    for number in (head, head - 1, head - 2):
        block = anvil.rpc("eth_getBlockByNumber", hex(number), True)
        receipts = anvil.rpc("eth_getBlockReceipts", hex(number))
        parse_block(block, receipts)
        altered = copy.deepcopy(block)
        altered["transactions"][0]["value"] = hex(int(block["transactions"][0]["value"], 16) + 1)
        with pytest.raises(InvalidBlockError, match=f"block {number}: transaction 0: hash is not"):
            parse_block(altered, receipts)
        with pytest.raises(InvalidBlockError, match=f"block {number}: transactionsRoot 0x1111"):
            check_transactions_root(number, b"\x11" * 32, block["transactions"])
        unknown = copy.deepcopy(block)
        unknown["transactions"][0]["type"] = "0x7e"
        with pytest.raises(InvalidBlockError, match="transaction 0: type 0x7e cannot be checked"):
            parse_block(unknown, receipts)
