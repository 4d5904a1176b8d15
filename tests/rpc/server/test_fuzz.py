"""Malformed requests (hypothesis): every answer is a well-formed JSON-RPC answer, almost
always an error, never a traceback; and the server stays up.

Bodies are random bytes, random JSON, and random near-valid calls of every method with
near-valid parameters: hex strings with and without prefix, odd lengths, leading zeros,
wrong sizes, unknown tags, wrong types, too many topics, nested nulls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rpc.conftest import serve_archive
from tests.rpc.serve import ServeProcess

METHODS = [
    "eth_getLogs", "eth_newFilter", "eth_newBlockFilter", "eth_getFilterChanges",
    "eth_getFilterLogs", "eth_uninstallFilter", "eth_subscribe", "eth_unsubscribe",
    "eth_blockNumber", "eth_chainId", "logfilter_status", "eth_getBalance", "", "x" * 300,
]  # fmt: skip

hexish = st.sampled_from(
    [
        "0x", "0x0", "0x00", "0x01", "0x36", "0x37", "0x1", "0X1", "1", "", "latest", "pending",
        "earliest", "safe", "finalized", "LATEST", "0xzz", "0xabc", "0x" + "ab" * 20,
        "0x" + "ab" * 19, "0x" + "ab" * 21, "0x" + "cd" * 32, "0x" + "cd" * 33,
        "0x" + "0" * 64, "0x" + "f" * 17, "0x8000000000000000", " 0x1", "0x1 ", "0x+1",
        "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df",
        "0x00000000000000000000000000000000000000000000000000000000656d6974",
    ]
) | st.from_regex(r"0[xX][0-9a-fA-Fg ]{0,70}", fullmatch=True)  # fmt: skip

scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | hexish
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
topic_position = st.none() | hexish | st.lists(st.none() | hexish | json_values, max_size=4)
filters = st.fixed_dictionaries(
    {},
    optional={
        "fromBlock": hexish | json_values,
        "toBlock": hexish | json_values,
        "blockHash": hexish | json_values,
        "address": hexish | st.lists(hexish | json_values, max_size=4) | json_values,
        "topics": st.lists(topic_position, max_size=6) | json_values,
    },
)
params = st.lists(filters | hexish | json_values, max_size=3) | json_values
calls = st.fixed_dictionaries(
    {
        "jsonrpc": st.just("2.0") | json_values,
        "method": st.sampled_from(METHODS) | json_values,
        "params": params,
    },
    optional={"id": st.integers(-(2**40), 2**40) | st.text(max_size=8) | st.none() | json_values},
)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = (
    st.binary(max_size=120)
    | json_values.map(dumps)
    | calls.map(dumps)
    | st.lists(calls, min_size=1, max_size=5).map(dumps)
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = serve_archive(tmp_path_factory, "--max-results", "50", "--request-timeout", "10")
    yield process
    assert process.alive
    assert process.call("eth_blockNumber") == "0x36"
    assert process.stop() == 0


def check_answer(item: Any) -> None:
    assert isinstance(item, dict), item
    assert item.get("jsonrpc") == "2.0", item
    assert "id" in item, item
    assert ("result" in item) != ("error" in item), item
    assert set(item) <= {"jsonrpc", "id", "result", "error"}, item
    if "error" in item:
        error = item["error"]
        assert isinstance(error["code"], int), item
        assert isinstance(error["message"], str), item
        assert error["message"], item
        assert error["code"] != -32603, item  # an internal error is a bug somewhere


def only_notifications(body: bytes) -> bool:
    try:
        value = json.loads(body)
    except ValueError:
        return False
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(
        isinstance(i, dict) and "id" not in i and i.get("jsonrpc") == "2.0"
        and isinstance(i.get("method"), str) and i["method"] != ""
        and (i.get("params") is None or isinstance(i.get("params"), list))
        for i in items
    )  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_every_answer_is_well_formed(server: ServeProcess, body: bytes) -> None:
    status, answer = server.post(body)
    assert status == 200
    assert b"Traceback" not in answer
    if not answer:
        assert only_notifications(body), body
        return
    value = orjson.loads(answer)
    if isinstance(value, list):
        assert value, body
        for item in value:
            check_answer(item)
    else:
        check_answer(value)
