"""``RequestMetrics`` against a brute-force reference: every call kept, then counted."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from rpc.server.metrics import DURATION_BUCKETS, RequestMetrics
from rpc.server.protocol import JsonRpcError

KNOWN = ["eth_getLogs", "eth_blockNumber", "eth_newFilter"]
CODES = {-32005: "limit_exceeded", -32602: "invalid", -32601: "not_found", -32002: "timeout",
         -32603: "internal_error", -32000: "error", 4444: "error"}  # fmt: skip

calls = st.lists(
    st.tuples(
        st.sampled_from([*KNOWN, "made_up", "x_y"]),
        st.sampled_from([None, *CODES]),
        st.sampled_from([*DURATION_BUCKETS, 0.0, 1e-6, 0.003, 0.7, 31.0, 1e4]),
        st.sampled_from([None, "blockRange", "results"]),
    ),
    max_size=60,
)


@given(calls)
def test_counts_as_the_reference(made: list[tuple[str, int | None, float, str | None]]) -> None:
    metrics = RequestMetrics()
    for method, code, seconds, limit in made:
        data = None if limit is None else {"limit": limit}
        outcome = "result" if code is None else JsonRpcError(code, "m", data)
        metrics.observe(method, method in KNOWN, outcome, seconds)
    families = {f.name: f for f in metrics.collect()}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    label = {m: (m if m in KNOWN else "other") for m, *_ in made}
    expected_requests: dict[tuple[str, str], int] = {}
    expected_limits: dict[str, int] = {}
    for method, code, _, limit in made:
        key = (label[method], "ok" if code is None else CODES[code])
        expected_requests[key] = expected_requests.get(key, 0) + 1
        if code == -32005:
            name = limit or ("filters" if method == "eth_newFilter" else "other")
            expected_limits[name] = expected_limits.get(name, 0) + 1
    got_requests = {
        (dict(labels)["method"], dict(labels)["outcome"]): v
        for (name, labels), v in samples.items()
        if name == "logfilter_rpc_requests_total"
    }
    assert got_requests == expected_requests
    got_limits = {
        dict(labels)["limit"]: v
        for (name, labels), v in samples.items()
        if name == "logfilter_rpc_limit_errors_total"
    }
    assert got_limits == expected_limits
    for method in set(label.values()):
        mine = [s for m, _, s, _ in made if label[m] == method]
        buckets = {
            float(dict(labels)["le"]): v
            for (name, labels), v in samples.items()
            if name == "logfilter_rpc_request_duration_seconds_bucket"
            and dict(labels)["method"] == method
        }
        assert buckets == {
            bound: sum(1 for s in mine if s <= bound) for bound in [*DURATION_BUCKETS, math.inf]
        }
        total = samples["logfilter_rpc_request_duration_seconds_sum", (("method", method),)]
        assert math.isclose(total, sum(mine))
