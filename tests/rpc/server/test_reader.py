"""Which ``eth_getLogs`` calls a reader process answers itself: numbered ranges inside its
sealed history only (property test against a reference written here)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rpc.server.reader import sealed_range

FIRST, LAST = 100, 1023

_bound = st.one_of(
    st.integers(0, 2000).map(hex),
    st.sampled_from(["latest", "earliest", "safe", "0x", "0x01", "0X10", "10", ""]),
    st.none(),
    st.integers(0, 2000),
)


def _reference(params: list[Any]) -> bool:
    if len(params) != 1 or not isinstance(params[0], dict):
        return False
    criteria = params[0]
    if criteria.get("blockHash") is not None:
        return False
    numbers = []
    for key in ("fromBlock", "toBlock"):
        value = criteria.get(key)
        if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
            return False
        digits = value[2:]
        if (len(digits) > 1 and digits[0] == "0") or any(
            c not in "0123456789abcdefABCDEF" for c in digits
        ):
            return False
        numbers.append(int(digits, 16))
    return FIRST <= numbers[0] <= numbers[1] <= LAST


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "fromBlock": _bound,
            "toBlock": _bound,
            "blockHash": st.sampled_from([None, "0x" + "ab" * 32]),
            "address": st.just("0x" + "42" * 20),
        },
    ),
    st.integers(0, 2),
)
def test_sealed_range_is_numbered_bounds_inside_the_history(
    criteria: dict[str, Any], extra: int
) -> None:
    params: list[Any] = [criteria, *([{}] * extra)]
    assert sealed_range(params, FIRST, LAST) == _reference(params)


def test_examples() -> None:
    assert sealed_range([{"fromBlock": "0x64", "toBlock": "0x3ff"}], FIRST, LAST)
    assert not sealed_range([{"fromBlock": "0x64", "toBlock": "0x400"}], FIRST, LAST)
    assert not sealed_range([{"fromBlock": "0x63", "toBlock": "0x64"}], FIRST, LAST)
    assert not sealed_range([{"fromBlock": "0x200", "toBlock": "0x100"}], FIRST, LAST)
    assert not sealed_range([{"fromBlock": "0x64", "toBlock": "latest"}], FIRST, LAST)
    assert not sealed_range(["0x64"], FIRST, LAST)
