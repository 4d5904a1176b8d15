"""HTTP conventions of ``logfilter serve`` as a real process, spoken to with aiohttp: virtual
hosts (403 on JSON-RPC, HTTP and WebSocket, for names not listed), CORS preflight and
response headers, gzip of whole and streamed answers of more than 1 MB (the decompressed
bytes exactly the uncompressed answer), the access log, and bad flags."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from multidict import CIMultiDictProxy

from rpc.cli import main
from tests.fixtures import REPO
from tests.rpc.serve import ServeProcess

BLOCKS = 160
ORIGIN = "https://app.example"
LOGS = b'{"jsonrpc":"2.0","id":7,"method":"eth_getLogs","params":[{"fromBlock":"0x0"}]}'
NUMBER = b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
ABSENT = b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"address":"0x%s"}]}' % (
    b"11" * 20
)
PLAIN = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
GZIP = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "serve.log"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, log_file: Path) -> Iterator[ServeProcess]:
    """A synthetic chain of 160 blocks of about 20 logs (all of them: more than 1 MB of JSON),
    answers streamed (no result limit), CORS for two origins, the access log on."""
    tmp = tmp_path_factory.mktemp("chain")
    archive = tmp / "chain.jsonl"
    argv = ["generate", "--blocks", str(BLOCKS), "--logs-per-block", "20", "--out", str(archive)]
    assert main([*argv, "--quiet", "--seed", "3", "--contracts", "30", "--holders", "50"]) == 0
    process = ServeProcess(
        "--upstream", str(archive), "--datadir", str(tmp / "dd"), "--section-size", "8",
        "--confirmations", "0", "--max-results", "0",
        "--cors-origins", f"{ORIGIN}, http://*.dev.example", "--access-log", log=log_file,
    ).start()  # fmt: skip
    process.wait_synced(BLOCKS - 1)
    yield process
    assert process.stop() == 0


async def post(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    """Status, headers and the body as it came over the wire (not decompressed)."""
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, response.headers, await response.read()


async def test_gzip_of_a_streamed_answer(server: ServeProcess) -> None:
    status, headers, plain = await post(server.url, LOGS, PLAIN)
    assert status == 200
    assert "Content-Encoding" not in headers
    assert len(plain) > 1 << 20
    assert len(orjson.loads(plain)["result"]) > 2000
    status, headers, packed = await post(server.url, LOGS, GZIP)
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["Vary"] == "Accept-Encoding"
    assert zlib.decompress(packed, wbits=31) == plain
    assert len(packed) < len(plain) / 3


async def test_gzip_of_a_whole_answer(server: ServeProcess) -> None:
    batch = b"[" + LOGS + b"," + NUMBER + b"]"  # a batch is answered whole
    _, headers, plain = await post(server.url, batch, PLAIN)
    assert "Transfer-Encoding" not in headers
    assert len(plain) > 1 << 20
    status, headers, packed = await post(server.url, batch, GZIP)
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(packed)
    assert zlib.decompress(packed, wbits=31) == plain
    # q=0 refuses gzip; "*" accepts it.
    _, headers, body = await post(server.url, batch, {**GZIP, "Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in headers
    assert body == plain
    _, headers, _ = await post(server.url, batch, {**GZIP, "Accept-Encoding": "br, *"})
    assert headers["Content-Encoding"] == "gzip"


async def test_small_answers_are_not_compressed(server: ServeProcess) -> None:
    for body in (NUMBER, ABSENT):
        status, headers, answer = await post(server.url, body, GZIP)
        assert status == 200
        assert "Content-Encoding" not in headers
        assert len(answer) < 1024
        assert orjson.loads(answer)["id"] == 1


async def test_websocket_is_unaffected(server: ServeProcess) -> None:
    async with (
        aiohttp.ClientSession(headers={"Accept-Encoding": "gzip"}) as session,
        session.ws_connect(server.ws_url, compress=0) as ws,
    ):
        await ws.send_bytes(LOGS)
        message = await ws.receive(timeout=60)
        assert message.type == aiohttp.WSMsgType.TEXT
        _, _, plain = await post(server.url, LOGS, PLAIN)
        assert message.data.encode() == plain


async def test_virtual_hosts(server: ServeProcess) -> None:
    for host in ("evil.example", "evil.example:8645", "localhost.evil.example", "[::1"):
        status, _, body = await post(server.url, NUMBER, {**PLAIN, "Host": host})
        assert (status, body) == (403, b"invalid host specified\n"), host
    for host in ("localhost", "LOCALHOST:1", "127.0.0.1:9", "[::1]:8645", "::1", "10.0.0.7"):
        status, _, body = await post(server.url, NUMBER, {**PLAIN, "Host": host})
        assert status == 200, host
        assert orjson.loads(body)["result"] == hex(BLOCKS - 1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(server.ws_url, headers={"Host": "evil.example"})
        assert caught.value.status == 403
        async with session.ws_connect(server.ws_url, headers={"Host": "localhost"}) as ws:
            await ws.send_bytes(NUMBER)
            assert orjson.loads((await ws.receive(timeout=30)).data)["result"] == hex(BLOCKS - 1)
        for path in ("/metrics", "/health", "/ready"):  # monitoring: never a 403
            async with session.get(server.url + path, headers={"Host": "evil.example"}) as r:
                assert r.status != 403, path


async def test_cors(server: ServeProcess) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with aiohttp.ClientSession() as session:
        for origin in (ORIGIN, "http://a.dev.example", "HTTP://B.c.dev.example"):
            preflight = {"Origin": origin, **ask}
            async with session.options(server.url, headers=preflight) as response:
                assert response.status == 204
                assert response.headers["Access-Control-Allow-Origin"] == origin
                assert response.headers["Access-Control-Allow-Methods"] == "POST, GET, OPTIONS"
                assert response.headers["Access-Control-Allow-Headers"] == "content-type"
                assert response.headers["Access-Control-Max-Age"] == "600"
                assert "Origin" in response.headers["Vary"]
        for origin in ("https://evil.example", "https://app.example.evil", "http://dev.example"):
            async with session.options(server.url, headers={"Origin": origin, **ask}) as response:
                assert response.status == 204
                assert not any(h.startswith("Access-Control") for h in response.headers), origin
            status, headers, _ = await post(server.url, NUMBER, {**PLAIN, "Origin": origin})
            assert status == 200
            assert "Access-Control-Allow-Origin" not in headers
        # A method CORS does not allow: no headers either (as rs/cors).
        refused = {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"}
        async with session.options(server.url, headers=refused) as response:
            assert response.status == 204
            assert "Access-Control-Allow-Origin" not in response.headers
        # Whole and streamed answers to a listed origin carry the header.
        for body in (NUMBER, LOGS):
            for encoding in (PLAIN, GZIP):
                _, headers, _ = await post(server.url, body, {**encoding, "Origin": ORIGIN})
                assert headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_access_log(server: ServeProcess, log_file: Path) -> None:
    too_many = b"[" + b",".join([NUMBER] * 2000) + b"]"
    cases = [
        (NUMBER, {}, " eth_blockNumber ok "),
        (b"{", {}, " - error -32700 "),
        (b'[{"jsonrpc":"2.0","id":1,"method":"nope"},' + NUMBER + b"]", {},
         " nope,eth_blockNumber error -32601,ok "),
        (too_many, {}, " - limit "),
        (LOGS, {"Accept-Encoding": "gzip"}, " eth_getLogs ok "),
        (NUMBER, {"Host": "evil.example"}, "POST / - - "),
    ]  # fmt: skip
    for body, extra, _ in cases:
        await post(server.url, body, {**PLAIN, **extra})
    text = await asyncio.to_thread(log_file.read_text)
    lines = [line for line in text.splitlines() if "INFO" in line]
    for _, _, wanted in cases:
        assert any(wanted in line for line in lines), (wanted, lines[-10:])
    denied = next(line for line in reversed(lines) if "POST / - - " in line)
    assert denied.endswith(" 403")
    logs_line = next(line for line in reversed(lines) if " eth_getLogs ok " in line)
    sent = int(logs_line.split("ms ")[1].split("B ")[0])
    _, _, packed = await post(server.url, LOGS, GZIP)
    assert sent == len(packed)  # bytes on the wire, compressed


def test_bad_flags_are_one_line(tmp_path: Path) -> None:
    for flags, wanted in (
        (["--cors-origins", "app.example"], "--cors-origins: 'app.example' is not an origin"),
        (["--vhosts", "http://a.example"], "--vhosts: 'http://a.example' is not a host name"),
        (["--vhosts", "a.example:80"], "--vhosts: 'a.example:80' is not a host name"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "rpc.cli", "serve", "--datadir", str(tmp_path / "dd"),
             "--no-sync", *flags],
            capture_output=True, text=True, cwd=REPO, timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        lines = done.stderr.splitlines()
        assert done.returncode == 1
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(f"logfilter: {wanted}")
        assert not (tmp_path / "dd").exists()
