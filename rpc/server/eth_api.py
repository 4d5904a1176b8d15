"""The ``eth_`` methods the service answers itself, with geth's semantics.

``eth_getLogs``, the installed-filter methods (``eth_newFilter``, ``eth_newBlockFilter``,
``eth_getFilterChanges``, ``eth_getFilterLogs``, ``eth_uninstallFilter``), subscriptions
(``eth_subscribe`` ``logs``/``newHeads``, ``eth_unsubscribe``; WebSocket only),
``eth_blockNumber`` (the synced head), ``eth_chainId``, and the identity calls clients make
on connecting (``net_version``, ``web3_clientVersion``). With ``--proxy`` the methods of an
allow-list are forwarded to the upstream node (:mod:`rpc.server.proxy`).

A query answers with the log objects encoded straight from the store's records
(:mod:`rpc.server.codec`): gathered up to the result limit, or, with no result limit, streamed as
the query path finds them (the first chunk is found inside the call, so a bad range or an
unknown block is still a proper error answer).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from importlib.metadata import version as _package_version
from typing import Any, cast

from chainindex.errors import (
    FilterNotFoundError,
    InvalidBlockRangeError,
    PendingLogsError,
    PrunedHistoryError,
    TooManyFilterValuesError,
)
from chainindex.filters import BlockLogs, BlockTag, FilterKind, LogQuery
from chainindex.hexutil import encode_data, encode_quantity
from chainindex.types import ChainLog
from rpc.server.codec import (
    EncodedLogs,
    decode_filter,
    decode_filter_id,
    encode_block_logs,
    encode_logs,
    encode_logs_array,
)
from rpc.server.dispatch import (
    CallContext,
    Handler,
    Params,
    RawJson,
    StreamedJson,
    arg,
    check_arity,
)
from rpc.server.protocol import LIMIT_EXCEEDED, METHOD_NOT_FOUND, SERVER_ERROR, JsonRpcError
from rpc.server.service import Service

__all__ = ["EthApi"]

CLIENT_VERSION = (
    f"logfilter/v{_package_version('logfilter')}/python{sys.version_info[0]}.{sys.version_info[1]}"
)
"""The answer to ``web3_clientVersion``."""

NOT_SUPPORTED = JsonRpcError(METHOD_NOT_FOUND, "notifications not supported")
"""geth's answer to a subscription call over HTTP."""


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise JsonRpcError(-32602, "expected a string")
    return value


class EthApi:
    """The ``eth_`` handlers over one :class:`Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service
        """What the handlers use."""

    def methods(self) -> dict[str, Handler]:
        """Method name → handler."""
        return {
            "eth_blockNumber": self.block_number,
            "eth_chainId": self.chain_id,
            "net_version": self.net_version,
            "web3_clientVersion": self.client_version,
            "eth_getLogs": self.get_logs,
            "eth_newFilter": self.new_filter,
            "eth_newBlockFilter": self.new_block_filter,
            "eth_getFilterChanges": self.get_filter_changes,
            "eth_getFilterLogs": self.get_filter_logs,
            "eth_uninstallFilter": self.uninstall_filter,
            "eth_subscribe": self.subscribe,
            "eth_unsubscribe": self.unsubscribe,
        }

    # --- chain --------------------------------------------------------------------------------

    async def block_number(self, params: Params, ctx: CallContext) -> str:
        """The synced head as of the last commit whose sections and events are done (no store
        read: the fastest call; a range query up to it always succeeds)."""
        check_arity(params, 0)
        head = self.service.head()
        if head is None:
            raise JsonRpcError(SERVER_ERROR, "no blocks synced yet")
        return encode_quantity(head.number)

    async def chain_id(self, params: Params, ctx: CallContext) -> str:
        check_arity(params, 0)
        # The directory's, else the one the syncing upstream gave at start (an empty
        # directory stores it with its first block).
        known = (await self.service.state()).chain_id
        if known is None and self.service.indexer is not None:
            known = self.service.indexer.chain_id
        if known is not None:
            return encode_quantity(known)
        if self.service.head() is None:
            raise JsonRpcError(SERVER_ERROR, "chain id not known yet: no block synced")
        raise JsonRpcError(
            SERVER_ERROR,
            "chain id unknown: the data directory was synced from an archive without one; "
            "run `logfilter sync --chain-id N --datadir DIR` on it",
        )

    async def net_version(self, params: Params, ctx: CallContext) -> str:
        """The chain id in decimal, as nodes answer ``net_version``."""
        return str(int(await self.chain_id(params, ctx), 16))

    async def client_version(self, params: Params, ctx: CallContext) -> str:
        """Who answers (clients such as web3.py's ``is_connected`` ask)."""
        check_arity(params, 0)
        return CLIENT_VERSION

    # --- logs ---------------------------------------------------------------------------------

    def _check_values(self, query: LogQuery) -> None:
        """geth's ``logQueryLimit``: addresses and alternatives per topic position."""
        most = self.service.limits.max_values
        criteria = query.criteria
        if most and (len(criteria.addresses) > most or any(len(p) > most for p in criteria.topics)):
            raise TooManyFilterValuesError()

    async def get_logs(self, params: Params, ctx: CallContext) -> RawJson | StreamedJson:
        check_arity(params, 1)
        query = arg(params, 0, decode_filter)
        self._check_values(query)
        return await self._logs(query)

    async def _logs(self, query: LogQuery) -> RawJson | StreamedJson:
        engine = self.service.engine
        limit = self.service.limits.max_results
        if limit:
            blocks = await engine.collect(query, limit)
            return RawJson(encode_logs_array(blocks, self.service.encoded))
        parts = _json_array(engine.stream(query), self.service.encoded)
        head = await anext(parts)
        deadline = asyncio.get_running_loop().time() + self.service.limits.request_timeout
        return StreamedJson(head, parts, deadline)

    # --- installed filters --------------------------------------------------------------------

    async def _check_live_range(self, query: LogQuery) -> None:
        """geth's ``SubscribeLogs`` rules for the bounds of a live filter."""
        begin = BlockTag.LATEST if query.from_block is None else query.from_block
        end = BlockTag.LATEST if query.to_block is None else query.to_block
        if BlockTag.PENDING in (begin, end):
            raise PendingLogsError()
        if isinstance(begin, int) or begin == BlockTag.EARLIEST:
            tail = (await self.service.state()).tail or 0
            if begin == BlockTag.EARLIEST:
                begin = tail
            elif begin < tail:
                raise PrunedHistoryError()
        if begin == BlockTag.LATEST and end == BlockTag.LATEST:
            return
        if isinstance(begin, int) and (
            end == BlockTag.LATEST or (isinstance(end, int) and end >= begin)
        ):
            return
        raise InvalidBlockRangeError()

    def _check_owner(self, ctx: CallContext) -> None:
        """The global cap on installed filters, and the per-connection one on WebSockets."""
        limits, filters = self.service.limits, self.service.filters
        most = limits.max_connection_filters
        if ctx.peer is not None and filters.owned_by(ctx.owner) >= most:
            raise JsonRpcError(
                LIMIT_EXCEEDED, f"too many installed filters on this connection (at most {most})"
            )
        if len(filters) >= limits.max_filters:
            raise JsonRpcError(
                LIMIT_EXCEEDED,
                f"too many installed filters (at most {limits.max_filters} in all); "
                f"unpolled ones expire after {limits.filter_timeout:g} s",
            )

    async def new_filter(self, params: Params, ctx: CallContext) -> str:
        check_arity(params, 1)
        query = arg(params, 0, decode_filter)
        self._check_values(query)
        await self._check_live_range(query)
        self._check_owner(ctx)
        return self.service.filters.install_logs(query, ctx.owner)

    async def new_block_filter(self, params: Params, ctx: CallContext) -> str:
        check_arity(params, 0)
        self._check_owner(ctx)
        return self.service.filters.install_blocks(ctx.owner)

    async def get_filter_changes(self, params: Params, ctx: CallContext) -> Any:
        check_arity(params, 1)
        filter_id = arg(params, 0, decode_filter_id)
        kind = self.service.filters.get(filter_id).kind
        changes = self.service.filters.changes(filter_id)
        if kind is FilterKind.BLOCKS:
            return [encode_data(h) for h in cast(list[bytes], changes)]
        return RawJson(encode_logs(cast(list[ChainLog], changes)).encode())

    async def get_filter_logs(self, params: Params, ctx: CallContext) -> RawJson | StreamedJson:
        check_arity(params, 1)
        filter_id = arg(params, 0, decode_filter_id)
        found = self.service.filters.get(filter_id)
        if found.kind is not FilterKind.LOGS or found.query is None:
            raise FilterNotFoundError()
        return await self._logs(found.query)

    async def uninstall_filter(self, params: Params, ctx: CallContext) -> bool:
        check_arity(params, 1)
        return self.service.filters.uninstall(arg(params, 0, decode_filter_id))

    # --- subscriptions ------------------------------------------------------------------------

    async def subscribe(self, params: Params, ctx: CallContext) -> str:
        if ctx.peer is None:
            raise NOT_SUPPORTED
        kind = arg(params, 0, _string)
        hub = self.service.subscriptions
        if kind == "newHeads":
            check_arity(params, 1)
            sub = hub.subscribe(ctx.peer, ctx.owner, kind)
        elif kind == "logs":
            check_arity(params, 2)
            query = arg(params, 1, decode_filter) if len(params) > 1 else LogQuery()
            self._check_values(query)
            await self._check_live_range(query)
            sub = hub.subscribe(ctx.peer, ctx.owner, kind, query)
        else:
            raise JsonRpcError(METHOD_NOT_FOUND, f'no "{kind[:100]}" subscription in eth namespace')
        ctx.after_reply.append(lambda: hub.activate(sub))
        return sub.id

    async def unsubscribe(self, params: Params, ctx: CallContext) -> bool:
        if ctx.peer is None:
            raise NOT_SUPPORTED
        check_arity(params, 1)
        if not self.service.subscriptions.unsubscribe(ctx.owner, arg(params, 0, decode_filter_id)):
            raise JsonRpcError(SERVER_ERROR, "subscription not found")
        return True


async def _json_array(
    chunks: AsyncIterator[list[BlockLogs]], cache: EncodedLogs
) -> AsyncGenerator[bytes]:
    """A JSON array of the chunks' logs, in parts: the first part holds the first chunk."""
    written = False
    async with aclosing(chunks) as blocks:  # type: ignore[type-var]
        first = True
        async for chunk in blocks:
            text = encode_block_logs(chunk, cache)
            if first:
                first = False
                written = bool(text)
                yield b"[" + text.encode()
            elif text:
                yield (b"," if written else b"") + text.encode()
                written = True
        if first:
            yield b"["
    yield b"]"
