"""The chain looks like mainnet where it matters: bloom fill, contract skew, event mix."""

from __future__ import annotations

from collections import Counter

import pytest
from eth_utils.crypto import keccak

from chainindex.synthetic import FILL_PRESETS, ChainGenerator, ChainShape, GeneratedRecord
from tests.chainindex.synthetic.conftest import SATURATED, SPARSE


def measured_fill(records: list[GeneratedRecord]) -> float:
    """Mean share of the 2048 bits set, counted from the JSON blooms (genesis excluded)."""
    blocks = [r["block"] for r in records if r["block"]["number"] != "0x0"]
    return sum(int(b["logsBloom"], 16).bit_count() for b in blocks) / (2048 * len(blocks))


def test_sparse_fill_is_about_five_percent() -> None:
    records = list(ChainGenerator(SPARSE, seed=21, headers_only=True).records(6000))
    assert 0.04 <= measured_fill(records) <= 0.06


def test_saturated_fill_is_between_45_and_55_percent() -> None:
    records = list(ChainGenerator(SATURATED, seed=22, headers_only=True).records(1500))
    assert 0.45 <= measured_fill(records) <= 0.55


def test_a_fill_in_between_is_hit_closely() -> None:
    shape = ChainShape(fill=0.25)
    records = list(ChainGenerator(shape, seed=23, headers_only=True).records(2000))
    assert measured_fill(records) == pytest.approx(0.25, abs=0.01)


def test_fills_order_the_log_counts() -> None:
    sparse = ChainGenerator(SPARSE).mean_logs
    middle = ChainGenerator(ChainShape(fill=0.25)).mean_logs
    saturated = ChainGenerator(SATURATED).mean_logs
    assert 1 < sparse < middle < saturated < 2000
    assert FILL_PRESETS == {"sparse": 0.05, "saturated": 0.50}


def test_explicit_logs_per_block_sets_the_mean() -> None:
    records = list(ChainGenerator(ChainShape(logs_per_block=40), seed=2).records(800))
    logs = sum(len(rc["logs"]) for r in records for rc in r["receipts"])
    assert logs / 800 == pytest.approx(40, rel=0.08)


def _address_counts(records: list[GeneratedRecord]) -> Counter[str]:
    return Counter(log["address"] for r in records for rc in r["receipts"] for log in rc["logs"])


def test_top_one_percent_of_contracts_emit_96_percent() -> None:
    shape = ChainShape(logs_per_block=300, contracts=2000)
    records = list(ChainGenerator(shape, seed=3).records(200))
    counts = _address_counts(records)
    total = sum(counts.values())
    assert total > 50_000
    top = sum(n for _, n in counts.most_common(20))  # 1% of 2000 contracts
    assert top / total == pytest.approx(0.96, abs=0.015)
    # The head is skewed but not absurd: no contract emits a third of everything.
    assert counts.most_common(1)[0][1] / total < 0.33


def test_top_share_is_a_parameter() -> None:
    shape = ChainShape(logs_per_block=300, contracts=2000, contract_top_share=0.80)
    counts = _address_counts(list(ChainGenerator(shape, seed=3).records(200)))
    share = sum(n for _, n in counts.most_common(20)) / sum(counts.values())
    assert share == pytest.approx(0.80, abs=0.02)


TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
SIGNATURES = {
    "Transfer": "Transfer(address,address,uint256)",
    "Approval": "Approval(address,address,uint256)",
    "Swap": "Swap(address,uint256,uint256,uint256,uint256,address)",
    "Deposit": "Deposit(address,uint256)",
    "Withdrawal": "Withdrawal(address,uint256)",
    "NameRegistered": "NameRegistered(string,bytes32,address,uint256,uint256,uint256)",
    "TextChanged": "TextChanged(bytes32,string,string,string)",
    "URI": "URI(string,uint256)",
    "TransferSingle": "TransferSingle(address,address,address,uint256,uint256)",
    "ApprovalForAll": "ApprovalForAll(address,address,bool)",
}
TOPIC0 = {"0x" + keccak(text=sig).hex(): name for name, sig in SIGNATURES.items()}


def test_event_mix_is_dominated_by_transfer(saturated_chain: list[GeneratedRecord]) -> None:
    assert TOPIC0[TRANSFER] == "Transfer"
    logs = [log for r in saturated_chain for rc in r["receipts"] for log in rc["logs"]]
    names = Counter(TOPIC0[log["topics"][0]] for log in logs)
    assert set(names) == set(SIGNATURES)  # every event occurs, and no other
    share = {name: n / len(logs) for name, n in names.items()}
    assert 0.60 <= share["Transfer"] <= 0.78
    assert max(share, key=share.__getitem__) == "Transfer"
    strings = share["NameRegistered"] + share["TextChanged"] + share["URI"]
    assert 0.03 <= strings <= 0.07
    # Topic counts follow the signatures: 4-topic TransferSingle, 2-topic Deposit; Transfer
    # has 3 topics and an amount (ERC-20) or 4 and no data (ERC-721, the token id indexed).
    expected = {"TransferSingle": 4, "Deposit": 2, "Withdrawal": 2, "URI": 2}
    nft_transfers = 0
    for log in logs:
        name = TOPIC0[log["topics"][0]]
        if name == "Transfer" and len(log["topics"]) == 4:
            assert log["data"] == "0x"
            assert int(log["topics"][3], 16) < 10_000
            nft_transfers += 1
        elif name == "Transfer":
            assert len(log["topics"]) == 3
            assert len(log["data"]) == 66
        else:
            assert len(log["topics"]) == expected.get(name, 3)
    assert 0.01 <= nft_transfers / len(logs) <= 0.05


def test_mix_is_a_parameter() -> None:
    shape = ChainShape(logs_per_block=100, mix=(("uniswap-pair", 1.0),), contracts=50)
    logs = [
        log
        for r in ChainGenerator(shape, seed=1).records(20)
        for rc in r["receipts"]
        for log in rc["logs"]
    ]
    assert logs
    assert {TOPIC0[log["topics"][0]] for log in logs} == {"Swap"}


def test_many_distinct_addresses(saturated_chain: list[GeneratedRecord]) -> None:
    logs = [log for r in saturated_chain for rc in r["receipts"] for log in rc["logs"]]
    holders = {t for log in logs for t in log["topics"][1:] if t.startswith("0x" + "00" * 12)}
    contracts = {log["address"] for log in logs}
    assert len(holders) > 10_000
    assert len(contracts) > 500


def test_actors_are_named_by_popularity(saturated_chain: list[GeneratedRecord]) -> None:
    from chainindex.errors import SyntheticChainError

    generator = ChainGenerator(SATURATED, seed=12)  # the seed of the saturated chain
    counts = _address_counts(saturated_chain)
    total = sum(counts.values())
    top = "0x" + generator.contract(0).hex()
    assert counts.most_common(1)[0][0] == top
    assert counts[top] / total == pytest.approx(generator.contract_share(0), abs=0.01)
    # A contract deep in the tail is rare, as predicted.
    rare = "0x" + generator.contract(15_000).hex()
    assert counts[rare] <= 3
    assert generator.contract_share(15_000) * total < 1
    holders = Counter(
        t
        for r in saturated_chain
        for rc in r["receipts"]
        for log in rc["logs"]
        for t in log["topics"][1:]
    )
    assert holders.most_common(1)[0][0] == "0x" + "00" * 12 + generator.holder(0).hex()
    with pytest.raises(SyntheticChainError):
        generator.contract(SATURATED.contracts)
