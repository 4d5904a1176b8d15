"""The ``logfilter_`` namespace: the service's own methods.

``logfilter_status`` (no params) says what the service holds and how far sync has got, in
the shape of RPC-CONTRACT.md::

    {"chainId", "sectionSize", "sections", "indexedUntil", "syncedHead": {"number", "hash"},
     "upstreamHead", "lag", "phase", "headersOnly", "tail"}

(quantities as hex; ``upstreamHead``/``lag`` null when unknown; ``phase`` the indexer's, or
``"read-only"`` under ``--no-sync``), plus ``queries``: the query path's counters and its
candidate density (blocks holding a matching log / blocks whose logs were read to verify),
the figure that shows bloom saturation, overall and per path (``paths``: ``exact``,
``bloom``, ``scan``, each ``{"stretches", "candidateBlocks", "matchedBlocks"}``) and
``exactCache`` (``{"hits", "misses", "evictions", "entries", "bytes"}`` of the exact index's
bitmap cache, null under ``--exact-cache-mb 0``);
``planner``: ``{"path": "auto" | "exact" | "bloom", "rule": ...}`` (the rule of
:mod:`chainindex.filters.planning` in one line); ``exactIndex``: how far the exact log index
reaches, null in a directory without one (headers only)::

    {"firstBlock", "lastBlock",        # the sections with stored records (null: none yet)
     "sectionsToBuild",                # below them, still to build (a migrated directory)
     "head": {"firstBlock", "lastBlock", "entries"}}   # the head index, in memory

``logfilter_search`` (one parameter object; the text index, ``--text-index``) searches the
decoded logs::

    {"query": "name:vitalik*", "fromBlock", "toBlock", "address", "topics",
     "limit": 20, "after": cursor | null, "highlight": false, "sort": "relevance"}
    → {"hits": [{"score", "log", "event", "highlights"}, ...], "total": 123,
       "cursor": "…" | null}

(members in :mod:`rpc.server.codec.search_params`, the result in
:mod:`rpc.server.codec.search_result`). Block tags are
resolved as ``eth_getLogs`` resolves them, with the same errors (``invalid block range
params``, ``block range extends beyond current head block``, ``pending logs are not
supported``...); an absent bound leaves that side open. Errors:

* ``-32602`` bad parameters (``invalid argument 0: ...``, the member named), an invalid or
  foreign ``after`` cursor, and a malformed query, whose ``data`` is
  ``{"query", "position", "reason"}`` (``position``: characters into the query);
* ``-32602`` more addresses or topic alternatives than ``--max-values`` (geth's message);
* ``-32601`` ``the method logfilter_search is not available: ...`` when the service has no
  text index: started without ``--text-index``, or ``--no-sync`` over a data directory whose
  text index was never built (the message says which, and what to do);
* ``-32002`` ``request timed out``, as for every method.
"""

from __future__ import annotations

from typing import Any

from chainindex.errors import TooManyFilterValuesError
from chainindex.filters import BlockTag, LogCriteria, LogQuery
from chainindex.filters.planning import resolve_range
from chainindex.hexutil import encode_data, encode_quantity
from chainindex.store.exact.cache import ExactBitmapCache
from rpc.server.admission import AdmissionStats
from rpc.server.codec.search_params import SearchRequest, decode_search
from rpc.server.dispatch import CallContext, Handler, Params, RawJson, arg, check_arity
from rpc.server.service import Service
from rpc.server.textsearch import NOT_ENABLED, not_enabled

__all__ = ["PLANNER_RULE", "LogfilterApi"]

PLANNER_RULE = (
    "exact index (stored records, head index above the sections) where logs are stored; "
    "bloom sections where they are not, or not yet indexed; header-bloom scan above the "
    "sections without a head index, and for queries without conditions"
)
"""The planner's rule in one line (:mod:`chainindex.filters.planning` states it in full)."""


def _hex(value: int | None) -> str | None:
    return None if value is None else encode_quantity(value)


def _admission(stats: AdmissionStats) -> dict[str, Any]:
    """The gate's counts (:mod:`rpc.server.admission`): limits, now, since start."""
    return {
        "maxConcurrentRequests": encode_quantity(stats.limit),
        "queueWait": stats.wait,
        "running": encode_quantity(stats.running),
        "waiting": encode_quantity(stats.waiting),
        "admitted": encode_quantity(stats.admitted),
        "waited": encode_quantity(stats.waited),
        "refused": encode_quantity(stats.refused),
    }


def _exact_cache(cache: ExactBitmapCache | None) -> dict[str, str] | None:
    """The exact index's bitmap cache counters (None: ``--exact-cache-mb 0``)."""
    if cache is None:
        return None
    return {name: encode_quantity(value) for name, value in cache.stats()._asdict().items()}


class LogfilterApi:
    """The ``logfilter_`` handlers over one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        """What the handlers use."""

    def methods(self) -> dict[str, Handler]:
        """Method name → handler."""
        return {"logfilter_status": self.status, "logfilter_search": self.search}

    async def search(self, params: Params, ctx: CallContext) -> RawJson:
        """``logfilter_search`` (see the module docstring)."""
        check_arity(params, 1)
        request = arg(params, 0, decode_search)
        text = self.service.text
        if text is None:
            raise not_enabled(NOT_ENABLED)
        most = self.service.limits.max_values
        if most and (len(request.addresses) > most or any(len(p) > most for p in request.topics)):
            raise TooManyFilterValuesError()
        first, last = await self._bounds(request)
        return RawJson(await text.search(request, first, last))

    async def _bounds(self, request: SearchRequest) -> tuple[int | None, int | None]:
        """The request's block bounds as numbers, resolved and checked as ``eth_getLogs``
        does (an absent bound stays None: open)."""
        if request.from_block is None and request.to_block is None:
            return None, None
        begin = BlockTag.EARLIEST if request.from_block is None else request.from_block
        end = BlockTag.LATEST if request.to_block is None else request.to_block
        query = LogQuery(LogCriteria(), begin, end)
        service = self.service
        finality = None
        tags = query.tags() & {BlockTag.SAFE, BlockTag.FINALIZED}
        if tags and service.engine.finality is not None:
            finality = await service.engine.finality.numbers(tags)
        first, last = resolve_range(query, await service.state(), finality)
        return (
            None if request.from_block is None else first,
            None if request.to_block is None else last,
        )

    async def status(self, params: Params, ctx: CallContext) -> dict[str, Any]:
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
            "sectionSize": encode_quantity(state.section_size),
            "sections": encode_quantity(state.sections),
            "indexedUntil": _hex(state.indexed_until if state.indexed_until >= 0 else None),
            "syncedHead": None
            if head is None
            else {"number": encode_quantity(head.number), "hash": encode_data(head.hash)},
            "upstreamHead": _hex(upstream_head),
            "lag": _hex(lag),
            "phase": phase,
            "headersOnly": state.headers_only,
            "tail": _hex(state.tail),
            "queries": {
                "count": encode_quantity(stats.queries),
                "candidateBlocks": encode_quantity(stats.candidate_blocks),
                "matchedBlocks": encode_quantity(stats.matched_blocks),
                "logs": encode_quantity(stats.logs),
                "candidateDensity": stats.density,
                "paths": {
                    name: {
                        "stretches": encode_quantity(path.stretches),
                        "candidateBlocks": encode_quantity(path.candidate_blocks),
                        "matchedBlocks": encode_quantity(path.matched_blocks),
                    }
                    for name, path in stats.paths.items()
                },
                "exactCache": _exact_cache(service.engine.exact_cache),
            },
            "planner": {"path": service.engine.config.query_path, "rule": PLANNER_RULE},
            "exactIndex": await self._exact_index(),
            "admission": _admission(service.admission.stats()),
        }

    async def _exact_index(self) -> dict[str, Any] | None:
        coverage = await self.service.engine.coverage()
        if coverage is None:
            return None
        span, entries = self.service.engine.head.summary()
        return {
            "firstBlock": _hex(coverage.first_block),
            "lastBlock": _hex(coverage.last_block),
            "sectionsToBuild": encode_quantity(coverage.sections_to_build),
            "head": {
                "firstBlock": None if span is None else encode_quantity(span[0]),
                "lastBlock": None if span is None else encode_quantity(span[1]),
                "entries": encode_quantity(entries),
            },
        }
