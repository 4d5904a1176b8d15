"""The monitoring flags of ``logfilter serve``: ``--metrics-port``, ``--no-metrics``,
``--ready-lag`` (see :mod:`rpc.server.monitoring`)."""

from __future__ import annotations

import argparse

from rpc.commands.options import non_negative, port
from rpc.server.monitoring import DEFAULT_READY_LAG, MonitoringConfig

__all__ = ["add_monitoring_options", "monitoring_config"]


def add_monitoring_options(parser: argparse.ArgumentParser) -> None:
    """The flags, in a group of their own."""
    group = parser.add_argument_group(
        "monitoring (GET /metrics, /health and /ready on the JSON-RPC port)"
    )
    group.add_argument(
        "--metrics-port", type=port, default=None, metavar="P",
        help="also serve /metrics, /health and /ready on this port of the same host "
        "(default: off; 0 picks a free port)",
    )  # fmt: skip
    group.add_argument(
        "--no-metrics", action="store_true",
        help="no /metrics, and no per-request timing (/health and /ready stay)",
    )  # fmt: skip
    group.add_argument(
        "--ready-lag", type=non_negative, default=DEFAULT_READY_LAG, metavar="N",
        help="/ready answers 200 once the synced head is within N blocks of the upstream's "
        f"(default {DEFAULT_READY_LAG}); a read-only service (--no-sync) is always ready",
    )  # fmt: skip


def monitoring_config(args: argparse.Namespace) -> MonitoringConfig:
    """The :class:`MonitoringConfig` the flags ask for."""
    return MonitoringConfig(
        metrics=not args.no_metrics, metrics_port=args.metrics_port, ready_lag=args.ready_lag
    )
