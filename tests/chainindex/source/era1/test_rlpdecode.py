"""The strict RLP decoder against the independent ``rlp`` package (pyrlp): what one encodes
the other decodes, and the non-canonical forms both reject."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from chainindex.errors import RlpDecodingError
from chainindex.source.era1.rlpdecode import decode, decode_int, split_list

items = st.recursive(
    st.binary(max_size=80), lambda inner: st.lists(inner, max_size=6), max_leaves=30
)


def as_lists(item: Any) -> Any:
    return [as_lists(i) for i in item] if isinstance(item, list | tuple) else bytes(item)


@given(items)
def test_decodes_what_pyrlp_encodes(item: Any) -> None:
    encoded = rlp.encode(item)
    assert decode(encoded) == as_lists(rlp.decode(encoded))
    if isinstance(item, list):
        assert split_list(encoded) == [rlp.encode(i) for i in item]


@given(st.integers(0, 2**256))
def test_integers(value: int) -> None:
    assert decode_int(decode(rlp.encode(value)), "x") == value


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing
        b"\x81\x05",  # a single byte < 0x80 in string form
        b"\xb8\x05hello",  # long form for a short string
        b"\xb9\x00\x38" + b"a" * 56,  # length with a leading zero
        b"\x83ab",  # runs past the input
        b"\xc3\x01\x02",  # list runs past the input
        b"\x01\x02",  # bytes after the item
        b"\xc2\x83a",  # an element runs past its list
    ],
)
def test_rejects_what_is_not_canonical(data: bytes) -> None:
    with pytest.raises(rlp.exceptions.DecodingError):
        rlp.decode(data)
    with pytest.raises(RlpDecodingError):
        decode(data)


def test_integer_with_leading_zero_and_lists() -> None:
    with pytest.raises(RlpDecodingError):
        decode_int(decode(b"\x82\x00\x01"), "x")
    with pytest.raises(RlpDecodingError):
        decode_int(decode(b"\xc0"), "x")
    with pytest.raises(RlpDecodingError):
        split_list(b"\x83abc")
