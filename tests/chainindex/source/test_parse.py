"""Validation of block answers: the real fixtures pass, every kind of damage is named."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from eth_typing import Hash32

from chainindex.errors import InvalidBlockError, MissingBlockError
from chainindex.source.parse import check_links, parse_block, parse_header
from tests.chainindex.reference import reference_header, reference_logs
from tests.fixtures import all_block_records, execution_apis_archive


def test_every_recorded_block_parses_to_its_reference() -> None:
    count = 0
    for record in all_block_records():
        number = int(record["block"]["number"], 16)
        # Two ethereum-etl blocks have no mixHash, so their hash cannot be checked (they are
        # refused with verification on: tests/chainindex/source/test_verify.py).
        verify = "mixHash" in record["block"]
        block = parse_block(record["block"], record["receipts"], number, verify=verify)
        assert block.header == reference_header(record["block"])
        assert block.logs is not None
        assert list(block.logs) == reference_logs(record["block"], record["receipts"])
        count += 1
    assert count == 55 + 17


def _block_3() -> dict[str, Any]:
    """Block 3 of the execution-apis chain: 3 transactions, 10 logs."""
    with execution_apis_archive().open("rb") as f:
        for line in f:
            record: dict[str, Any] = orjson.loads(line)
            if record["block"]["number"] == "0x3":
                return record
    raise AssertionError("block 3 not found")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(record: dict[str, Any]) -> None:
        target: Any = record
        *parts, last = path.split(".")
        for part in parts:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _drop_last_receipt(record: dict[str, Any]) -> None:
    record["receipts"].pop()


def _drop_a_log(record: dict[str, Any]) -> None:
    record["receipts"][2]["logs"].pop(3)


def _swap_logs(record: dict[str, Any]) -> None:
    logs = record["receipts"][2]["logs"]
    logs[0], logs[1] = logs[1], logs[0]


def _drop_timestamp(record: dict[str, Any]) -> None:
    record["block"].pop("timestamp")


OTHER = "0x" + "ee" * 32

DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "block bloom": (_set("block.logsBloom", "0x" + "00" * 256), "logsBloom is not the bloom"),
    "receipt bloom": (_set("receipts.2.logsBloom", "0x" + "ff" * 256), "receipt 2: logsBloom"),
    "truncated receipts": (_drop_last_receipt, "2 receipts for 3 transactions"),
    "missing log": (_drop_a_log, "log indexes are not contiguous"),
    "log order": (_swap_logs, "log indexes are not contiguous at log 0"),
    "log address": (_set("receipts.2.logs.0.address", "0x" + "11" * 20), "logsBloom is not"),
    "log topic": (_set("receipts.2.logs.0.topics.0", OTHER), "logsBloom is not"),
    "log block hash": (_set("receipts.2.logs.1.blockHash", OTHER), "log 1 belongs to another"),
    "log block number": (_set("receipts.2.logs.1.blockNumber", "0x4"), "another block"),
    "log tx hash": (_set("receipts.2.logs.0.transactionHash", OTHER), "another transaction"),
    "log timestamp": (_set("receipts.2.logs.0.blockTimestamp", "0x1"), "blockTimestamp"),
    "log removed": (_set("receipts.2.logs.0.removed", True), "marked removed"),
    "log data": (_set("receipts.2.logs.0.data", "0x123"), "odd length"),
    "receipt block": (_set("receipts.2.blockHash", OTHER), "receipt 2 belongs to another"),
    "receipt tx": (_set("receipts.1.transactionHash", OTHER), "receipt 1 is for another"),
    "receipt index": (_set("receipts.1.transactionIndex", "0x5"), "wrong transactionIndex"),
    "header hash": (_set("block.hash", "0x12"), "hash: expected 32 bytes"),
    "header number": (_set("block.number", "0x03"), "leading zero"),
    "no timestamp": (_drop_timestamp, "no 'timestamp' field"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_answers_are_rejected_naming_the_block(kind: str) -> None:
    record = _block_3()
    parse_block(record["block"], record["receipts"], 3)  # intact: fine
    mutate, message = DAMAGE[kind]
    damaged = copy.deepcopy(record)
    mutate(damaged)
    # the structural checks, each on its own (with verification on, a changed header field
    # fails the hash check first: tests/chainindex/source/test_verify.py)
    with pytest.raises(InvalidBlockError, match=message) as info:
        parse_block(damaged["block"], damaged["receipts"], 3, verify=False)
    assert info.value.number == 3
    assert str(info.value).startswith("block 3: ")


def test_wrong_number_and_missing_block() -> None:
    record = _block_3()
    with pytest.raises(InvalidBlockError, match="block 4: the upstream answered with block 3"):
        parse_header(record["block"], 4)
    with pytest.raises(MissingBlockError, match="block 9: the upstream does not have"):
        parse_header(None, 9)
    with pytest.raises(InvalidBlockError, match="no receipts"):
        parse_block(record["block"], None, 3)


def test_links() -> None:
    records = all_block_records()
    headers = [reference_header(next(records)["block"]) for _ in range(6)]
    check_links(headers, headers[0].parent_hash)
    check_links(headers[1:], headers[0].hash)
    with pytest.raises(InvalidBlockError, match=r"block 0: parentHash 0x0+ does not extend"):
        check_links(headers, headers[1].hash)
    with pytest.raises(InvalidBlockError, match="block 3: follows block 1 in the answer"):
        check_links([headers[1], headers[3]], None)
    forged = dataclasses.replace(headers[3], parent_hash=Hash32(b"\x01" * 32))
    with pytest.raises(InvalidBlockError, match=r"block 3: parentHash 0x0101.* is not the hash"):
        check_links([*headers[:3], forged, *headers[4:]], None)
