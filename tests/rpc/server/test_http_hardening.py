"""The HTTP edge of a real ``logfilter serve`` refuses what geth refuses and never shows a
server page: JSON media types only (415 otherwise, as go-ethereum's ``validateRequest``),
request bodies in gzip or deflate decoded within the body limit (a broken one is a JSON-RPC
parse error), no ``Server`` header; and request ids are answered as the request wrote them."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures import execution_apis_archive
from tests.rpc.conftest import ARCHIVE_ARGS
from tests.rpc.serve import ServeProcess

CALL = b'{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber","params":[]}'
REFUSED = b"invalid content type, only application/json is supported\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Path]]:
    folder = tmp_path_factory.mktemp("hardening")
    log = folder / "serve.log"
    process = ServeProcess(
        "--upstream", str(execution_apis_archive()), "--datadir", str(folder / "dd"),
        *ARCHIVE_ARGS, "--max-body-bytes", "100000", log=log,
    ).start()  # fmt: skip
    process.wait_synced(54, sections=6)
    yield process, log
    assert process.stop() == 0
    assert "Traceback" not in log.read_text()


def post(
    server: ServeProcess, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", "/", body, headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def chain_id_answer(status: int, body: bytes) -> None:
    assert status == 200, body
    assert orjson.loads(body) == {
        "jsonrpc": "2.0",
        "id": 7,
        "result": "0x36",
    }  # the archive's head: 54


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;",
        "application/json-rpc",
        "application/jsonrequest",
    ],
)
def test_json_media_types_are_served(server: tuple[ServeProcess, Path], content_type: str) -> None:
    status, _, body = post(server[0], CALL, {"Content-Type": content_type})
    chain_id_answer(status, body)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/json",
        "application/jsonx",
        "application/json; charset",
        "application/json; charset=utf-8; charset=utf-8",
        "application/json, text/plain",
    ],
)
def test_other_media_types_get_415(
    server: tuple[ServeProcess, Path], content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, _, body = post(server[0], CALL, headers)
    assert (status, body) == (415, REFUSED)


def test_encoded_bodies(server: tuple[ServeProcess, Path]) -> None:
    process = server[0]
    json = {"Content-Type": "application/json"}
    for coding, data in [
        ("gzip", gzip.compress(CALL)),
        ("x-gzip", gzip.compress(CALL)),
        ("deflate", zlib.compress(CALL)),
        ("identity", CALL),
    ]:
        status, _, body = post(process, data, {**json, "Content-Encoding": coding})
        chain_id_answer(status, body)


@pytest.mark.parametrize(
    "data",
    [
        b"this is not gzip",
        gzip.compress(CALL)[:-6],  # truncated
        gzip.compress(CALL) + b"junk",
        b"",
    ],
)
def test_broken_gzip_is_a_parse_error(server: tuple[ServeProcess, Path], data: bytes) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    status, found, body = post(server[0], data, headers)
    assert status == 200
    assert found["content-type"] == "application/json"
    answer = orjson.loads(body)
    assert answer["id"] is None
    assert answer["error"]["code"] == -32700
    assert "Content-Encoding" in answer["error"]["message"]
    chain_id_answer(*post(server[0], CALL, {"Content-Type": "application/json"})[::2])


def test_decoded_size_is_limited(server: tuple[ServeProcess, Path]) -> None:
    bomb = gzip.compress(b" " * 2_000_000)  # 2 MB of spaces, a few KB compressed
    assert len(bomb) < 100_000
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    status, _, body = post(server[0], bomb, headers)
    assert status == 200
    error = orjson.loads(body)["error"]
    assert error["code"] == -32005
    assert "100000" in error["message"]


def test_unknown_coding_gets_415(server: tuple[ServeProcess, Path]) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": "br"}
    status, _, body = post(server[0], CALL, headers)
    assert status == 415
    assert b"unsupported content encoding 'br'" in body


def test_no_server_header(server: tuple[ServeProcess, Path]) -> None:
    process = server[0]
    answers = [
        post(process, CALL, {"Content-Type": "application/json"}),
        post(process, CALL, {"Content-Type": "text/plain"}),
    ]
    conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=30)
    for method, path in [("GET", "/nowhere"), ("PUT", "/"), ("GET", "/metrics"), ("GET", "/")]:
        conn.request(method, path)
        response = conn.getresponse()
        answers.append(
            (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        )
    conn.close()
    assert [status for status, _, _ in answers] == [200, 415, 404, 405, 200, 400]
    for _, headers, _ in answers:
        assert "server" not in headers
    # aiohttp's page for a request it cannot parse names a server, but no versions.
    with socket.create_connection(("127.0.0.1", process.port), timeout=30) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = raw.recv(65536).lower()
    assert reply.startswith(b"http/1.0 400")
    head = reply.partition(b"\r\n\r\n")[0].split(b"\r\n")
    assert [line for line in head if line.startswith(b"server:")] == [b"server: logfilter"]


NUMBER = r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?"
"""JSON's number grammar (RFC 8259 section 6), bounded."""

ids = st.one_of(
    st.from_regex(NUMBER, fullmatch=True),
    st.integers(min_value=-(2**200), max_value=2**200).map(str),
    st.text(max_size=20).map(lambda s: json.dumps(s)),
    st.just("null"),
)


def raw_ids(body: bytes) -> list[object]:
    """The ids of an answer (or batch), numbers as their JSON text."""

    def number(text: str) -> tuple[str, str]:
        return ("number", text)

    answer = json.loads(body, parse_int=number, parse_float=number)
    answers = answer if isinstance(answer, list) else [answer]
    return [a["id"] for a in answers]


def expected(id_text: str) -> object:
    value = json.loads(id_text, parse_int=str, parse_float=str)
    return ("number", id_text) if value is not None and id_text[0] != '"' else value


@settings(max_examples=150, deadline=None)
@given(first=ids, second=ids)
def test_ids_come_back_as_written(
    server: tuple[ServeProcess, Path], first: str, second: str
) -> None:
    json_type = {"Content-Type": "application/json"}
    one = f'{{"jsonrpc":"2.0","id":{first},"method":"eth_blockNumber"}}'
    status, _, body = post(server[0], one.encode(), json_type)
    assert status == 200
    assert raw_ids(body) == [expected(first)]
    assert "result" in json.loads(body, parse_int=str, parse_float=str)
    batch = (
        f'[{{"jsonrpc":"2.0","id":{first},"method":"eth_blockNumber"}},'
        f'{{"jsonrpc":"2.0","id":{second},"method":"no_such_method"}},'
        f'{{"jsonrpc":"1.0","id":{second},"method":"eth_blockNumber"}}]'
    )
    status, _, body = post(server[0], batch.encode(), json_type)
    assert status == 200
    assert raw_ids(body) == [expected(first), expected(second), expected(second)]
