"""``GET /metrics`` of a real ``logfilter serve``: values move as the calls made say.

The exposition is read with a small parser written here (``name{labels} value`` lines), and
every expected value comes from the calls the test makes or from the archive itself: the
blocks and logs ingested, the blocks holding an address's logs on each side of the last
section (the bloom path's and the header scan's matched blocks). The Grafana dashboard is
checked to name only metrics the server exposes.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import orjson
import pytest
from websockets.sync.client import connect

from tests.anvil import free_port
from tests.fixtures import REPO, execution_apis_archive
from tests.rpc.conftest import serve_archive
from tests.rpc.serve import RpcCallFailedError, ServeProcess

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')
ADDRESS = "0x7dcd17433742f4c0ca53122ab541d0ba67fc27df"
"""The execution-apis chain's busiest log emitter (logs in 44 of its 55 blocks)."""
INDEXED_UNTIL = 47
"""Last block of the 6 sections of 8 blocks the server builds."""


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def scrape(port: int) -> Samples:
    status, body = get(port, "/metrics")
    assert status == 200
    samples: Samples = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        labels = frozenset(LABEL.findall(match.group(2) or ""))
        samples[match.group(1), labels] = float(match.group(3))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, method: str, outcome: str) -> float:
    return value(samples, "logfilter_rpc_requests_total", method=method, outcome=outcome)


def blocks_with_logs_of(address: str) -> set[int]:
    blocks = set()
    for number, line in enumerate(execution_apis_archive().read_bytes().splitlines()):
        record = orjson.loads(line)
        if any(log["address"] == address for r in record["receipts"] for log in r["logs"]):
            blocks.add(number)
    return blocks


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, metrics_port: int) -> Iterator[ServeProcess]:
    process = serve_archive(
        tmp_path_factory, "--max-block-range", "30", "--max-body-bytes", "4096",
        "--metrics-port", str(metrics_port),
    )  # fmt: skip
    yield process
    assert process.stop() == 0


def test_chain_gauges_and_ingest_counters(server: ServeProcess) -> None:
    samples = scrape(server.port)
    assert value(samples, "logfilter_head_block") == int(server.call("eth_blockNumber"), 16)
    assert value(samples, "logfilter_upstream_head_block") == 54
    assert value(samples, "logfilter_indexed_block") == INDEXED_UNTIL
    records = execution_apis_archive().read_bytes().splitlines()
    logs = sum(len(r["logs"]) for line in records for r in orjson.loads(line)["receipts"])
    assert value(samples, "logfilter_blocks_ingested_total") == len(records)
    assert value(samples, "logfilter_logs_ingested_total") == logs
    assert value(samples, "logfilter_reorgs_total") == 0
    assert value(samples, "logfilter_section_build_duration_seconds_count") == 6
    assert value(samples, "logfilter_section_build_duration_seconds_sum") > 0
    assert value(samples, "logfilter_sync_phase", phase="stopped") == 1


def test_requests_are_counted_by_method_and_outcome(server: ServeProcess) -> None:
    before = scrape(server.port)
    for _ in range(3):
        server.call("eth_blockNumber")
    with pytest.raises(RpcCallFailedError, match="exceeds max block range"):
        server.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": "0x36"})
    with pytest.raises(RpcCallFailedError):
        server.call("eth_getLogs", {"fromBlock": "0x01"})  # a leading zero: invalid
    for method in ("no_suchMethod", "another_madeUp"):
        with pytest.raises(RpcCallFailedError, match="does not exist"):
            server.call(method)
    server.post(b'{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[' + b" " * 5000)
    after = scrape(server.port)

    def delta(method: str, outcome: str) -> float:
        return requests(after, method, outcome) - requests(before, method, outcome)

    assert delta("eth_blockNumber", "ok") == 3
    assert delta("eth_getLogs", "limit_exceeded") == 1
    assert delta("eth_getLogs", "invalid") == 1
    assert delta("other", "not_found") == 2
    assert not any("no_suchMethod" in str(labels) for _, labels in after)

    def limit(name: str) -> float:
        return value(after, "logfilter_rpc_limit_errors_total", limit=name) - value(
            before, "logfilter_rpc_limit_errors_total", limit=name
        )

    assert limit("blockRange") == 1
    assert limit("body") == 1
    # The histogram: cumulative buckets, +Inf = count = the calls of every outcome.
    for method in ("eth_blockNumber", "eth_getLogs", "other"):
        buckets = sorted(
            (float(dict(labels)["le"]), v)
            for (name, labels), v in after.items()
            if name == "logfilter_rpc_request_duration_seconds_bucket"
            and dict(labels)["method"] == method
        )
        counts = [v for _, v in buckets]
        assert counts == sorted(counts)
        assert buckets[-1][0] == float("inf")
        total = sum(
            v for (name, labels), v in after.items()
            if name == "logfilter_rpc_requests_total" and dict(labels)["method"] == method
        )  # fmt: skip
        count = value(after, "logfilter_rpc_request_duration_seconds_count", method=method)
        assert counts[-1] == count == total


def test_candidate_and_matched_blocks_by_path(server: ServeProcess) -> None:
    holding = blocks_with_logs_of(ADDRESS)
    before = scrape(server.port)
    found = server.call("eth_getLogs", {"fromBlock": "0x22", "toBlock": "0x36", "address": ADDRESS})
    after = scrape(server.port)
    wanted = {n for n in holding if 34 <= n <= 54}
    assert {int(log["blockNumber"], 16) for log in found} == wanted

    def delta(name: str, path: str) -> float:
        return value(after, name, path=path) - value(before, name, path=path)

    matched = "logfilter_query_matched_blocks_total"
    candidates = "logfilter_query_candidate_blocks_total"
    # Logs are stored: the exact index answers the sectioned part (blocks up to
    # INDEXED_UNTIL) and the head index the rest, reading only blocks that hold a match.
    assert delta(matched, "exact") == len(wanted)
    assert delta(candidates, "exact") == len(wanted)
    for path in ("bloom", "scan"):
        assert delta(matched, path) == 0
        assert delta(candidates, path) == 0
    assert value(after, "logfilter_queries_total") - value(before, "logfilter_queries_total") == 1
    assert value(after, "logfilter_query_logs_total") - value(
        before, "logfilter_query_logs_total"
    ) == len(found)
    hits = "logfilter_cache_hits_total"
    misses = "logfilter_cache_misses_total"
    looked_up = sum(
        value(after, name, cache="records") - value(before, name, cache="records")
        for name in (hits, misses)
    )
    assert looked_up >= delta(candidates, "exact")


def test_clients_gauges(server: ServeProcess) -> None:
    assert value(scrape(server.port), "logfilter_websocket_connections") == 0
    filter_id = server.call("eth_newFilter", {"address": ADDRESS})
    with connect(server.ws_url) as ws, connect(server.ws_url):
        ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                              "params": ["newHeads"]}))  # fmt: skip
        assert "result" in orjson.loads(ws.recv(timeout=10))
        samples = scrape(server.port)
        assert value(samples, "logfilter_websocket_connections") == 2
        assert value(samples, "logfilter_subscriptions") == 1
        assert value(samples, "logfilter_filters_installed") == 1
    assert server.call("eth_uninstallFilter", filter_id) is True
    assert value(scrape(server.port), "logfilter_filters_installed") == 0
    deadline = time.monotonic() + 10  # the server sees the closes on its own time
    while True:
        samples = scrape(server.port)
        gone = ("logfilter_subscriptions", "logfilter_websocket_connections")
        if all(value(samples, name) == 0 for name in gone) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert value(samples, "logfilter_subscriptions") == 0
    assert value(samples, "logfilter_websocket_connections") == 0


def test_metrics_port_serves_the_same_metrics(server: ServeProcess, metrics_port: int) -> None:
    server.call("web3_clientVersion")
    ours, theirs = scrape(server.port), scrape(metrics_port)
    labels = frozenset({("method", "web3_clientVersion"), ("outcome", "ok")})
    key = ("logfilter_rpc_requests_total", labels)
    assert ours[key] == theirs[key] == 1
    assert get(metrics_port, "/health") == (200, b'{"status":"ok"}')
    assert get(metrics_port, "/ready")[0] == 200
    assert get(metrics_port, "/")[0] in (404, 405)  # no JSON-RPC there


def test_health(server: ServeProcess) -> None:
    status, body = get(server.port, "/health")
    assert (status, orjson.loads(body)) == (200, {"status": "ok"})
    status, body = get(server.port, "/ready")
    assert (status, orjson.loads(body)) == (200, {"ready": True, "head": 54, "upstream": 54})


# --- the Grafana dashboard ------------------------------------------------------------------


FUNCTIONS_AND_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions (a
    name before ``(``), keywords, label names in ``by (...)``, or inside ``{...}``."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", expr):  # not in 5m, 1e3
        rest = expr[match.end() :].lstrip()
        word = match.group(0)
        if rest.startswith("(") or word.lower() in FUNCTIONS_AND_KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "logfilter.json").read_text())
    assert dashboard["panels"]
    exprs = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            exprs += [t["expr"] for t in inner.get("targets", [])]
    return exprs


def test_metric_names_parser() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, method) (rate(a_seconds_bucket{x=~"$i"}[5m])))'
        ' / ignoring(le) b_total{outcome!="ok"} - c offset 5m'
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c"}


def test_dashboard_names_only_exposed_metrics(server: ServeProcess) -> None:
    with pytest.raises(RpcCallFailedError):  # a limit error, so that its counter has a sample
        server.call("eth_getLogs", {"fromBlock": "0x0", "toBlock": "0x36"})
    server.call("eth_getLogs", {"fromBlock": "0x22", "toBlock": "0x36", "address": ADDRESS})
    exposed = {name for name, _ in scrape(server.port)}
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    used = set().union(*(metric_names(e) for e in exprs))
    assert used - exposed == set()
    assert {n for n in used if n.startswith("logfilter_")} >= {
        "logfilter_head_block", "logfilter_upstream_head_block", "logfilter_indexed_block",
        "logfilter_rpc_requests_total", "logfilter_rpc_request_duration_seconds_bucket",
        "logfilter_rpc_limit_errors_total", "logfilter_query_candidate_blocks_total",
        "logfilter_cache_hits_total", "logfilter_websocket_connections",
    }  # fmt: skip
