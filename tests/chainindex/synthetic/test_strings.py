"""The string-bearing events decode with eth-abi into real text drawn from the word list."""

from __future__ import annotations

import re
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from chainindex.synthetic import WORDS, GeneratedRecord
from tests.chainindex.synthetic.test_shape import SIGNATURES
from tests.fixtures import hexbytes

NAME_REGISTERED = "0x" + keccak(text=SIGNATURES["NameRegistered"]).hex()
TEXT_CHANGED = "0x" + keccak(text=SIGNATURES["TextChanged"]).hex()
URI = "0x" + keccak(text=SIGNATURES["URI"]).hex()
VOCABULARY = set(WORDS)
# The fixed parts of URLs and e-mail addresses around the words.
FIXED = {"https", "xyz", "img", "art", "png", "io", "api", "token", "json"}
WORD = re.compile(r"[^\W_]+")
ETH_NODE = keccak(b"\x00" * 32 + keccak(text="eth"))


def is_word_name(name: str) -> bool:
    """word, wordword, word-word, word+digits or digits."""
    if name.isdigit() or name in VOCABULARY:
        return True
    parts = name.split("-")
    if len(parts) == 2:
        return all(p in VOCABULARY for p in parts)
    stripped = name.rstrip("0123456789")
    if stripped != name:
        return stripped in VOCABULARY
    return any(name[:i] in VOCABULARY and name[i:] in VOCABULARY for i in range(1, len(name)))


def string_logs(chain: list[GeneratedRecord], topic0: str) -> list[dict[str, Any]]:
    return [
        log
        for r in chain
        for rc in r["receipts"]
        for log in rc["logs"]
        if log["topics"][0] == topic0
    ]


def test_name_registered_round_trip(
    saturated_chain: list[GeneratedRecord], sparse_chain: list[GeneratedRecord]
) -> None:
    logs = string_logs(saturated_chain + sparse_chain, NAME_REGISTERED)
    assert len(logs) > 100
    names = set()
    for log in logs:
        name, base_cost, premium, expires = decode(
            ["string", "uint256", "uint256", "uint256"], hexbytes(log["data"])
        )
        assert is_word_name(name), name
        assert log["topics"][1] == "0x" + keccak(text=name).hex()  # label = keccak(name)
        assert log["topics"][2].startswith("0x" + "00" * 12)  # owner: an address
        assert base_cost > 0
        assert premium >= 0
        assert expires > int(log["blockTimestamp"], 16)
        names.add(name)
    assert len(names) > len(logs) // 2  # mostly distinct names


def test_text_changed_round_trip(saturated_chain: list[GeneratedRecord]) -> None:
    logs = string_logs(saturated_chain, TEXT_CHANGED)
    assert len(logs) > 100
    keys = set()
    words_seen: set[str] = set()
    for log in logs:
        key, value = decode(["string", "string"], hexbytes(log["data"]))
        assert log["topics"][2] == "0x" + keccak(text=key).hex()  # string indexed key
        keys.add(key)
        tokens = [t.lower() for t in WORD.findall(value)]
        assert tokens
        for token in tokens:
            # A word, a fixed URL part, or the ENS name itself (in ``url`` values).
            assert token in FIXED or is_word_name(token), (key, value)
        words_seen.update(t for t in tokens if t in VOCABULARY)
    assert {"description", "url", "avatar"} <= keys
    assert len(words_seen) > 150  # real variety for a text index


def test_uri_round_trip(saturated_chain: list[GeneratedRecord]) -> None:
    logs = string_logs(saturated_chain, URI)
    assert len(logs) > 20
    for log in logs:
        (value,) = decode(["string"], hexbytes(log["data"]))
        token_id = int(log["topics"][1], 16)
        assert value.endswith(f"/token/{token_id}.json"), value
        host = value.removeprefix("https://api.").split(".io/")[0]
        assert all(part in VOCABULARY for part in host.split("-")), value


def test_word_list_is_clean() -> None:
    assert len(WORDS) >= 500
    assert len(set(WORDS)) == len(WORDS)
    for word in WORDS:
        assert word == word.lower(), word
        assert WORD.fullmatch(word), word
    assert any(not w.isascii() for w in WORDS)  # some non-ASCII text too


DATA_TYPES = {
    "Transfer": ["uint256"],
    "Approval": ["uint256"],
    "Swap": ["uint256"] * 4,
    "Deposit": ["uint256"],
    "Withdrawal": ["uint256"],
    "NameRegistered": ["string", "uint256", "uint256", "uint256"],
    "TextChanged": ["string", "string"],
    "URI": ["string"],
    "TransferSingle": ["uint256", "uint256"],
    "ApprovalForAll": ["bool"],
}


def test_every_log_decodes_strictly_with_eth_abi(saturated_chain: list[GeneratedRecord]) -> None:
    from eth_abi.abi import encode

    from tests.chainindex.synthetic.test_shape import TOPIC0

    seen = set()
    for record in saturated_chain:
        for receipt in record["receipts"]:
            for log in receipt["logs"]:
                name = TOPIC0[log["topics"][0]]
                data = hexbytes(log["data"])
                if name == "Transfer" and len(log["topics"]) == 4:  # ERC-721: all indexed
                    assert data == b""
                    seen.add("Transfer721")
                    continue
                types = DATA_TYPES[name]
                values = decode(types, data, strict=True)
                assert encode(types, values) == data  # canonical: re-encodes to the same bytes
                if name == "ApprovalForAll":
                    assert isinstance(values[0], bool)
                seen.add(name)
    assert seen == {*DATA_TYPES, "Transfer721"}
