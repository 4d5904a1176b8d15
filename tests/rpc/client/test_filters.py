"""Filter criteria: every accepted spelling normalises to geth's meaning; bad ones are refused.

The property tests draw criteria in their canonical form (the reference), spell them the many
ways callers do (bytes, hex in either case, one value or a list, ``[]``/``None``/a ``None``
alternative for a wildcard position), and check that :meth:`Filter.of` gets back exactly the
reference, and that the wire form decodes back to it.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_typing import Address, Hash32
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from hypothesis import given
from hypothesis import strategies as st

from rpc.client import Filter, InvalidArgumentError

Position = tuple[bytes, ...] | None


def spell_bytes(draw: st.DrawFn, value: bytes, address: bool = False) -> Any:
    """One of the ways a caller writes ``value``."""
    forms = [
        value,
        bytearray(value),
        HexBytes(value),
        "0x" + value.hex(),
        "0x" + value.hex().upper(),
        "0X" + value.hex(),
    ]
    if address:
        forms.append(to_checksum_address(value))
    return draw(st.sampled_from(forms))


@st.composite
def criteria(draw: st.DrawFn) -> tuple[dict[str, Any], Filter]:
    """Keyword arguments for :meth:`Filter.of`, and the filter they mean."""
    addresses = draw(st.none() | st.lists(st.binary(min_size=20, max_size=20), max_size=4))
    positions: list[Position] = draw(
        st.lists(
            st.none()
            | st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=3).map(tuple),
            max_size=4,
        )
    )
    spelled_address: Any
    if addresses is None:
        spelled_address = draw(st.sampled_from([None, []]))
    elif len(addresses) == 1 and draw(st.booleans()):
        spelled_address = spell_bytes(draw, addresses[0], address=True)
    else:
        spelled_address = [spell_bytes(draw, a, address=True) for a in addresses]
    spelled_topics: list[Any] = []
    for position in positions:
        if position is None:
            wildcard = draw(st.sampled_from(["none", "empty", "null-alternative"]))
            if wildcard == "none":
                spelled_topics.append(None)
            elif wildcard == "empty":
                spelled_topics.append([])
            else:
                other = draw(st.binary(min_size=32, max_size=32))
                spelled_topics.append([spell_bytes(draw, other), None])
        elif len(position) == 1 and draw(st.booleans()):
            spelled_topics.append(spell_bytes(draw, position[0]))
        else:
            spelled_topics.append([spell_bytes(draw, t) for t in position])
    blocks = draw(st.sampled_from(["range", "range", "hash"]))
    no_topics: list[Any] | None = draw(st.sampled_from([None, []]))  # both mean "any topics"
    kwargs: dict[str, Any] = {
        "address": spelled_address,
        "topics": spelled_topics if positions else no_topics,
    }
    expected_blocks: dict[str, Any] = {}
    if blocks == "hash":
        block_hash = draw(st.binary(min_size=32, max_size=32))
        kwargs["block_hash"] = spell_bytes(draw, block_hash)
        expected_blocks["block_hash"] = block_hash
    else:
        tags = st.sampled_from(["latest", "safe", "finalized", "earliest"])
        first = draw(st.none() | st.integers(0, 2**40) | tags)
        last = draw(st.none() | st.integers(0, 2**40) | tags)
        if isinstance(first, int) and isinstance(last, int) and first > last:
            first, last = last, first
        kwargs["from_block"] = (
            hex(first) if isinstance(first, int) and draw(st.booleans()) else first
        )
        kwargs["to_block"] = last
        expected_blocks = {"from_block": first, "to_block": last}
    expected = Filter(
        addresses=tuple(Address(a) for a in addresses) if addresses else None,
        topics=tuple(None if p is None else tuple(Hash32(t) for t in p) for p in positions),
        **expected_blocks,
    )
    return kwargs, expected


@given(criteria())
def test_every_spelling_normalises_to_the_reference(case: tuple[dict[str, Any], Filter]) -> None:
    kwargs, expected = case
    assert Filter.of(**kwargs) == expected


@given(criteria())
def test_wire_form_decodes_back(case: tuple[dict[str, Any], Filter]) -> None:
    _, expected = case
    params = expected.to_params()
    assert Filter.from_params(params) == expected
    # The wire form is geth's: lowercase hex, one string for one value, null kept in place.
    for position, wire in zip(expected.topics, params.get("topics", []), strict=True):
        if position is None:
            assert wire is None
        elif len(position) == 1:
            assert wire == "0x" + position[0].hex()
        else:
            assert wire == ["0x" + t.hex() for t in position]


def test_trailing_wildcards_are_kept() -> None:
    """geth: a log with fewer topics than positions does not match, so [A, null] != [A]."""
    topic = b"\x01" * 32
    f = Filter.of(topics=[topic, None, []])
    assert f.topics == ((topic,), None, None)
    assert f.to_params()["topics"] == ["0x" + topic.hex(), None, None]


def test_web3_filter_params() -> None:
    address = bytes(range(20))
    params = {
        "fromBlock": 5,
        "toBlock": "latest",
        "address": [to_checksum_address(address)],
        "topics": [HexBytes(b"\x02" * 32)],
    }
    expected = Filter(5, "latest", (Address(address),), ((Hash32(b"\x02" * 32),),))
    assert Filter.from_params(params) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topics": [None] * 5}, "exceed max topics"),
        ({"topics": "0x" + "00" * 32}, "topics: expected a list"),
        ({"topics": [b"\x00" * 31]}, "topic 0: expected 32 bytes, got 31"),
        ({"topics": [["0x" + "00" * 32, "0x1"]]}, "topic 0[1]: hex string of odd length"),
        ({"topics": [[5]]}, "topic 0[0]: expected a hex string"),
        ({"address": "0x" + "00" * 19}, "address: expected 20 bytes, got 19"),
        ({"address": ["0x" + "zz" * 20]}, "address 0: invalid hex string"),
        ({"address": "00" * 20}, "without 0x prefix"),
        ({"address": 5}, "address: expected an address or a list"),
        ({"from_block": "pending"}, "pending logs are not supported"),
        ({"to_block": "newest"}, "unknown block tag 'newest'"),
        ({"from_block": -1}, "non-negative"),
        ({"from_block": True}, "expected a block number or tag"),
        ({"from_block": "0x01"}, "leading zero"),
        ({"from_block": 9, "to_block": 8}, "invalid block range params"),
        ({"block_hash": b"\x00" * 32, "from_block": 1}, "cannot specify both block_hash"),
        ({"block_hash": "0x1234"}, "block_hash: expected 32 bytes"),
    ],
)
def test_bad_criteria_are_refused_with_the_reason(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message.replace("[", r"\[")):
        Filter.of(**kwargs)


def test_unknown_web3_field_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown filter field"):
        Filter.from_params({"fromBlock": 1, "toblock": 2})


def test_subscription_filter_takes_no_range() -> None:
    assert Filter.of(address=b"\x01" * 20).subscription_params() == {"address": "0x" + "01" * 20}
    with pytest.raises(InvalidArgumentError, match="logs subscription follows new blocks"):
        Filter.of(from_block=1).subscription_params()
