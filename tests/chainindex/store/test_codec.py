"""Record encodings: round trips of random logs and headers, and refusal of damaged records."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from eth_typing import Address, BlockNumber, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from chainindex.errors import CorruptDataError
from chainindex.header_extra import EXTRA_FIELDS, HeaderExtra
from chainindex.store.codec import LogsRecord, decode_logs, encode_logs, logs_record_may_match
from chainindex.store.headerrecord import decode_header, encode_header, header_bloom
from chainindex.types import ChainLog, Header

HEADER = Header(
    BlockNumber(77), Hash32(b"\x11" * 32), Hash32(b"\x22" * 32), 1_700_000_000, b"\x05" * 256
)

# Small pools so that addresses, topics and transactions repeat, as they do on a chain.
addresses = st.sampled_from([bytes([i]) * 20 for i in range(5)])
topics = st.sampled_from([bytes([i]) * 32 for i in range(12)])
tx_hashes = st.sampled_from([bytes([0x80 + i]) * 32 for i in range(6)])


@st.composite
def block_logs(draw: st.DrawFn) -> tuple[ChainLog, ...]:
    count = draw(st.integers(0, 40))
    txs = sorted(draw(st.lists(tx_hashes, min_size=count, max_size=count)))
    out = []
    for index, tx in enumerate(txs):
        out.append(
            ChainLog(
                Address(draw(addresses)),
                tuple(Hash32(t) for t in draw(st.lists(topics, max_size=4))),
                draw(st.binary(max_size=100)),
                HEADER.number,
                HEADER.hash,
                HEADER.timestamp,
                Hash32(tx),
                tx[0] - 0x80,
                index,
            )
        )
    return tuple(out)


@given(block_logs())
def test_logs_round_trip(logs: tuple[ChainLog, ...]) -> None:
    record = encode_logs(logs)
    assert decode_logs(record, HEADER) == logs


@given(block_logs())
def test_columns_describe_the_logs(logs: tuple[ChainLog, ...]) -> None:
    columns = LogsRecord.parse(encode_logs(logs))
    assert len(columns) == len(logs)
    assert [columns.addresses[i] for i in columns.log_address] == [log.address for log in logs]
    assert columns.log_topic_count.tolist() == [len(log.topics) for log in logs]
    assert sorted(set(columns.topics)) == sorted({t for log in logs for t in log.topics})


def test_repeated_values_are_stored_once() -> None:
    log = ChainLog(
        Address(b"\x01" * 20), (Hash32(b"\x02" * 32),) * 4, b"", HEADER.number, HEADER.hash,
        HEADER.timestamp, Hash32(b"\x03" * 32), 0, 0,
    )  # fmt: skip
    logs = tuple(dataclasses.replace(log, log_index=i) for i in range(100))
    # 100 logs: tables hold one tx, one address, one topic; 13 + 16 bytes per log.
    assert len(encode_logs(logs)) == 25 + 36 + 20 + 32 + 100 * (13 + 16)


@settings(max_examples=30)
@given(block_logs().filter(len), st.data())
def test_every_truncation_or_extension_is_refused(
    logs: tuple[ChainLog, ...], data: st.DataObject
) -> None:
    record = encode_logs(logs)
    cut = data.draw(st.integers(0, len(record) - 1))
    with pytest.raises(CorruptDataError):
        decode_logs(record[:cut], HEADER)
    with pytest.raises(CorruptDataError):
        decode_logs(record + b"\x00", HEADER)


def test_inconsistent_records_are_refused() -> None:
    logs = (
        ChainLog(Address(b"\x01" * 20), (Hash32(b"\x02" * 32),), b"abc", HEADER.number, HEADER.hash,
            HEADER.timestamp, Hash32(b"\x03" * 32), 0, 0),
    )  # fmt: skip
    record = bytearray(encode_logs(logs))
    bad_version = b"\x09" + record[1:]
    with pytest.raises(CorruptDataError, match="unknown format 9"):
        decode_logs(bytes(bad_version), HEADER)
    # Point the log at a second address that the table does not have.
    head = struct.calcsize("<BIIIIII")
    addr_ref_at = head + 36 + 20 + 32 + 4
    broken = bytes(record[:addr_ref_at]) + struct.pack("<I", 1) + bytes(record[addr_ref_at + 4 :])
    with pytest.raises(CorruptDataError, match="refers past"):
        decode_logs(broken, HEADER)
    # Claim 4 topics for a log that has one reference.
    count_at = addr_ref_at + 4
    broken = bytes(record[:count_at]) + b"\x04" + bytes(record[count_at + 1 :])
    with pytest.raises(CorruptDataError):
        decode_logs(broken, HEADER)


def test_header_round_trip_and_damage() -> None:
    record = encode_header(HEADER)
    assert len(record) == 297
    assert decode_header(HEADER.number, HEADER.hash, record) == HEADER
    assert header_bloom(record) == HEADER.logs_bloom
    for bad in (record[:-1], b"\x03" + record[1:], b"\x01" + record[1:] + b"\x00", b""):
        with pytest.raises(CorruptDataError, match="malformed header record"):
            decode_header(HEADER.number, HEADER.hash, bad)


def test_a_schema_2_header_record_is_read_without_other_fields() -> None:
    old = struct.pack(">B32sQ256s", 1, HEADER.parent_hash, HEADER.timestamp, HEADER.logs_bloom)
    header = decode_header(HEADER.number, HEADER.hash, old)
    assert (header, header.extra) == (HEADER, b"")
    assert header_bloom(old) == HEADER.logs_bloom


def optional(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), values)


SIZES = {"hash": 32, "address": 20, "nonce": 8}
header_extras = st.builds(
    HeaderExtra,
    **{
        attr: optional(
            st.integers(0, 2**256 - 1)
            if kind == "int"
            else st.binary(max_size=200)
            if kind == "bytes"
            else st.binary(min_size=SIZES[kind], max_size=SIZES[kind])
        )
        for attr, _, kind in EXTRA_FIELDS
    },
)


@settings(deadline=None)  # the machine is shared: no timing in tests
@given(header_extras, st.binary(min_size=256, max_size=256), st.integers(0, 2**64 - 1))
def test_every_header_field_round_trips(extra: HeaderExtra, bloom: bytes, timestamp: int) -> None:
    header = dataclasses.replace(
        HEADER, logs_bloom=bloom, timestamp=timestamp, extra=extra.encode()
    )
    record = encode_header(header)
    decoded = decode_header(HEADER.number, HEADER.hash, record)
    assert (decoded, decoded.timestamp, decoded.logs_bloom) == (header, timestamp, bloom)
    assert HeaderExtra.decode(decoded.extra) == extra
    assert header_bloom(record) == bloom
    given_fields = [name for attr, name, _ in EXTRA_FIELDS if getattr(extra, attr) is not None]
    assert extra.present() == given_fields


@settings(deadline=None)  # the machine is shared: no timing in tests
@given(header_extras, st.data())
def test_damaged_header_fields_are_refused(extra: HeaderExtra, data: st.DataObject) -> None:
    encoded = extra.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(CorruptDataError):
        HeaderExtra.decode(encoded[:cut])
    with pytest.raises(CorruptDataError):
        HeaderExtra.decode(encoded + b"\x00")
    with pytest.raises(CorruptDataError, match="unknown header fields"):
        HeaderExtra.decode(b"\xff" + encoded[1:])


def test_values_that_cannot_be_stored_are_refused() -> None:
    for bad, why in (
        (HeaderExtra(miner=b"\x01" * 21), "miner has 21 bytes, not 20"),
        (HeaderExtra(difficulty=2**256), "difficulty .* is not a 256-bit"),
        (HeaderExtra(extra_data=bytes(70_000)), "extraData is longer than 65535"),
    ):
        with pytest.raises(ValueError, match=why):
            bad.encode()


# Values over two byte values, so that a wanted value also turns up across two neighbouring
# entries of a table (the prefilter must only count whole, aligned entries).
halves = st.sampled_from([b"\x00", b"\x01"])
split_addresses = st.builds(lambda a, b: a * 10 + b * 10, halves, halves)
split_topics = st.builds(lambda a, b: a * 16 + b * 16, halves, halves)


@st.composite
def split_logs(draw: st.DrawFn) -> tuple[ChainLog, ...]:
    count = draw(st.integers(0, 12))
    return tuple(
        ChainLog(
            Address(draw(split_addresses)),
            tuple(Hash32(t) for t in draw(st.lists(split_topics, max_size=4))),
            b"",
            HEADER.number,
            HEADER.hash,
            HEADER.timestamp,
            Hash32(b"\x80" * 32),
            0,
            index,
        )
        for index in range(count)
    )


@settings(max_examples=300)
@given(
    st.one_of(split_logs(), block_logs()),
    st.frozensets(st.one_of(split_addresses, addresses), max_size=3),
    st.lists(st.frozensets(st.one_of(split_topics, topics), min_size=1, max_size=3), max_size=4),
)
def test_prefilter_turns_away_only_records_that_cannot_match(
    logs: tuple[ChainLog, ...], wanted: frozenset[bytes], positions: list[frozenset[bytes]]
) -> None:
    record = encode_logs(logs)
    held_addresses = {log.address for log in logs}
    held_topics = {t for log in logs for t in log.topics}
    expected = (not wanted or bool(wanted & held_addresses)) and all(
        values & held_topics for values in positions
    )
    assert logs_record_may_match(record, wanted, positions) == expected
    # Never wrong about a record holding a matching log (topic positions as in a filter).
    matches = any(
        (not wanted or log.address in wanted)
        and len(log.topics) >= len(positions)
        and all(log.topics[i] in values for i, values in enumerate(positions))
        for log in logs
    )
    if matches:
        assert logs_record_may_match(record, wanted, positions)


def test_prefilter_leaves_damaged_records_to_the_parser() -> None:
    record = encode_logs([])
    assert logs_record_may_match(b"", {b"\x01" * 20}, [])
    assert logs_record_may_match(b"\x09" + record[1:], {b"\x01" * 20}, [])
    assert not logs_record_may_match(record, {b"\x01" * 20}, [])
