"""The strict hex codecs against a reference written from the JSON-RPC spec's rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainindex.errors import HexError
from chainindex.hexutil import (
    decode_address,
    decode_data,
    decode_hash,
    decode_quantity,
    encode_data,
    encode_quantity,
)

# The reference: a quantity is 0x, then "0" or a non-zero digit followed by digits, at most
# 64 digits; data is 0x and pairs of hex digits.
QUANTITY = re.compile(r"0[xX](0|[1-9a-fA-F][0-9a-fA-F]{0,63})")
DATA = re.compile(r"0[xX]([0-9a-fA-F]{2})*")

hexish = st.text(alphabet="0123456789abcdefABCDEFxX _+-g\n", max_size=70)


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_quantity_round_trip(value: int) -> None:
    text = encode_quantity(value)
    assert QUANTITY.fullmatch(text)
    assert decode_quantity(text) == value


@given(st.one_of(hexish, hexish.map(lambda s: "0x" + s)))
def test_quantity_decoding_agrees_with_reference(text: str) -> None:
    if QUANTITY.fullmatch(text):
        assert decode_quantity(text) == int(text[2:], 16)
    else:
        with pytest.raises(HexError):
            decode_quantity(text)


@given(st.binary(max_size=64))
def test_data_round_trip(value: bytes) -> None:
    text = encode_data(value)
    assert text == "0x" + value.hex()
    assert decode_data(text) == value
    assert decode_data(text.upper().replace("0X", "0x")) == value


@given(st.one_of(hexish, hexish.map(lambda s: "0x" + s)))
def test_data_decoding_agrees_with_reference(text: str) -> None:
    if DATA.fullmatch(text):
        assert decode_data(text) == bytes.fromhex(text[2:])
    else:
        with pytest.raises(HexError):
            decode_data(text)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0x", 'hex string "0x" has no digits'),
        ("0x01", "leading zero"),
        ("1", "without 0x prefix"),
        ("0x1_0", "invalid hex number"),
        ("0x 1", "invalid hex number"),
        ("0x" + "1" * 65, "larger than 256 bits"),
        (12, "expected a hex string, got 12"),
        (None, "expected a hex string, got None"),
    ],
)
def test_bad_quantities_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(HexError, match=message) as info:
        decode_quantity(value, "fromBlock")
    assert str(info.value).startswith("fromBlock: ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0x123", "odd length"),
        ("0xzz", "invalid hex string"),
        ("0x12 34", "odd length"),
        ("0x12 345", "invalid hex string"),
        ("abcd", "without 0x prefix"),
        (b"0x12", "expected a hex string"),
    ],
)
def test_bad_data_says_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(HexError, match=message):
        decode_data(value)


def test_fixed_sizes() -> None:
    assert decode_hash("0x" + "ab" * 32) == b"\xab" * 32
    assert decode_address("0x" + "CD" * 20) == b"\xcd" * 20
    with pytest.raises(HexError, match="expected 32 bytes, got 31"):
        decode_hash("0x" + "ab" * 31)
    with pytest.raises(HexError, match="address: expected 20 bytes, got 32"):
        decode_address("0x" + "ab" * 32)
    with pytest.raises(ValueError, match="non-negative"):
        encode_quantity(-1)
