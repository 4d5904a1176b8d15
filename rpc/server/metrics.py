"""Metrics of the JSON-RPC calls: counted per call, exposed as Prometheus families at scrape time.

:class:`RequestMetrics` is the dispatcher's :class:`~rpc.server.dispatch.CallObserver`: per
call it adds the duration to one bucket of its method's histogram and counts the outcome,
in plain ints and floats (the event loop is the only writer: no lock, no label lookup). At
scrape time :meth:`RequestMetrics.collect` turns them into the families a
``prometheus_client.metrics.Histogram`` with labels would expose
(``logfilter_rpc_requests_total{method,outcome}``,
``logfilter_rpc_request_duration_seconds{method}``, ``logfilter_rpc_limit_errors_total{limit}``).
That is the Prometheus Python client's custom-collector pattern
(https://prometheus.github.io/client_python/collector/custom/); what differs from its
``Histogram`` is only where the counting happens: in the collector's own ints, cheaper
than the client's locked, label-keyed children on a path taken once per call.

Cardinality is bounded: a method not in the server's method table (a typo, a proxied call)
is counted under ``method="other"``; outcomes are a fixed set named after the JSON-RPC
error classes (:data:`OUTCOMES`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any, Final

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric

from rpc.server.protocol import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TIMEOUT,
    JsonRpcError,
)

__all__ = ["DURATION_BUCKETS", "OTHER_METHOD", "OUTCOMES", "RequestMetrics"]

DURATION_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
"""Upper bounds (seconds) of the duration histogram's buckets, +Inf implied: from 100 µs (an
``eth_blockNumber``) to the default request timeout."""

OTHER_METHOD: Final = "other"
"""The ``method`` label of every method the server does not define."""

OUTCOMES: Final = {
    LIMIT_EXCEEDED: "limit_exceeded",
    PARSE_ERROR: "invalid",
    INVALID_REQUEST: "invalid",
    INVALID_PARAMS: "invalid",
    METHOD_NOT_FOUND: "not_found",
    TIMEOUT: "timeout",
    INTERNAL_ERROR: "internal_error",
}
"""The ``outcome`` label of an error answer by its code; any other code is ``"error"``, and
a result is ``"ok"``."""

_LIMIT_BY_METHOD: Final = {
    "eth_newFilter": "filters",
    "eth_newBlockFilter": "filters",
    "eth_subscribe": "subscriptions",
}
"""The limit a method's limit error can only be (the others say it in their data)."""


class MethodCalls:
    """One method's counts: durations by histogram bucket, their sum, outcomes."""

    __slots__ = ("buckets", "outcomes", "seconds")

    def __init__(self) -> None:
        self.buckets = [0] * (len(DURATION_BUCKETS) + 1)
        """Calls per bucket (not cumulative), the last one above every bound."""
        self.seconds = 0.0
        """Sum of the durations."""
        self.outcomes: dict[str, int] = {}
        """Calls per outcome label."""


class RequestMetrics:
    """Counts calls (a :class:`~rpc.server.dispatch.CallObserver`) and exposes them (a
    ``prometheus_client`` collector); see the module docstring."""

    def __init__(self) -> None:
        self.methods: dict[str, MethodCalls] = {}
        """Counts by method label."""
        self.limit_errors: dict[str, int] = {}
        """Limit errors by limit: ``blockRange``, ``results``, ``filters``,
        ``subscriptions``, ``body``, ``batch`` (``other`` for any other)."""

    def observe(self, method: str, known: bool, outcome: Any, seconds: float) -> None:
        label = method if known else OTHER_METHOD
        calls = self.methods.get(label)
        if calls is None:
            calls = self.methods[label] = MethodCalls()
        calls.buckets[bisect_left(DURATION_BUCKETS, seconds)] += 1
        calls.seconds += seconds
        if isinstance(outcome, JsonRpcError):
            name = OUTCOMES.get(outcome.code, "error")
            if outcome.code == LIMIT_EXCEEDED:
                self.rejected(_limit_of(label, outcome))
        else:
            name = "ok"
        calls.outcomes[name] = calls.outcomes.get(name, 0) + 1

    def rejected(self, limit: str) -> None:
        self.limit_errors[limit] = self.limit_errors.get(limit, 0) + 1

    def collect(self) -> Iterator[Metric]:
        """The families, from the counts as they are now."""
        requests = CounterMetricFamily(
            "logfilter_rpc_requests",
            "JSON-RPC calls answered, by method and outcome",
            labels=("method", "outcome"),
        )
        durations = HistogramMetricFamily(
            "logfilter_rpc_request_duration_seconds",
            "Time to answer a JSON-RPC call (a streamed answer: until its first part)",
            labels=("method",),
        )
        bounds = [repr(float(b)) for b in DURATION_BUCKETS] + ["+Inf"]  # "1.0", as its Histogram
        for method, calls in sorted(self.methods.items()):
            for outcome, count in sorted(calls.outcomes.items()):
                requests.add_metric((method, outcome), count)
            cumulative, total = [], 0
            for bound, count in zip(bounds, calls.buckets, strict=True):
                total += count
                cumulative.append((bound, float(total)))
            durations.add_metric((method,), cumulative, calls.seconds)
        limits = CounterMetricFamily(
            "logfilter_rpc_limit_errors",
            "Requests refused for exceeding a configured limit, by limit",
            labels=("limit",),
        )
        for limit, count in sorted(self.limit_errors.items()):
            limits.add_metric((limit,), count)
        yield requests
        yield durations
        yield limits


def _limit_of(method: str, error: JsonRpcError) -> str:
    """Which limit a limit error is about: its data's ``limit``, else what its method has."""
    data = error.data
    if isinstance(data, dict) and isinstance(data.get("limit"), str):
        return str(data["limit"])
    return _LIMIT_BY_METHOD.get(method, "other")
