"""``--proxy``: the methods the service does not answer itself, forwarded to the upstream node
only when they are on an allow-list.

By default the list holds read-only methods (:data:`DEFAULT_PROXY_METHODS`: state and chain
reads, fee and gas estimates, ``eth_syncing``, ``net_version``, ``web3_clientVersion``; the
last two, like every method of the service's own table, are answered by the service itself and
never forwarded). ``--proxy-methods`` *replaces* the list with the names it gives; the word
``default`` in it stands for the default list, so ``--proxy-methods default,debug_traceCall``
extends it. Names are exact: there are no patterns, so ``admin_``, ``debug_``, ``personal_``,
``miner_``, ``engine_`` methods and the transaction-sending ones (``eth_sendRawTransaction``,
``eth_sendTransaction``, ``eth_sign*``) are forwarded only when listed one by one.

A method not on the list gets geth's ``-32601 the method X does not exist/is not available``,
exactly as without ``--proxy``; it never reaches the node. For a listed method the node's own
error answer (code and message) is passed through; a failure to reach the node is told as
``upstream node unavailable`` without its URL (which may carry an API key), and logged.

Unlike a node's ``--http.api`` (go-ethereum ``node/rpcstack.go`` filters whole namespaces),
the list is of single methods, since ``eth_`` holds both reads and ``eth_sendRawTransaction``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from chainindex.errors import ConfigError, RpcCallError, UpstreamError
from chainindex.source.transport import JsonRpcTransport
from rpc.server.dispatch import CallContext, Handler, Params, method_not_found
from rpc.server.protocol import SERVER_ERROR, JsonRpcError

__all__ = ["DEFAULT_PROXY_METHODS", "parse_proxy_methods", "proxy_handler"]

log = logging.getLogger("rpc.server.proxy")

DEFAULT_PROXY_METHODS: frozenset[str] = frozenset(
    {
        # state reads
        "eth_call", "eth_estimateGas", "eth_createAccessList", "eth_getBalance", "eth_getCode",
        "eth_getStorageAt", "eth_getProof", "eth_getTransactionCount",
        # blocks, transactions, receipts
        "eth_getBlockByHash", "eth_getBlockByNumber", "eth_getBlockReceipts",
        "eth_getBlockTransactionCountByHash", "eth_getBlockTransactionCountByNumber",
        "eth_getUncleByBlockHashAndIndex", "eth_getUncleByBlockNumberAndIndex",
        "eth_getUncleCountByBlockHash", "eth_getUncleCountByBlockNumber",
        "eth_getTransactionByHash", "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex", "eth_getRawTransactionByHash",
        "eth_getTransactionReceipt",
        # fees and node state
        "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_blobBaseFee", "eth_feeHistory",
        "eth_syncing",
        # identity (answered by the service itself)
        "net_version", "web3_clientVersion",
    }
)  # fmt: skip
"""The read-only methods ``--proxy`` forwards unless ``--proxy-methods`` says otherwise."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+")


def parse_proxy_methods(text: str) -> frozenset[str]:
    """The allow-list of a comma-separated ``--proxy-methods`` (``default``: the default
    list); a name that is not ``namespace_method``, or an empty list: :class:`ConfigError`."""
    names: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item == "default":
            names |= DEFAULT_PROXY_METHODS
        elif _NAME.fullmatch(item):
            names.add(item)
        else:
            raise ConfigError(
                f"--proxy-methods: {item[:60]!r} is not a method name like eth_getBalance "
                "(names are exact: no patterns)"
            )
    if not names:
        raise ConfigError("--proxy-methods: empty list (give method names, or 'default')")
    return frozenset(names)


def proxy_handler(upstream: JsonRpcTransport, allowed: frozenset[str]) -> Handler:
    """The dispatcher's fallback: ``[method, params]`` forwarded to ``upstream`` when
    ``method`` is in ``allowed``, else method not found."""

    async def forward(params: Params, ctx: CallContext) -> Any:
        method, args = params
        if method not in allowed:
            raise method_not_found(method)
        try:
            return await upstream.call(method, args)
        except RpcCallError:
            raise  # the node's own answer, for an allowed method
        except UpstreamError as err:
            log.warning("proxied %s failed: %s", method, err)
            raise JsonRpcError(SERVER_ERROR, "upstream node unavailable") from None

    return forward
