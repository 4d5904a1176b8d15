"""``logfilter_search`` through ``logfilter serve --text-index`` over a synthetic ENS-heavy
chain archive: every answer compared with a brute-force reference decoded from the archive
file itself (tests/rpc/search_reference.py); paging, filters, highlights, sorts, the client
library (async and blocking), parameter errors, read-only serving, and the CLI."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from rpc.cli import main
from rpc.client import AsyncClient, Client, InvalidArgumentError, NodeError
from tests.rpc.search_reference import (
    NAME_REGISTERED,
    Registration,
    archive_registrations,
    keys_of,
)
from tests.rpc.serve import RpcCallFailedError, ServeProcess

BLOCKS = 60
SYNC = ["--section-size", "8", "--confirmations", "0"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 blocks, half the logs ENS registrations (names from a small word list)."""
    out = tmp_path_factory.mktemp("archive") / "chain.jsonl"
    argv = ["generate", "--blocks", str(BLOCKS), "--logs-per-block", "20", "--out", str(out)]
    argv += ["--contracts", "50", "--holders", "40", "--quiet", "--seed", "7"]
    argv += ["--mix", "ens-registrar=0.5,ens-resolver=0.3,erc20=0.2"]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def reference(archive: Path) -> list[Registration]:
    found = archive_registrations(archive)
    assert len(found) > 300
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[ServeProcess]:
    datadir = tmp_path_factory.mktemp("dd") / "dd"
    process = ServeProcess(
        "--upstream", str(archive), "--datadir", str(datadir), *SYNC, "--text-index"
    ).start()  # fmt: skip
    process.wait_synced(BLOCKS - 1)
    wait_indexed(process, BLOCKS - 1)
    yield process
    assert process.stop() == 0


def wait_indexed(server: ServeProcess, block: int, timeout: float = 60) -> None:
    """Until the text index holds a log of ``block`` (the feed follows the store)."""

    deadline = time.monotonic() + timeout
    while True:
        page = server.call("logfilter_search", {"query": "", "limit": 1, "sort": "block_desc"})
        if page["hits"] and int(page["hits"][0]["log"]["blockNumber"], 16) >= block:
            return
        assert time.monotonic() < deadline, "the text index did not catch up"
        time.sleep(0.05)


def all_pages(server: ServeProcess, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every hit of a search through the cursor; and how many pages it took."""
    hits: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        page = server.call("logfilter_search", {**params, "after": after})
        pages += 1
        hits += page["hits"]
        if page["cursor"] is None:
            return hits, pages
        after = page["cursor"]
        assert pages < 1000


def with_word(reference: list[Registration], word: str) -> list[Registration]:
    return [r for r in reference if word in r.words()]


def common_word(reference: list[Registration], rank: int = 0) -> str:
    counts: dict[str, int] = {}
    for r in reference:
        for w in set(r.words()):
            counts[w] = counts.get(w, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))[rank]


@pytest.mark.parametrize("sort", ["relevance", "block_asc", "block_desc"])
def test_paging_returns_every_hit_once(
    server: ServeProcess, reference: list[Registration], sort: str
) -> None:
    word = common_word(reference)
    expected = [r.key for r in with_word(reference, word)]
    assert len(expected) > 14
    params = {"query": f"name:{word}", "limit": 7, "sort": sort}
    hits, pages = all_pages(server, params)
    keys = keys_of(hits)
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == set(expected)
    assert pages == -(-len(expected) // 7)
    if sort == "block_asc":
        assert keys == expected
    elif sort == "block_desc":
        assert keys == expected[::-1]
    else:
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert scores[-1] > 0
    first = server.call("logfilter_search", params)
    assert first["total"] == len(expected)
    for hit in hits:
        event = hit["event"]
        assert event["name"] == "NameRegistered"
        assert word in event["args"][0]["value"].lower()


def test_filters_match_eth_getlogs_semantics(
    server: ServeProcess, reference: list[Registration]
) -> None:
    word = common_word(reference)
    named = with_word(reference, word)

    def keys(**params: Any) -> list[tuple[int, int]]:
        hits, _ = all_pages(server, {"limit": 1000, "sort": "block_asc", **params})
        return keys_of(hits)

    # Block ranges, numbers and tags.
    assert keys(query=f"name:{word}", fromBlock="0xa", toBlock="0x1e") == [
        r.key for r in named if 10 <= r.block <= 30
    ]
    assert keys(query=f"name:{word}", fromBlock="earliest", toBlock="latest") == [
        r.key for r in named
    ]
    assert keys(query=f"name:{word}", toBlock="0x14") == [r.key for r in named if r.block <= 20]
    assert keys(query=f"name:{word}", fromBlock="0x28") == [r.key for r in named if r.block >= 40]
    assert keys(query=f"name:{word}", fromBlock="safe", toBlock="finalized") == [
        r.key for r in named if r.block == BLOCKS - 1
    ]
    # Addresses: one, several (any), none matching.
    registrar = reference[0].address
    other = "0x" + "11" * 20
    everything = [r.key for r in reference]
    assert keys(query="", topics=[NAME_REGISTERED], address=registrar) == everything
    assert keys(query="", topics=[NAME_REGISTERED], address=[other, registrar]) == everything
    assert keys(query=f"name:{word}", address=other) == []
    # Topics: a position of alternatives, a wildcard position, too many positions for a log.
    owners = sorted({r.owner_topic for r in named})[:2]
    assert keys(query=f"name:{word}", topics=[None, None, owners]) == [
        r.key for r in named if r.owner_topic in owners
    ]
    assert keys(query=f"name:{word}", topics=[[NAME_REGISTERED], [], owners[0]]) == [
        r.key for r in named if r.owner_topic == owners[0]
    ]
    assert keys(query=f"name:{word}", topics=[None, None, None, None]) == []


def test_highlights(server: ServeProcess, reference: list[Registration]) -> None:
    word = common_word(reference, 1)
    query = f"name:{word}"
    page = server.call("logfilter_search", {"query": query, "highlight": True, "limit": 50})
    assert page["hits"]
    for hit in page["hits"]:
        assert any(f"<em>{word}</em>" in f.lower() for f in hit["highlights"]["name"])
    plain = server.call("logfilter_search", {"query": query, "limit": 50})
    assert keys_of(plain["hits"]) == keys_of(page["hits"])
    assert all(h["highlights"] == {} for h in plain["hits"])


BAD: list[tuple[Any, int, str]] = [
    ([], -32602, "missing value for required argument 0"),
    (["name:x"], -32602, "invalid argument 0: search: expected an object"),
    ([{"query": "x"}, {}], -32602, "too many arguments"),
    ([{}], -32602, "query: expected a string, got null"),
    ([{"query": 5}], -32602, "query: expected a string"),
    ([{"query": "x", "fromblock": "0x1"}], -32602, "unknown member 'fromblock'"),
    ([{"query": "x", "fromBlock": "0x01"}], -32602, "leading zero"),
    ([{"query": "x", "fromBlock": "1"}], -32602, "fromBlock: expected a hex block number"),
    ([{"query": "x", "toBlock": "pending"}], -32602, "pending logs are not supported"),
    ([{"query": "x", "fromBlock": "0x5", "toBlock": "0x4"}], -32602, "invalid block range"),
    ([{"query": "x", "toBlock": "0x1000"}], -32602, "beyond current head"),
    ([{"query": "x", "address": "0x1234"}], -32602, "address"),
    ([{"query": "x", "address": 5}], -32602, "invalid addresses in query"),
    ([{"query": "x", "topics": [None] * 5}], -32602, "exceed max topics"),
    ([{"query": "x", "topics": [[5]]}], -32602, "invalid topic(s)"),
    ([{"query": "x", "topics": ["0x" + "ab" * 31]}], -32602, "topics[0]"),
    ([{"query": "x", "limit": 0}], -32602, "limit: expected an integer from 1 to 1000"),
    ([{"query": "x", "limit": 1001}], -32602, "limit"),
    ([{"query": "x", "limit": "0x5"}], -32602, "limit"),
    ([{"query": "x", "limit": True}], -32602, "limit"),
    ([{"query": "x", "highlight": "yes"}], -32602, "highlight: expected true or false"),
    ([{"query": "x", "sort": "score"}], -32602, "sort: expected one of relevance"),
    ([{"query": "x", "after": 7}], -32602, "after: expected the cursor"),
    ([{"query": "x", "after": "not-a-cursor"}], -32602, "invalid cursor"),
    ([{"query": "name:(gold"}], -32602, "bad query: missing ')'"),
    ([{"query": "name:[a TO"}], -32602, "bad query"),
    ([{"query": "AND"}], -32602, "bad query"),
    ([{"query": '"unclosed'}], -32602, "bad query"),
]


@pytest.mark.parametrize(("params", "code", "message"), BAD)
def test_bad_params_get_clear_errors(
    server: ServeProcess, params: list[Any], code: int, message: str
) -> None:
    with pytest.raises(RpcCallFailedError) as failed:
        server.call("logfilter_search", *params)
    assert failed.value.code == code
    assert message in str(failed.value.message)
    assert server.alive


def test_errors_say_where_and_the_server_stays_up(server: ServeProcess) -> None:
    with pytest.raises(RpcCallFailedError) as failed:
        server.call("logfilter_search", {"query": "name:(gold"})
    assert failed.value.error["data"] == {
        "query": "name:(gold",
        "position": 5,
        "reason": "missing ')' to close this '('",
    }
    # A cursor made for another order is refused, not misread.
    page = server.call("logfilter_search", {"query": "", "limit": 1})
    with pytest.raises(RpcCallFailedError, match="cursor was made for sort"):
        server.call("logfilter_search", {"query": "", "after": page["cursor"], "sort": "block_asc"})
    # A batch of good and bad calls: each answered on its own.
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "logfilter_search", "params": [p]}
        for i, p in enumerate([{"query": "("}, {"query": "", "limit": 2}])
    ]
    status, body = server.post(orjson.dumps(batch))
    answers = orjson.loads(body)
    assert status == 200
    assert answers[0]["error"]["code"] == -32602
    assert len(answers[1]["result"]["hits"]) == 2
    assert server.call("logfilter_status")["syncedHead"] is not None
    assert server.alive


async def test_async_client(server: ServeProcess, reference: list[Registration]) -> None:
    word = common_word(reference, 2)
    expected = with_word(reference, word)
    async with AsyncClient(server.url) as client:
        page = await client.search(f"name:{word}", limit=3, sort="block_asc", highlight=True)
        assert page.total == len(expected)
        assert page.cursor is not None
        first = page.hits[0]
        assert (first.log.block_number, first.log.log_index) == expected[0].key
        assert first.log.address.hex() == expected[0].address[2:]
        assert first.event is not None
        assert first.event["name"] == expected[0].name
        assert first.event["baseCost"] == expected[0].base_cost  # typed: an int
        assert first.event.args[2].value == bytes.fromhex(expected[0].owner_topic[26:])
        assert f"<em>{word}</em>" in first.highlights["name"][0].lower()
        second = await client.search(f"name:{word}", limit=3, sort="block_asc", after=page.cursor)
        assert [(h.log.block_number, h.log.log_index) for h in second.hits] == [
            r.key for r in expected[3:6]
        ]
        hits = [h async for h in client.iter_search(f"name:{word}", page_size=4)]
        assert sorted((h.log.block_number, h.log.log_index) for h in hits) == [
            r.key for r in expected
        ]
        ranged = [
            (h.log.block_number, h.log.log_index)
            async for h in client.iter_search(
                "", from_block=20, to_block="latest", topics=[NAME_REGISTERED], sort="block_desc"
            )
        ]
        assert ranged == [r.key for r in reversed(reference) if r.block >= 20]
        with pytest.raises(NodeError) as failed:
            await client.search("name:(x")
        assert failed.value.code == -32602
        with pytest.raises(InvalidArgumentError):
            await client.search("x", limit=0)
        with pytest.raises(InvalidArgumentError):
            await client.search("x", from_block="pending")


def test_blocking_client(server: ServeProcess, reference: list[Registration]) -> None:
    word = common_word(reference, 3)
    expected = [r.key for r in with_word(reference, word)]
    with Client(server.url) as client:
        page = client.search(f"name:{word}", limit=2, sort="block_asc")
        assert page.total == len(expected)
        assert [(h.log.block_number, h.log.log_index) for h in page.hits] == expected[:2]
        hits = client.iter_search(f"name:{word}", page_size=2, sort="block_asc")
        assert [(h.log.block_number, h.log.log_index) for h in hits] == expected


def test_read_only_serving_and_the_cli(
    tmp_path: Path, archive: Path, reference: list[Registration], capsys: pytest.CaptureFixture[str]
) -> None:
    datadir = tmp_path / "dd"
    argv = ["sync", "--upstream", str(archive), "--datadir", str(datadir), *SYNC]
    assert main([*argv, "--no-follow", "--text-index"]) == 0
    assert "synced blocks" in capsys.readouterr().out
    word = common_word(reference)
    expected = [r.key for r in with_word(reference, word)]
    # The CLI reads the same index.
    assert main(["search", f"name:{word}", "--datadir", str(datadir), "--json", "--limit",
                 "1000", "--sort", "block_asc"]) == 0  # fmt: skip
    printed = orjson.loads(capsys.readouterr().out)
    assert keys_of(printed["hits"]) == expected
    # --no-sync --text-index: the index read-only, the same answers.
    with ServeProcess("--datadir", str(datadir), "--no-sync", "--text-index") as ro:
        hits, _ = all_pages(ro, {"query": f"name:{word}", "limit": 9, "sort": "block_asc"})
        assert keys_of(hits) == expected
    # Without --text-index: not enabled, and said so.
    with ServeProcess("--datadir", str(datadir), "--no-sync") as plain:
        with pytest.raises(RpcCallFailedError) as failed:
            plain.call("logfilter_search", {"query": word})
        assert failed.value.code == -32601
        assert "text index is not enabled" in str(failed.value.message)
        assert plain.call("logfilter_status")["phase"] == "read-only"
    # --no-sync --text-index over a data directory without one: a clear error per search.
    shutil.rmtree(datadir / "textindex")
    with ServeProcess("--datadir", str(datadir), "--no-sync", "--text-index") as absent:
        with pytest.raises(RpcCallFailedError) as failed:
            absent.call("logfilter_search", {"query": word})
        assert failed.value.code == -32601
        assert "no text index at" in str(failed.value.message)
        assert absent.alive
