"""ABI registry, decoding and the log → document mapping, on the real mainnet fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_typing import Address, BlockNumber, Hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from bloombits.keccak import keccak256
from chainindex.errors import AbiError
from chainindex.logsearch.decode import (
    AbiRegistry,
    decode_event,
    decode_log,
    decode_log_record,
    encode_log_record,
    event_from_json,
    log_document,
    parse_event_signature,
)
from chainindex.logsearch.decode.builtin import builtin_events
from chainindex.logsearch.decode.decoder import decode_word
from chainindex.textindex.errors import IndexCorruptError
from chainindex.types import ChainLog
from tests.chainindex.fixture_logs import mainnet_log_json, mainnet_logs

# Topic 0 of well-known events, as published (Etherscan, the token standards' documentation).
KNOWN_TOPIC0 = {
    "Transfer(address,address,uint256)": (
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    ),
    "Approval(address,address,uint256)": (
        "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"
    ),
    "ApprovalForAll(address,address,bool)": (
        "17307eab39ab6107e8899845ad3d59bd9653f200f220920489ca2b5937696c31"
    ),
    "Deposit(address,uint256)": (
        "e1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c"
    ),
    "Withdrawal(address,uint256)": (
        "7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65"
    ),
    "Sync(uint112,uint112)": ("1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"),
    "Swap(address,uint256,uint256,uint256,uint256,address)": (
        "d78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
    ),
    "Swap(address,address,int256,int256,uint160,uint128,int24)": (
        "c42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
    ),
    "TransferSingle(address,address,address,uint256,uint256)": (
        "c3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62"
    ),
    "TransferBatch(address,address,address,uint256[],uint256[])": (
        "4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb"
    ),
    "OwnershipTransferred(address,address)": (
        "8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0"
    ),
}
TRANSFER = bytes.fromhex(KNOWN_TOPIC0["Transfer(address,address,uint256)"])


def h(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def make_log(topics: list[bytes], data: bytes, address: bytes = b"\x11" * 20) -> ChainLog:
    return ChainLog(
        address=Address(address),
        topics=tuple(Hash32(t) for t in topics),
        data=data,
        block_number=BlockNumber(7),
        block_hash=Hash32(b"\xbb" * 32),
        block_timestamp=1_700_000_000,
        transaction_hash=Hash32(b"\xcc" * 32),
        transaction_index=3,
        log_index=9,
    )


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


# ---------------------------------------------------------------- topic 0 and signatures


def test_builtin_topic0_match_published_values() -> None:
    by_signature = {e.signature: e.topic0.hex() for e in builtin_events()}
    for signature, topic0 in KNOWN_TOPIC0.items():
        assert by_signature[signature] == topic0, signature


def test_builtin_keys_are_unique() -> None:
    keys = [(e.topic0, e.indexed_count) for e in builtin_events()]
    assert len(keys) == len(set(keys))


def test_human_form_round_trips_for_builtins() -> None:
    for event in builtin_events():
        assert parse_event_signature(event.human()) == event


def test_json_abi_with_tuples() -> None:
    entry = {
        "type": "event",
        "name": "Order",
        "anonymous": False,
        "inputs": [
            {"name": "maker", "type": "address", "indexed": True},
            {
                "name": "items",
                "type": "tuple[]",
                "indexed": False,
                "components": [
                    {"name": "token", "type": "address"},
                    {"name": "amount", "type": "uint"},
                ],
            },
        ],
    }
    event = event_from_json(entry)
    assert event.signature == "Order(address,(address,uint256)[])"
    assert event.topic0 == keccak256(b"Order(address,(address,uint256)[])")
    assert event.human() == "Order(address indexed maker,(address token,uint256 amount)[] items)"
    assert parse_event_signature(event.human()) == event


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Foo(uint7 x)", "bad ABI type"),
        (
            "Foo(address indexed a, address indexed b, address indexed c, uint indexed d)",
            "at most 3",
        ),
        ("Foo(uint256 x", "expected Name(parameters)"),
        ("(uint256 x)", "expected Name(parameters)"),
        ("Foo(uint256 x y)", "cannot read parameter"),
        ("Foo((uint256 indexed a) b)", "cannot be indexed"),
    ],
)
def test_bad_signatures_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(AbiError, match=re.escape(message)):
        parse_event_signature(text)


# ---------------------------------------------------------------- the fast word decoder

ELEMENTARY = ["uint8", "uint112", "uint256", "int8", "int24", "int256", "address", "bool"]
ELEMENTARY += ["bytes1", "bytes20", "bytes32"]


def interesting_words() -> st.SearchStrategy[bytes]:
    edges = [0, 1, 2, 255, 256, 2**112 - 1, 2**112, 2**160 - 1, 2**160, 2**255, 2**256 - 1]
    edges += [2**256 - 128, 2**256 - 129, 2**256 - 2**23, 2**256 - 2**23 - 1]
    return st.one_of(
        st.sampled_from(edges).map(word),
        st.binary(min_size=32, max_size=32),
        st.tuples(st.integers(0, 31), st.binary(min_size=1, max_size=32)).map(
            lambda pair: (
                bytes(pair[0]) + pair[1] + bytes(32 - pair[0] - len(pair[1]))
                if pair[0] + len(pair[1]) <= 32
                else word(0)
            )
        ),
    )


def eth_abi_value(type_str: str, value: Any) -> Any:
    if type_str == "address":
        return bytes.fromhex(value[2:])
    return value


@settings(max_examples=400)
@given(st.sampled_from(ELEMENTARY), interesting_words())
def test_word_decoder_agrees_with_eth_abi(type_str: str, raw: bytes) -> None:
    try:
        expected = eth_abi_value(type_str, abi_decode([type_str], raw)[0])
    except DecodingError:
        with pytest.raises(DecodingError):
            decode_word(type_str, raw)
        return
    assert decode_word(type_str, raw) == expected


# ---------------------------------------------------------------- decoding


def test_mainnet_erc20_transfers_decode_exactly() -> None:
    registry = AbiRegistry()
    expected = 0
    decoded_transfers = 0
    for entry, log in zip(mainnet_log_json(), mainnet_logs(), strict=True):
        topics = entry["topics"]
        is_erc20_shape = (
            len(topics) == 3
            and topics[0] == "0x" + TRANSFER.hex()
            and len(entry["data"]) == 2 + 64
            and topics[1][:26] == "0x" + "0" * 24
            and topics[2][:26] == "0x" + "0" * 24
        )
        expected += is_erc20_shape
        decoded = decode_log(log, registry)
        if (
            decoded is not None
            and decoded.event.signature.startswith("Transfer(")
            and (decoded.event.indexed_count == 2)
        ):
            decoded_transfers += 1
            args = {a.name: a.value for a in decoded.args}
            assert args["from"] == h(topics[1])[12:]
            assert args["to"] == h(topics[2])[12:]
            assert args["value"] == int(entry["data"], 16)
    assert decoded_transfers == expected
    assert expected > 2000  # the fixture README: thousands of token transfers


def test_known_values_from_fixture_json() -> None:
    # The first two logs of block 17034870 (the first Shanghai block): the Uniswap V2 router
    # wraps ether at WETH (Deposit) and passes the WETH on to a pair (Transfer).
    registry = AbiRegistry()
    weth = h("c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
    router = h("7a250d5630b4cf539739df2c5dacb4c659f2488d")
    first, second = [lg for lg in mainnet_logs() if lg.block_number == 17034870][:2]
    assert first.address == weth
    assert second.address == weth
    deposit, transfer = decode_log(first, registry), decode_log(second, registry)
    assert deposit is not None
    assert transfer is not None
    assert deposit.name == "Deposit"
    assert transfer.name == "Transfer"
    assert {a.name: a.value for a in deposit.args} == {"dst": router, "wad": 0x014AF2178470F476}
    assert {a.name: a.value for a in transfer.args} == {
        "from": router,
        "to": h("7f7eb34b433e0bea8420a376cee05554ed49b49f"),
        "value": 0x014AF2178470F476,
    }


def test_merge_block_erc721_transfers() -> None:
    # Block 15537394 carries 10,000 four-topic ERC-721 Transfers from one contract (README).
    registry = AbiRegistry()
    contract = h("05f08b01971cf70bcd4e743a8906790cfb9a8fb8")
    token_ids = []
    for log in mainnet_logs():
        if log.block_number != 15537394 or log.address != contract or len(log.topics) != 4:
            continue
        decoded = decode_log(log, registry)
        assert decoded is not None
        assert decoded.event.human() == (
            "Transfer(address indexed from,address indexed to,uint256 indexed tokenId)"
        )
        token_ids.append(decoded.args[2].value)
        assert decoded.args[2].value == int.from_bytes(log.topics[3], "big")
    assert len(token_ids) == 10_000


def test_every_fixture_log_becomes_a_document() -> None:
    registry = AbiRegistry()
    decoded_count = 0
    for log in mainnet_logs():
        decoded = decode_log(log, registry)
        decoded_count += decoded is not None
        doc = log_document(log, decoded)
        assert ("address", "0x" + log.address.hex()) in doc.keywords
        assert ("block", log.block_number) in doc.points
        assert decode_log_record(doc.stored)[0] == log
    assert decoded_count > 13_000  # of 15,419: the common standards dominate


def test_logs_that_do_not_decode() -> None:
    registry = AbiRegistry()
    # Known topic 0, right topic count, data too short.
    short = make_log([TRANSFER, bytes(12) + b"\x01" * 20, bytes(12) + b"\x02" * 20], b"\x00")
    assert decode_log(short, registry) is None
    # Dirty padding in an indexed address.
    dirty = make_log([TRANSFER, b"\x01" * 32, bytes(12) + b"\x02" * 20], word(5))
    assert decode_log(dirty, registry) is None
    # Unknown event, and no topics at all.
    assert decode_log(make_log([b"\x42" * 32], b""), registry) is None
    assert decode_log(make_log([], b"abc"), registry) is None
    doc = log_document(dirty, None)
    assert doc.keywords == [
        ("address", "0x" + "11" * 20),
        ("tx", "0x" + "cc" * 32),
        ("topic0", "0x" + TRANSFER.hex()),
        ("topic1", "0x" + "01" * 32),
        ("topic2", "0x" + "00" * 12 + "02" * 20),
    ]
    assert dict(doc.points) == {
        "block": 7,
        "timestamp": 1_700_000_000,
        "logIndex": 9,
        "topicCount": 3,
    }
    assert doc.texts == []


def test_strings_dynamic_indexed_and_invalid_utf8() -> None:
    registry = AbiRegistry()
    event = parse_event_signature(
        "TextChanged(bytes32 indexed node, string indexed indexedKey, string key, string value)"
    )
    node = b"\x07" * 32
    key_hash = keccak256(b"url")
    data = abi_encode(["bytes", "bytes"], [b"url", b"caf\xc3\xa9 \xff ok"])
    log = make_log([event.topic0, node, key_hash], data)
    decoded = decode_log(log, registry)
    assert decoded is not None
    by_name = {a.name: a for a in decoded.args}
    assert by_name["node"].value == node
    assert not by_name["node"].hashed
    assert by_name["indexedKey"].hashed
    assert by_name["indexedKey"].value == key_hash
    assert by_name["key"].value == "url"
    assert by_name["value"].value == "café \ufffd ok"
    doc = log_document(log, decoded)
    assert ("value", "café \ufffd ok") in doc.texts
    assert ("text", "url") in doc.texts
    assert ("indexedKey", "0x" + key_hash.hex()) in doc.keywords
    assert ("event", "TextChanged") in doc.keywords


def test_name_registered_document() -> None:
    registry = AbiRegistry()
    event = parse_event_signature(
        "NameRegistered(string name, bytes32 indexed label, address indexed owner,"
        " uint256 baseCost, uint256 premium, uint256 expires)"
    )
    label = keccak256(b"vitalik")
    owner = b"\xd8" * 20
    data = abi_encode(["string", "uint256", "uint256", "uint256"], ["vitalik", 5, 0, 2**40])
    log = make_log([event.topic0, label, bytes(12) + owner], data)
    doc = log_document(log, decode_log(log, registry))
    assert ("name", "vitalik") in doc.texts
    assert ("text", "vitalik") in doc.texts
    assert ("label", "0x" + label.hex()) in doc.keywords
    assert ("owner", "0x" + owner.hex()) in doc.keywords
    assert ("signature", "NameRegistered(string,bytes32,address,uint256,uint256,uint256)") in (
        doc.keywords
    )
    assert {"baseCost": 5, "premium": 0, "expires": 2**40}.items() <= dict(doc.points).items()


def test_field_names_arrays_tuples_and_long_bytes() -> None:
    registry = AbiRegistry(builtins=False)
    event = parse_event_signature(
        "Odd(uint256 block, address, (string title, int8[] marks) info, bytes blob, bool flag,"
        " bytes32[] ids)"
    )
    registry.add_event(event)
    values = [3, "0x" + "ab" * 20, ("Hello World", [-1, 2]), b"\x01" * 65, True, [b"\x05" * 32]]
    data = abi_encode(
        ["uint256", "address", "(string,int8[])", "bytes", "bool", "bytes32[]"], values
    )
    log = make_log([event.topic0], data)
    decoded = decode_log(log, registry)
    assert decoded is not None
    doc = log_document(log, decoded)
    points = doc.points
    assert ("arg_block", 3) in points
    assert ("block", 7) in points
    assert ("info.marks", -1) in points
    assert ("info.marks", 2) in points
    assert ("arg1", "0x" + "ab" * 20) in doc.keywords
    assert ("info.title", "Hello World") in doc.texts
    assert ("flag", "true") in doc.keywords
    assert ("ids", "0x" + "05" * 32) in doc.keywords
    assert not any(name == "blob" for name, _ in doc.keywords)  # 65 bytes: stored only


# ---------------------------------------------------------------- the registry


def test_registry_tiers(tmp_path: Path) -> None:
    registry = AbiRegistry()
    pool = b"\x99" * 20
    abi = [
        {
            "type": "event",
            "name": "Transfer",
            "inputs": [
                {"name": "src", "type": "address", "indexed": True},
                {"name": "dst", "type": "address", "indexed": True},
                {"name": "wad", "type": "uint256", "indexed": False},
            ],
        },
        {"type": "function", "name": "transfer", "inputs": []},
        "event Ping(string message)",
    ]
    path = tmp_path / "weth.json"
    path.write_text(json.dumps({"abi": abi, "addresses": ["0x" + pool.hex()]}))
    assert registry.load_file(path) == 2
    topics = [TRANSFER, bytes(12) + b"\x01" * 20, bytes(12) + b"\x02" * 20]
    at_pool = decode_log(make_log(topics, word(4), pool), registry)
    elsewhere = decode_log(make_log(topics, word(4)), registry)
    assert at_pool is not None
    assert elsewhere is not None
    assert [a.name for a in at_pool.args] == ["src", "dst", "wad"]
    assert [a.name for a in elsewhere.args] == ["from", "to", "value"]
    ping = parse_event_signature("Ping(string message)")
    assert decode_log(make_log([ping.topic0], abi_encode(["string"], ["x"]), pool), registry)
    assert decode_log(make_log([ping.topic0], abi_encode(["string"], ["x"])), registry) is None
    # An unbound user ABI applies everywhere and wins over the built-ins.
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([abi[0]]))
    registry.load_file(plain)
    again = decode_log(make_log(topics, word(4)), registry)
    assert again is not None
    assert [a.name for a in again.args] == ["src", "dst", "wad"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"addresses": []}', "must have an 'abi' array"),
        ('{"abi": [], "addresses": ["0x12"]}', "bad address"),
        ('{"abi": {"x": 1}}', "expected an array"),
        ('[{"type": "event", "name": "E", "inputs": [{"name": "a", "type": "uint7"}]}]', "bad ABI"),
        ('[{"type": "event", "name": "E", "inputs": [{"name": "a"}]}]', "has no type"),
    ],
)
def test_bad_abi_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "abi.json"
    path.write_text(content)
    with pytest.raises(AbiError, match=message):
        AbiRegistry().load_file(path)


# ---------------------------------------------------------------- stored records

logs = st.builds(
    ChainLog,
    address=st.binary(min_size=20, max_size=20),
    topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4).map(tuple),
    data=st.binary(max_size=300),
    block_number=st.integers(0, 2**63),
    block_hash=st.binary(min_size=32, max_size=32),
    block_timestamp=st.integers(0, 2**63),
    transaction_hash=st.binary(min_size=32, max_size=32),
    transaction_index=st.integers(0, 2**32 - 1),
    log_index=st.integers(0, 2**32 - 1),
    removed=st.booleans(),
)


@given(logs, st.text(max_size=80))
def test_log_record_round_trip(log: ChainLog, abi: str) -> None:
    record = encode_log_record(log, abi)
    assert decode_log_record(record) == (log, abi)
    with pytest.raises(IndexCorruptError):
        decode_log_record(record[:-1] if abi else record + b"x")


def test_decode_event_rejects_wrong_topic_count() -> None:
    event = parse_event_signature("Transfer(address indexed from, address indexed to, uint256 v)")
    assert decode_event(event, [event.topic0], word(1)) is None
