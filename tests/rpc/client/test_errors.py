"""Error objects are classified right: limit errors (by the contract's code and data, or by
the wording providers use) carry the suggested range; everything else stays a NodeError."""

from __future__ import annotations

from typing import Any

import pytest

from bloombits.errors import LogfilterError
from rpc.client import (
    BlockLimitError,
    ClientError,
    InvalidArgumentError,
    LimitError,
    NodeError,
    RequestTimeoutError,
    ResponseError,
    TransportError,
)
from rpc.client.errors import node_error

# Real wordings of range / result-count refusals (providers' public documentation and
# answers), with the range they suggest when they do.
LIMIT_MESSAGES: list[tuple[int, str, Any, tuple[int, int] | None]] = [
    (
        -32005,
        "query returned more than 10000 results; try with this block range [0x10, 0x2f]",
        {"limit": "results", "max": 10000, "from": "0x10", "to": "0x2f"},
        (0x10, 0x2F),
    ),
    (-32005, "query returned more than 10000 results", None, None),
    (-32005, "query returned more than 10000 results", {"from": "0x1", "to": "0x5"}, (1, 5)),
    (-32000, "query exceeds max block range 100000", None, None),
    (-32602, "query exceeds max results 20000, retry with the range 12-100", None, (12, 100)),
    (
        -32602,
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
        "range and no limit on the response size, or you can request any block range with a cap "
        "of 10K logs in the response. Based on your parameters, this block range should work: "
        "[0x1234, 0x1300]",
        None,
        (0x1234, 0x1300),
    ),
    (-32000, "block range is too wide", None, None),
    (-32000, "Block range limit exceeded.", None, None),
    (-32614, "eth_getLogs is limited to a 10,000 range", None, None),
    (-32000, "exceed maximum block range: 3000", None, None),
    (-32005, "Too many results", None, None),
    (-32000, "Requested range exceeds maximum range limit", None, None),
]

NOT_LIMITS: list[tuple[int, str, Any]] = [
    (-32005, "rate limit exceeded", None),
    (429, "Too Many Requests", None),
    (-32005, "request body too large (max 5242880 bytes)", None),
    (-32005, "too many filters on this connection (max 100)", None),
    (-32602, "invalid argument 0: hex string has odd length", None),
    (-32000, "filter not found", None),
    (-32002, "request timed out", None),
]


@pytest.mark.parametrize(("code", "message", "data", "suggested"), LIMIT_MESSAGES)
def test_limit_errors_are_recognised(
    code: int, message: str, data: Any, suggested: tuple[int, int] | None
) -> None:
    error = node_error("eth_getLogs", code, message, data)
    assert isinstance(error, LimitError)
    assert error.suggested == suggested
    assert (error.code, error.rpc_message, error.data) == (code, message, data)


@pytest.mark.parametrize(
    ("message", "kind", "maximum"),
    [
        ("query returned more than 10000 results", "results", 10000),
        ("query exceeds max results 20000, retry with the range 12-100", "results", 20000),
        ("query exceeds max block range 100000", "blockRange", 100000),
        ("exceed maximum block range: 3000", "blockRange", 3000),
        ("eth_getLogs is limited to a 10,000 range", "blockRange", 10000),
        ("block range is too wide", None, None),
    ],
)
def test_limits_stated_in_words(message: str, kind: str | None, maximum: int | None) -> None:
    error = node_error("eth_getLogs", -32000, message)
    assert isinstance(error, LimitError)
    assert (error.kind, error.maximum) == (kind, maximum)


def test_contract_data_gives_kind_and_maximum() -> None:
    data = {"limit": "blockRange", "max": 100000, "from": "0x0", "to": "0x1869f"}
    error = node_error("eth_getLogs", -32005, "query exceeds max block range 100000", data)
    assert isinstance(error, LimitError)
    assert (error.kind, error.maximum, error.suggested) == ("blockRange", 100000, (0, 0x1869F))


@pytest.mark.parametrize(("code", "message", "data"), NOT_LIMITS)
def test_other_errors_are_not_limits(code: int, message: str, data: Any) -> None:
    error = node_error("eth_getLogs", code, message, data)
    assert type(error) is NodeError
    assert str(error) == f"eth_getLogs: {message} (code {code})"


def test_hierarchy() -> None:
    for cls in (InvalidArgumentError, TransportError, ResponseError, NodeError):
        assert issubclass(cls, ClientError)
    assert not issubclass(ClientError, LogfilterError)  # the client's own root
    assert issubclass(RequestTimeoutError, TransportError)
    assert issubclass(BlockLimitError, LimitError)
    assert issubclass(InvalidArgumentError, ValueError)
    cause = node_error("eth_getLogs", -32005, "query returned more than 5 results")
    assert isinstance(cause, LimitError)
    single = BlockLimitError(42, cause)
    assert single.block == 42
    assert "block 42 alone is over the server's limit" in str(single)
