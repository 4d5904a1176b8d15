"""The server's limits: each one, exceeded, is a clear JSON-RPC error, never a crash.

Defaults follow the ecosystem: 10,000 results and 100,000 blocks per ``eth_getLogs`` (as
the contract's examples, Infura's result cap, reth's block-range cap), 1,000 addresses or
topic alternatives per position (geth's ``logQueryLimit``), a 5 MiB request body and 1,000
calls per batch (geth's HTTP defaults), 30 s per request, 64 calls running at once (each
waiting at most 0.25 s for a slot, :mod:`rpc.server.admission`). ``logfilter serve`` sets each with
a flag; 0 turns the range and result limits off (then large answers are streamed).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request, batch or connection may ask for."""

    max_block_range: int = 100_000
    """Blocks one range query may span (0: no limit)."""
    max_results: int = 10_000
    """Logs one query may return (0: no limit, and answers are streamed)."""
    max_values: int = 1000
    """Addresses, and alternatives per topic position, in one filter (0: no limit)."""
    max_body_bytes: int = 5 * 2**20
    """Largest request body (HTTP) or message (WebSocket)."""
    request_timeout: float = 30.0
    """Seconds one request (a whole batch) may take."""
    max_batch: int = 1000
    """Calls in one batch."""
    max_filters: int = 10_000
    """Installed filters in total, whoever installed them (a per-address count would refuse
    every client behind one reverse proxy); unpolled ones expire after ``filter_timeout``."""
    max_connection_filters: int = 1000
    """Installed filters per WebSocket connection (HTTP requests have no connection to
    count by: they count only against ``max_filters``)."""
    max_subscriptions: int = 1000
    """Subscriptions per WebSocket connection."""
    filter_timeout: float = 300.0
    """Seconds without a poll before an installed filter expires (geth: 5 minutes)."""
    max_pending_changes: int = 100_000
    """Changes an installed filter buffers between two polls before it is dropped."""
    max_queued_messages: int = 10_000
    """Messages queued for a WebSocket client before it is disconnected as too slow."""
    max_concurrent_requests: int = 64
    """Calls running at once (:mod:`rpc.server.admission`; cheap methods are not counted)."""
    max_concurrent_queries: int = 4
    """Of those, log queries computing their answer at once (the others take turns)."""
    queue_wait: float = 0.25
    """Seconds a call may wait for one of those slots before it is refused (``-32005``)."""

    def __post_init__(self) -> None:
        for name in ("max_block_range", "max_results", "max_values"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for name in (
            "max_body_bytes", "max_batch", "max_filters", "max_connection_filters",
            "max_subscriptions",
            "max_pending_changes", "max_queued_messages", "max_concurrent_requests",
            "max_concurrent_queries",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not (self.request_timeout > 0 and self.filter_timeout > 0 and self.queue_wait > 0):
            raise ValueError("timeouts must be positive")
