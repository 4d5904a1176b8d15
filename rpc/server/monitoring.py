"""The server's operational endpoints: ``/metrics``, ``/health`` and ``/ready``.

* ``GET /metrics``: Prometheus' text format (OpenMetrics when the scraper asks for it), from
  one registry per server (:mod:`rpc.server.service_metrics`, :mod:`rpc.server.metrics`).
* ``GET /health``: 200 ``{"status":"ok"}`` while the process serves (a liveness probe).
* ``GET /ready``: 200 once the service answers from a synced state, else 503 with the reason
  (:mod:`rpc.server.health`).

They are routes of their own on the JSON-RPC port (JSON-RPC is ``/`` only), and, with
``--metrics-port``, also on a second listener of the same host, as go-ethereum's
``--metrics.addr``/``--metrics.port`` (``metrics/exp``) serves its metrics apart from the
RPC. These paths are for scrapers and container health checks: a ``Host`` allow-list or
CORS for JSON-RPC must leave them alone (:data:`PATHS`).

With ``metrics`` off (``--no-metrics``) there is no ``/metrics`` and the dispatcher has no
observer, so a call pays nothing for metrics; ``/health`` and ``/ready`` stay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import orjson
from aiohttp import hdrs, web
from prometheus_client.exposition import choose_encoder

from rpc.server.dispatch import Dispatcher
from rpc.server.headers import hide_server
from rpc.server.health import readiness
from rpc.server.metrics import RequestMetrics
from rpc.server.service import Service
from rpc.server.service_metrics import ServiceCollector, metrics_registry

__all__ = ["DEFAULT_READY_LAG", "PATHS", "Monitor", "MonitoringConfig"]

PATHS: Final = ("/metrics", "/health", "/ready")
"""The operational paths: exempt from any JSON-RPC access rule (vhosts, CORS)."""

DEFAULT_READY_LAG: Final = 64
"""Blocks behind the upstream's head a syncing service may be and still be ready."""


@dataclass(frozen=True, slots=True)
class MonitoringConfig:
    """What ``logfilter serve`` was asked for about monitoring."""

    metrics: bool = True
    """Serve ``/metrics`` and count calls (``--no-metrics``: neither)."""
    metrics_port: int | None = None
    """Also serve the operational paths on this port of the same host (0: a free one)."""
    ready_lag: int = DEFAULT_READY_LAG
    """``/ready``: most blocks behind the upstream's head (``--ready-lag``)."""

    def __post_init__(self) -> None:
        if self.ready_lag < 0:
            raise ValueError("ready_lag must not be negative")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics port {self.metrics_port} is not in 0-65535")


class Monitor:
    """One server's operational endpoints (see the module docstring)."""

    def __init__(
        self,
        service: Service,
        dispatcher: Dispatcher,
        connections: Callable[[], int],
        config: MonitoringConfig | None = None,
    ) -> None:
        self.service = service
        """What is reported on."""
        self.config = config or MonitoringConfig()
        """What to serve."""
        self.requests: RequestMetrics | None = None
        """The calls' counts (None with metrics off)."""
        self._collector: ServiceCollector | None = None
        self._registry = None
        if self.config.metrics:
            self.requests = RequestMetrics()
            self._collector = ServiceCollector(service, connections)
            self._registry = metrics_registry(self.requests, self._collector)
            dispatcher.observer = self.requests
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """The metrics port listened on, once started (None: none)."""

    def add_routes(self, app: web.Application) -> None:
        """Add the operational paths to ``app``."""
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        if self._registry is not None:
            app.router.add_get("/metrics", self._metrics)

    async def start(self, host: str) -> None:
        """Listen on the metrics port, when one is configured."""
        if self.config.metrics_port is None:
            return
        app = web.Application()
        hide_server(app)
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runner = runner
        await web.TCPSite(runner, host, self.config.metrics_port, reuse_address=True).start()
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the metrics port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- handlers ------------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def _ready(self, request: web.Request) -> web.Response:
        service = self.service
        head = service.head()
        status = None if service.indexer is None else service.indexer.status
        ready = readiness(status, None if head is None else head.number, self.config.ready_lag)
        return web.Response(
            status=200 if ready.ready else 503,
            body=orjson.dumps(ready.to_json()),
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self._registry is not None
        assert self._collector is not None
        await self._collector.refresh()
        encoder, content_type = choose_encoder(request.headers.get(hdrs.ACCEPT, ""))
        return web.Response(body=encoder(self._registry), headers={"Content-Type": content_type})
