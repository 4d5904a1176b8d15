"""Metrics of the service, read at scrape time from the counters its parts already keep.

:class:`ServiceCollector` is a ``prometheus_client`` custom collector
(https://prometheus.github.io/client_python/collector/custom/): nothing is counted for it;
each scrape reads the indexer's :class:`~chainindex.sync.config.SyncStatus` and
:class:`~chainindex.sync.config.SyncCounters`, the query engine's
:class:`~chainindex.filters.config.QueryStats` (one label value per query path it has
counted, so a new path shows without a change here), the caches' hit and miss counters,
and the sizes of the filter table, the subscription hub and the WebSocket peers. The store's
state (head, sections) is read once per scrape (:meth:`ServiceCollector.refresh`, a snapshot
read on the query thread pool) before the families are produced.

:func:`metrics_registry` builds one ``CollectorRegistry`` per server (several servers may
run in one process, e.g. in tests) with these collectors and the client's process, garbage
collector and platform collectors. Metric names follow Prometheus' conventions
(https://prometheus.io/docs/practices/naming/): base units, ``_total`` counters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import CollectorRegistry

from chainindex.source.ondemand import LogCache
from chainindex.store.reader import ChainState
from rpc.server.metrics import RequestMetrics
from rpc.server.service import Service

__all__ = ["ServiceCollector", "metrics_registry"]


class ServiceCollector:
    """The service's own counters as Prometheus families (see the module docstring)."""

    def __init__(self, service: Service, connections: Callable[[], int]) -> None:
        self.service = service
        """What is reported on."""
        self.connections = connections
        """The number of open WebSocket connections."""
        self._state: ChainState | None = None

    async def refresh(self) -> None:
        """Read the store's state for the next :meth:`collect`."""
        self._state = await self.service.state()

    def collect(self) -> Iterator[Metric]:
        yield from self._chain()
        yield from self._sync()
        yield from self._queries()
        yield from self._caches()
        yield from self._clients()

    def _chain(self) -> Iterator[Metric]:
        service = self.service
        state = self._state
        head = service.head() or (state.head if state is not None else None)
        if head is not None:
            yield GaugeMetricFamily(
                "logfilter_head_block", "The synced head (what eth_blockNumber answers)",
                value=head.number,
            )  # fmt: skip
        if state is not None and state.indexed_until >= 0:
            yield GaugeMetricFamily(
                "logfilter_indexed_block", "The last block covered by a stored bloom section",
                value=state.indexed_until,
            )  # fmt: skip
        if state is not None and state.tail is not None:
            yield GaugeMetricFamily(
                "logfilter_tail_block", "The first synced block", value=state.tail
            )
        if service.indexer is not None:
            upstream = service.indexer.status.upstream_head
            if upstream is not None:
                yield GaugeMetricFamily(
                    "logfilter_upstream_head_block", "The upstream's head as last seen",
                    value=upstream,
                )  # fmt: skip

    def _sync(self) -> Iterator[Metric]:
        indexer = self.service.indexer
        if indexer is None:
            return
        counters = indexer.counters
        for name, doc, value in (
            ("blocks_ingested", "Blocks committed to the store", counters.blocks),
            ("logs_ingested", "Logs of the blocks committed", counters.logs),
            ("reorgs", "Chain reorganisations handled", counters.reorgs),
            ("reorged_blocks", "Blocks removed by reorganisations", counters.reorged_blocks),
        ):
            yield CounterMetricFamily(f"logfilter_{name}", doc, value=value)
        yield SummaryMetricFamily(
            "logfilter_section_build_duration_seconds",
            "Time to build a bloom section and store it",
            count_value=counters.sections,
            sum_value=counters.section_seconds,
        )
        phase = indexer.status.phase
        following = GaugeMetricFamily(
            "logfilter_sync_phase", "The indexer's phase (1 for the current one)", labels=("phase",)
        )
        for name in ("starting", "syncing", "following", "stopped"):
            following.add_metric((name,), float(name == phase))
        yield following

    def _queries(self) -> Iterator[Metric]:
        stats = self.service.engine.stats
        yield CounterMetricFamily(
            "logfilter_queries", "Log queries run (a restart after a reorg counts)",
            value=stats.queries,
        )  # fmt: skip
        yield CounterMetricFamily(
            "logfilter_query_logs", "Logs returned by log queries", value=stats.logs
        )
        candidates = CounterMetricFamily(
            "logfilter_query_candidate_blocks",
            "Blocks a query path could not rule out (verified against their logs)",
            labels=("path",),
        )
        matched = CounterMetricFamily(
            "logfilter_query_matched_blocks",
            "Candidate blocks that held a matching log",
            labels=("path",),
        )
        for path, counts in sorted(stats.paths.items()):
            candidates.add_metric((path,), counts.candidate_blocks)
            matched.add_metric((path,), counts.matched_blocks)
        yield candidates
        yield matched

    def _caches(self) -> Iterator[Metric]:
        service = self.service
        engine = service.engine
        counts: list[tuple[str, int, int]] = [
            ("records", engine.records.hits, engine.records.misses),
            ("encoded_logs", service.encoded.hits, service.encoded.misses),
        ]
        if engine.cache is not None:
            stats = engine.cache.stats()
            counts.append(("matcher_values", stats.hits, stats.misses))
        fetcher = service.reader.fetcher
        if isinstance(fetcher, LogCache):
            counts.append(("upstream_logs", fetcher.hits, fetcher.misses))
        hits = CounterMetricFamily(
            "logfilter_cache_hits", "Cache lookups answered", labels=("cache",)
        )
        misses = CounterMetricFamily(
            "logfilter_cache_misses", "Cache lookups not answered", labels=("cache",)
        )
        for name, hit, miss in counts:
            hits.add_metric((name,), hit)
            misses.add_metric((name,), miss)
        yield hits
        yield misses

    def _clients(self) -> Iterator[Metric]:
        service = self.service
        yield GaugeMetricFamily(
            "logfilter_filters_installed", "Installed polling filters", value=len(service.filters)
        )
        yield GaugeMetricFamily(
            "logfilter_subscriptions", "Active WebSocket subscriptions",
            value=len(service.subscriptions),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "logfilter_websocket_connections", "Open WebSocket connections",
            value=self.connections(),
        )  # fmt: skip
        gate = service.admission.stats()
        for name, doc, value in (
            ("running", "Calls running now (at most --max-concurrent-requests)", gate.running),
            ("waiting", "Calls waiting for a slot now (at most --queue-wait s)", gate.waiting),
        ):
            yield GaugeMetricFamily(f"logfilter_rpc_calls_{name}", doc, value=value)
        for name, doc, value in (
            ("admitted", "Calls admitted by the concurrency gate", gate.admitted),
            ("waited", "Calls admitted after waiting for a slot", gate.waited),
            ("refused", "Calls refused busy (-32005) by the concurrency gate", gate.refused),
        ):
            yield CounterMetricFamily(f"logfilter_rpc_calls_{name}", doc, value=value)


def metrics_registry(requests: RequestMetrics, service: ServiceCollector) -> CollectorRegistry:
    """A registry of its own (see the module docstring)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(requests)
    registry.register(service)
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry
