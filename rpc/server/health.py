"""Readiness: whether the service answers from a synced state, and if not, why.

A service is ready when it serves a data directory read-only (``--no-sync``: what it serves
does not change), or when its synced head is within ``max_lag`` blocks of the upstream's
head as last seen, or when its sync has finished (``--until``, the end of an archive).
This is the distinction Kubernetes draws between liveness and readiness probes
(https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/),
with the sync lag as the criterion, as beacon nodes' ``/eth/v1/node/health`` answers 206
while syncing; here a not-ready service answers 503 with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from chainindex.sync.config import SyncStatus

__all__ = ["Readiness", "ReadinessJson", "readiness"]


class ReadinessJson(TypedDict, total=False):
    """The body of a ``/ready`` answer."""

    ready: bool
    reason: str
    head: int | None
    upstream: int | None


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether the service is ready, and why not."""

    ready: bool
    """Ready to answer from a synced state."""
    reason: str
    """Why it is not ready (empty when it is)."""
    head: int | None
    """The synced head."""
    upstream: int | None
    """The upstream's head as last seen (None read-only or before it is known)."""

    def to_json(self) -> ReadinessJson:
        """What ``/ready`` answers."""
        body: ReadinessJson = {"ready": self.ready}
        if not self.ready:
            body["reason"] = self.reason
        body["head"] = self.head
        body["upstream"] = self.upstream
        return body


def readiness(status: SyncStatus | None, head: int | None, max_lag: int) -> Readiness:
    """The readiness of a service whose sync stands at ``status`` (None: read-only) with
    synced head ``head``."""
    if status is None:
        if head is None:
            return Readiness(False, "read-only: no synced blocks", None, None)
        return Readiness(True, "", head, None)
    upstream = status.upstream_head
    if status.phase == "starting" or upstream is None:
        return Readiness(False, "starting: the upstream's head is not known yet", head, upstream)
    if head is None:
        return Readiness(False, f"syncing: no block yet, upstream {upstream}", head, upstream)
    if status.phase == "stopped" or upstream - head <= max_lag:
        return Readiness(True, "", head, upstream)
    return Readiness(False, f"syncing: head {head}, upstream {upstream}", head, upstream)
