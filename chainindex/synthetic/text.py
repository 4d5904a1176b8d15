"""Real text for the string-bearing events: ENS names, text records, token URIs, and their ABI data.

Every string is made of words of :data:`~chainindex.synthetic.words.WORDS` (chosen by the caller
with a Zipf law) and a few fixed separators, so a text index built over the decoded logs has
real, searchable words. The data of each event is the exact ABI encoding of its non-indexed
arguments: strings go through eth-abi's ``string`` encoder, the static head words (offsets and
integers) are 32-byte big-endian words, as the ABI specifies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eth_abi.registry import registry

from bloombits.keccak import keccak256
from chainindex.synthetic.words import WORDS

__all__ = [
    "ETH_NODE",
    "NAME_STYLES",
    "TEXT_KEYS",
    "encode_name_registered",
    "encode_text_changed",
    "encode_uri",
    "ens_name",
    "ens_node",
    "text_value",
    "token_uri",
]

NAME_STYLES = (0.30, 0.30, 0.10, 0.20, 0.10)
"""Probabilities of the ENS name styles: word, wordword, word-word, word+digits, digits."""

TEXT_KEYS: tuple[str, ...] = (
    "description",
    "url",
    "avatar",
    "com.twitter",
    "com.github",
    "email",
    "location",
    "name",
)
"""ENS text record keys, most frequent first."""

TEXT_KEY_WEIGHTS = (0.35, 0.15, 0.15, 0.10, 0.08, 0.07, 0.05, 0.05)
"""How often each text record key is set."""

ETH_NODE = keccak256(b"\x00" * 32 + keccak256(b"eth"))
"""namehash("eth"): the parent node of every ``.eth`` name."""

_STRING_ENCODER: Callable[[str], bytes] = registry.get_encoder("string")  # type: ignore[assignment]


def _encode_string(value: str) -> bytes:
    """The ABI tail of one string: its length word, then its UTF-8 bytes padded to 32."""
    return _STRING_ENCODER(value)


def _word(index: int) -> str:
    return WORDS[index]


def ens_name(style: int, first: int, second: int, number: int) -> str:
    """An ENS label (without ``.eth``) in one of the :data:`NAME_STYLES`."""
    if style == 0:
        return _word(first)
    if style == 1:
        return _word(first) + _word(second)
    if style == 2:
        return f"{_word(first)}-{_word(second)}"
    if style == 3:
        return f"{_word(first)}{number % 1000}"
    return str(100 + number % 9900)


def ens_node(label_hash: bytes) -> bytes:
    """namehash(``<label>.eth``) from the label's keccak256."""
    return keccak256(ETH_NODE + label_hash)


def text_value(key: int, name: str, words: Sequence[int], number: int) -> str:
    """The value of text record ``TEXT_KEYS[key]`` for the name ``name``.

    ``words`` holds at least two word indexes; a description uses ``3 + number % 10`` of them
    when available (the caller passes twelve).
    """
    w = [_word(i) for i in words]
    match TEXT_KEYS[key]:
        case "description":
            count = min(len(w), 3 + number % 10)
            return " ".join(w[:count]).capitalize()
        case "url":
            return f"https://{name}.xyz/{w[0]}"
        case "avatar":
            return f"https://img.{w[0]}{w[1]}.art/{number}.png"
        case "com.twitter":
            return f"{w[0]}_{w[1]}"
        case "com.github":
            return f"{w[0]}-{w[1]}"
        case "email":
            return f"{w[0]}@{w[1]}.io"
        case "location":
            return f"{w[0].capitalize()} {w[1]}"
        case _:  # "name"
            return f"{w[0].capitalize()} {w[1].capitalize()}"


def token_uri(token_id: int, first: int, second: int) -> str:
    """An ERC-1155 metadata URI naming two words and the token id."""
    return f"https://api.{_word(first)}-{_word(second)}.io/token/{token_id}.json"


def _word32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def encode_name_registered(name: str, base_cost: int, premium: int, expires: int) -> bytes:
    """ABI data of ``NameRegistered``: ``(string name, uint256, uint256, uint256)``."""
    return (
        _word32(0x80)
        + _word32(base_cost)
        + _word32(premium)
        + _word32(expires)
        + _encode_string(name)
    )


def encode_text_changed(key: str, value: str) -> bytes:
    """ABI data of ``TextChanged``: ``(string key, string value)``."""
    key_encoded = _encode_string(key)
    return _word32(0x40) + _word32(0x40 + len(key_encoded)) + key_encoded + _encode_string(value)


def encode_uri(value: str) -> bytes:
    """ABI data of ``URI``: ``(string value)``."""
    return _word32(0x20) + _encode_string(value)
