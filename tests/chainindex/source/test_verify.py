"""The consensus checks on the recorded chains: every fork's header hash rebuilt, every
receipts root matched (against the independent reference too), and each lie refused naming the
block and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from chainindex.errors import InvalidBlockError
from chainindex.source.parse import parse_block, parse_header
from tests.chainindex.consensus_reference import reference_header_hash, reference_receipts_root
from tests.fixtures import all_block_records, hexbytes


def with_receipts() -> list[dict[str, Any]]:
    return [r for r in all_block_records() if "receipts" in r and "mixHash" in r["block"]]


def test_every_recorded_block_passes_and_the_reference_agrees() -> None:
    shapes = set()
    receipt_types: set[str] = set()
    for record in with_receipts():
        block = record["block"]
        parse_block(block, record["receipts"])
        assert reference_header_hash(block) == hexbytes(block["hash"])
        assert reference_receipts_root(record["receipts"]) == hexbytes(block["receiptsRoot"])
        shapes.add(frozenset(block))
        receipt_types.update(r.get("type", "0x0") for r in record["receipts"])
    assert len(shapes) >= 5  # Frontier, London, Shanghai, Cancun, Prague
    assert {"0x0", "0x2", "0x3"} <= receipt_types  # legacy, EIP-1559 and blob receipts


def test_a_header_without_mix_hash_cannot_be_checked() -> None:
    missing = [r["block"] for r in all_block_records() if "mixHash" not in r["block"]]
    assert len(missing) == 2
    for block in missing:
        number = int(block["number"], 16)
        with pytest.raises(InvalidBlockError, match=f"block {number}: the header has no mixHash"):
            parse_header(block)
        parse_header(block, verify=False)


def pick() -> dict[str, Any]:
    """A recorded block of the newest header shape with several receipts and logs."""
    candidates = [
        r
        for r in with_receipts()
        if len(r["receipts"]) > 3 and sum(len(rc["logs"]) for rc in r["receipts"]) > 5
    ]
    return copy.deepcopy(max(candidates, key=lambda r: len(r["block"])))


CHANGED = {
    "parentHash": "0x" + "11" * 32,
    "stateRoot": "0x" + "22" * 32,
    "gasUsed": "0x1",
    "extraData": "0x6c6965",
    "mixHash": "0x" + "33" * 32,
    "baseFeePerGas": "0x7",
    "timestamp": "0x5",
}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_any_changed_header_field_breaks_the_hash(field: str) -> None:
    record = pick()
    block = record["block"]
    assert block[field] != CHANGED[field]
    block[field] = CHANGED[field]
    number = int(block["number"], 16)
    with pytest.raises(InvalidBlockError, match=f"block {number}: hash 0x.* is not keccak256"):
        parse_header(block)
    parse_header(block, verify=False)


def test_a_dropped_fork_field_breaks_the_hash() -> None:
    record = pick()
    block = record["block"]
    del block["baseFeePerGas"]
    with pytest.raises(InvalidBlockError, match=r"hash 0x.* is not keccak256"):
        parse_header(block)


def _log_data(record: dict[str, Any]) -> None:
    receipt = next(rc for rc in record["receipts"] if rc["logs"])
    receipt["logs"][0]["data"] = "0x1234"


def _status(record: dict[str, Any]) -> None:
    receipt = record["receipts"][0]
    receipt["status"] = "0x0" if receipt["status"] == "0x1" else "0x1"


def _cumulative_gas(record: dict[str, Any]) -> None:
    receipt = record["receipts"][0]
    receipt["cumulativeGasUsed"] = hex(int(receipt["cumulativeGasUsed"], 16) + 1)


def _receipt_type(record: dict[str, Any]) -> None:
    receipt = record["receipts"][0]
    receipt["type"] = "0x1" if receipt.get("type") != "0x1" else "0x2"


def _swap_outcomes(record: dict[str, Any]) -> None:
    first, second = record["receipts"][0], record["receipts"][1]
    first["cumulativeGasUsed"], second["cumulativeGasUsed"] = (
        second["cumulativeGasUsed"],
        first["cumulativeGasUsed"],
    )


LIES: dict[str, Callable[[dict[str, Any]], None]] = {
    "log data": _log_data,
    "status": _status,
    "cumulative gas": _cumulative_gas,
    "receipt type": _receipt_type,
    "receipts swapped": _swap_outcomes,
}


@pytest.mark.parametrize("lie", sorted(LIES))
def test_an_altered_receipt_breaks_the_receipts_root(lie: str) -> None:
    record = pick()
    LIES[lie](record)
    number = int(record["block"]["number"], 16)
    with pytest.raises(
        InvalidBlockError, match=f"block {number}: receiptsRoot 0x.* is not the root"
    ):
        parse_block(record["block"], record["receipts"])
    parse_block(record["block"], record["receipts"], verify=False)


def test_a_receipt_without_status_or_root_is_refused() -> None:
    record = pick()
    del record["receipts"][2]["status"]
    with pytest.raises(InvalidBlockError, match="receipt 2 has neither 'status' nor 'root'"):
        parse_block(record["block"], record["receipts"])
