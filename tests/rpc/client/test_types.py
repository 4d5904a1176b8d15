"""Decoding answers is strict: a well-formed log or status becomes typed bytes and ints; any
malformed field is a ResponseError naming it, never a half-decoded object."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rpc.client import BlockRef, Log, ResponseError, Status
from rpc.client.types import (
    _decode_log_strictly,
    decode_header,
    decode_log,
    decode_logs,
    decode_status,
)

# A log as the execution-apis fixtures and RPC-CONTRACT.md show it (key order included).
WIRE_LOG: dict[str, Any] = {
    "address": "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df",
    "topics": ["0x" + "11" * 32, "0x" + "2a" * 32],
    "data": "0x0001",
    "blockNumber": "0x1b4",
    "transactionHash": "0x" + "ab" * 32,
    "transactionIndex": "0x0",
    "blockHash": "0x" + "cd" * 32,
    "blockTimestamp": "0x6553f100",
    "logIndex": "0x3",
    "removed": False,
}


def test_a_log_decodes_to_bytes_and_ints() -> None:
    assert decode_log(WIRE_LOG) == Log(
        address=bytes.fromhex("7dcd17433742f4c0ca53122ab541d0ba67fc27df"),  # type: ignore[arg-type]
        topics=(b"\x11" * 32, b"\x2a" * 32),  # type: ignore[arg-type]
        data=b"\x00\x01",
        block_number=0x1B4,  # type: ignore[arg-type]
        block_hash=b"\xcd" * 32,  # type: ignore[arg-type]
        block_timestamp=0x6553F100,
        transaction_hash=b"\xab" * 32,  # type: ignore[arg-type]
        transaction_index=0,
        log_index=3,
        removed=False,
    )


def test_a_log_without_timestamp_has_none() -> None:
    wire = {k: v for k, v in WIRE_LOG.items() if k != "blockTimestamp"}
    assert decode_log(wire).block_timestamp is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("blockNumber", "0x01b4", "blockNumber: hex number with leading zero digits"),
        ("blockNumber", 436, "blockNumber: expected a hex string"),
        ("logIndex", "0x", 'logIndex: hex string "0x" has no digits'),
        ("data", "0x001", "data: hex string of odd length"),
        ("data", "0xzz", "data: invalid hex string"),
        ("address", "0x" + "00" * 19, "address: expected 20 bytes, got 19"),
        ("blockHash", "0x" + "00" * 33, "blockHash: expected 32 bytes, got 33"),
        ("topics", ["0x" + "00" * 32] * 5, "topics: expected a list of at most 4 hashes"),
        ("topics", "0x" + "00" * 32, "topics: expected a list"),
        ("topics", ["0x1234"], "topics: expected 32 bytes"),
        ("removed", "false", "removed: expected true or false"),
        ("transactionIndex", None, "transactionIndex: expected a hex string, got None"),
    ],
)
def test_malformed_log_fields_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        decode_log({**WIRE_LOG, field: value})


MUTATIONS = st.sampled_from(
    [
        lambda v: v.upper(),
        lambda v: v.replace("0x", "0X"),
        lambda v: v.replace("0x", "0x0"),
        lambda v: v.replace("0x", "0x_"),
        lambda v: v[:-1],
        lambda v: v + "0",
        lambda v: v + "00",
        lambda v: " " + v,
        lambda v: v[:4] + " " + v[4:],
        lambda v: v[2:],
        lambda v: "0x" + "f" * 70,
        lambda v: int(v, 16) if v.startswith("0x") and len(v) > 2 else 0,
        lambda v: None,
        lambda v: [v],
    ]
)


@given(
    st.dictionaries(st.sampled_from(sorted(WIRE_LOG)), MUTATIONS, max_size=3),
    st.integers(0, 4),
)
def test_fast_path_agrees_with_the_strict_decoder(mutations: dict[str, Any], topics: int) -> None:
    """Whatever the input, the fast path accepts exactly what the strict decoder accepts,
    with the same result."""
    wire = {**WIRE_LOG, "topics": ["0x" + bytes([i]).hex() * 32 for i in range(topics)]}
    for field, mutate in mutations.items():
        value = wire[field]
        try:
            wire[field] = [mutate(t) for t in value] if isinstance(value, list) else mutate(value)
        except (AttributeError, TypeError, ValueError):
            wire[field] = None
    try:
        expected: Log | str = _decode_log_strictly(wire, "log")
    except ResponseError as err:
        expected = str(err)
    try:
        got: Log | str = decode_log(wire)
    except ResponseError as err:
        got = str(err)
    assert got == expected


def test_missing_field_and_wrong_shapes() -> None:
    with pytest.raises(ResponseError, match="missing field 'transactionHash'"):
        decode_log({k: v for k, v in WIRE_LOG.items() if k != "transactionHash"})
    with pytest.raises(ResponseError, match="eth_getLogs: expected a list of logs"):
        decode_logs({"logs": []}, "eth_getLogs")
    with pytest.raises(ResponseError, match="eth_getLogs: log 1: expected a JSON object"):
        decode_logs([WIRE_LOG, "0x12"], "eth_getLogs")


def test_header() -> None:
    wire = {
        "number": "0x2",
        "hash": "0x" + "01" * 32,
        "parentHash": "0x" + "02" * 32,
        "timestamp": "0x10",
        "logsBloom": "0x" + "00" * 256,
        "miner": "0x" + "00" * 20,
    }
    header = decode_header(wire)
    assert (header.number, header.hash, header.parent_hash, header.timestamp) == (
        2,
        b"\x01" * 32,
        b"\x02" * 32,
        16,
    )
    with pytest.raises(ResponseError, match="logsBloom: expected 256 bytes"):
        decode_header({**wire, "logsBloom": "0x00"})


# The example of RPC-CONTRACT.md.
WIRE_STATUS: dict[str, Any] = {
    "chainId": "0x1",
    "sectionSize": "0x1000",
    "sections": "0x3",
    "indexedUntil": "0x2fff",
    "syncedHead": {"number": "0x3100", "hash": "0x" + "ee" * 32},
    "upstreamHead": "0x3105",
    "lag": "0x5",
    "phase": "following",
    "headersOnly": False,
    "tail": "0x0",
}


def test_status() -> None:
    assert decode_status(WIRE_STATUS) == Status(
        chain_id=1,
        section_size=0x1000,
        sections=3,
        indexed_until=0x2FFF,  # type: ignore[arg-type]
        synced_head=BlockRef(0x3100, b"\xee" * 32),  # type: ignore[arg-type]
        upstream_head=0x3105,  # type: ignore[arg-type]
        lag=5,
        phase="following",
        headers_only=False,
        tail=0,  # type: ignore[arg-type]
    )
    read_only = decode_status(
        {**WIRE_STATUS, "upstreamHead": None, "lag": None, "phase": "read-only", "extra": 1}
    )
    assert (read_only.upstream_head, read_only.lag, read_only.phase) == (None, None, "read-only")
    archive = decode_status({**WIRE_STATUS, "chainId": None})  # an archive has no chain id
    assert archive.chain_id is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sections": "3"}, "sections: hex string without 0x prefix"),
        ({"headersOnly": "no"}, "headersOnly: expected true or false"),
        ({"syncedHead": {"number": "0x1"}}, "syncedHead: missing field 'hash'"),
        ({"phase": None}, "phase: expected a string"),
        ({"lag": "0x05"}, "lag: hex number with leading zero"),
    ],
)
def test_malformed_status(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        decode_status({**WIRE_STATUS, **change})
    missing = {k: v for k, v in WIRE_STATUS.items() if k != "upstreamHead"}
    with pytest.raises(ResponseError, match="missing field 'upstreamHead'"):
        decode_status(missing)
