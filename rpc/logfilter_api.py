"""The ``logfilter_`` namespace: the service's own methods.

``logfilter_status`` (no params) says what the service holds and how far sync has got, in
the shape of RPC-CONTRACT.md::

    {"chainId", "sectionSize", "sections", "indexedUntil", "syncedHead": {"number", "hash"},
     "upstreamHead", "lag", "phase", "headersOnly", "tail"}

(quantities as hex; ``upstreamHead``/``lag`` null when unknown; ``phase`` the indexer's, or
``"read-only"`` under ``--no-sync``), plus ``queries``: the query path's counters and its
candidate density (blocks holding a matching log / blocks the blooms could not rule out),
the figure that shows bloom saturation.

``logfilter_search`` (the text index) is added here when that index is integrated.
"""

from __future__ import annotations

from typing import Any

from rpc.dispatch import CallContext, Handler, check_arity
from rpc.service import Service

__all__ = ["LogfilterApi"]


def _hex(value: int | None) -> str | None:
    return None if value is None else hex(value)


class LogfilterApi:
    """The ``logfilter_`` handlers over one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        """What the handlers use."""

    def methods(self) -> dict[str, Handler]:
        """Method name → handler."""
        return {"logfilter_status": self.status}

    async def status(self, params: list[Any], ctx: CallContext) -> dict[str, Any]:
        check_arity(params, 0)
        service = self.service
        state = await service.state()
        head = state.head
        upstream_head: int | None = None
        phase = "read-only"
        if service.indexer is not None:
            status = service.indexer.status
            upstream_head = status.upstream_head
            phase = status.phase
        lag = None
        if upstream_head is not None and head is not None:
            lag = max(0, upstream_head - head.number)
        stats = service.engine.stats
        return {
            "chainId": _hex(state.chain_id),
            "sectionSize": hex(state.section_size),
            "sections": hex(state.sections),
            "indexedUntil": _hex(state.indexed_until if state.indexed_until >= 0 else None),
            "syncedHead": None
            if head is None
            else {"number": hex(head.number), "hash": "0x" + head.hash.hex()},
            "upstreamHead": _hex(upstream_head),
            "lag": _hex(lag),
            "phase": phase,
            "headersOnly": state.headers_only,
            "tail": _hex(state.tail),
            "queries": {
                "count": hex(stats.queries),
                "candidateBlocks": hex(stats.candidate_blocks),
                "matchedBlocks": hex(stats.matched_blocks),
                "logs": hex(stats.logs),
                "candidateDensity": stats.density,
            },
        }
