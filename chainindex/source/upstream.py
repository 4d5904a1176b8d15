"""A node as a :class:`~chainindex.source.base.ChainSource`, over JSON-RPC.

Headers come from ``eth_getBlockByNumber(n, false)``, logs from ``eth_getBlockReceipts(n)``,
both for a whole run of blocks in one batch. A node without ``eth_getBlockReceipts``
(Hardhat) answers it with "method not found"; the source then switches, for good, to one
``eth_getTransactionReceipt`` per transaction. Each fetch is validated
(:mod:`chainindex.source.parse`) and retried with backoff when the answer is bad or the node
fails (:mod:`chainindex.source.retry`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from chainindex.errors import HexError, InvalidBlockError, RpcCallError, UpstreamError
from chainindex.hexutil import decode_quantity, encode_data
from chainindex.source.base import HeadCallback, SourceOptions
from chainindex.source.parse import (
    check_links,
    parse_block,
    parse_header,
    transaction_hashes,
)
from chainindex.source.retry import retrying
from chainindex.source.transport import JsonRpcTransport
from chainindex.source.wire import ArchiveRecord, RpcBlock, RpcReceipt
from chainindex.types import Block, ChainLog, Header

__all__ = ["RpcSource"]

log = logging.getLogger("chainindex.source")

_METHOD_NOT_FOUND = -32601
_UNSUPPORTED_MESSAGES = ("not supported", "not available", "does not exist", "unsupported")


def _too_large(err: RpcCallError) -> bool:
    """Whether an error answer means "the answer would be too large" (geth: -32003)."""
    return "too large" in err.rpc_message.lower() or "limit exceeded" in err.rpc_message.lower()


def _is_unsupported(err: RpcCallError) -> bool:
    """Whether an error answer means "this node has no such method"."""
    message = err.rpc_message.lower()
    return err.code == _METHOD_NOT_FOUND or any(m in message for m in _UNSUPPORTED_MESSAGES)


class RpcSource:
    """Blocks and logs from a node over a :class:`JsonRpcTransport`."""

    finite = False
    """A node keeps producing blocks."""

    def __init__(self, transport: JsonRpcTransport, options: SourceOptions) -> None:
        self.transport = transport
        """The connection to the node."""
        self.options = options
        """Timeouts, batching, retries."""
        self.per_transaction_receipts = False
        """True once the node turned out to lack ``eth_getBlockReceipts``."""

    @property
    def name(self) -> str:
        return self.transport.url

    async def chain_id(self) -> int | None:
        async def ask() -> int:
            value = await self.transport.call("eth_chainId", [])
            try:
                return decode_quantity(value, "eth_chainId")
            except HexError as err:
                raise UpstreamError(f"{self.name}: {err}") from None

        return await retrying(ask, self.options, "eth_chainId")

    async def latest(self) -> Header:
        async def ask() -> Header:
            block = await self.transport.call("eth_getBlockByNumber", ["latest", False])
            return parse_header(block, verify=self.options.verify)

        return await retrying(ask, self.options, "latest block")

    async def header_at(self, number: int) -> Header | None:
        async def ask() -> Header | None:
            block = await self.transport.call("eth_getBlockByNumber", [hex(number), False])
            return (
                None if block is None else parse_header(block, number, verify=self.options.verify)
            )

        return await retrying(ask, self.options, f"block {number}")

    async def blocks(self, first: int, last: int, *, with_logs: bool) -> list[Block]:
        async def fetch() -> list[Block]:
            return (await self._fetch_fitting(first, last, with_logs))[0]

        return await retrying(fetch, self.options, _span(first, last))

    async def records(self, first: int, last: int, *, with_logs: bool) -> list[ArchiveRecord]:
        async def fetch() -> list[ArchiveRecord]:
            return (await self._fetch_fitting(first, last, with_logs))[1]

        return await retrying(fetch, self.options, _span(first, last))

    async def _fetch_fitting(
        self, first: int, last: int, with_logs: bool
    ) -> tuple[list[Block], list[ArchiveRecord]]:
        """:meth:`_fetch`, halving the run while the node says the answer is too large (geth
        caps a batch answer at 25 MB by default)."""
        try:
            return await self._fetch(first, last, with_logs)
        except RpcCallError as err:
            if last == first or not _too_large(err):
                raise
        middle = (first + last) // 2
        log.info("%s: answer too large for %s, halving", self.name, _span(first, last))
        low = await self._fetch_fitting(first, middle, with_logs)
        high = await self._fetch_fitting(middle + 1, last, with_logs)
        check_links([low[0][-1].header, high[0][0].header], None)
        return low[0] + high[0], low[1] + high[1]

    async def _fetch(
        self, first: int, last: int, with_logs: bool
    ) -> tuple[list[Block], list[ArchiveRecord]]:
        """One try: fetch, validate, and return the blocks and their raw records."""
        numbers = range(first, last + 1)
        full = with_logs and self.options.verify and self.options.verify_transactions
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(n), full]) for n in numbers
        ]
        if with_logs and not self.per_transaction_receipts:
            calls += [("eth_getBlockReceipts", [hex(n)]) for n in numbers]
        answers = await self.transport.batch(calls)
        raw_blocks = _results(answers[: len(numbers)])
        headers = [
            parse_header(b, n, verify=self.options.verify)
            for b, n in zip(raw_blocks, numbers, strict=True)
        ]
        check_links(headers, None)
        if not with_logs:
            records = [ArchiveRecord(block=cast(RpcBlock, b)) for b in raw_blocks]
            return [Block(h, None) for h in headers], records
        receipts_answers = answers[len(numbers) :]
        receipts_lists: list[Any] = []
        if receipts_answers:
            error = next((a for a in receipts_answers if isinstance(a, RpcCallError)), None)
            if error is not None and _is_unsupported(error):
                log.info(
                    "%s has no eth_getBlockReceipts: fetching receipts per transaction", self.name
                )
                self.per_transaction_receipts = True
            else:
                receipts_lists = _results(receipts_answers)
        if self.per_transaction_receipts:
            receipts_lists = await self._receipts_per_transaction(raw_blocks, headers)
        # Validation is the costly part of a fetch: off the event loop.
        return await asyncio.to_thread(
            _parse_all, raw_blocks, receipts_lists, headers, self.options.verify
        )

    async def _receipts_per_transaction(
        self, raw_blocks: list[Any], headers: list[Header]
    ) -> list[Any]:
        hashes = [transaction_hashes(b, h.number) for b, h in zip(raw_blocks, headers, strict=True)]
        calls = [("eth_getTransactionReceipt", [tx]) for txs in hashes for tx in txs]
        flat = _results(await self.transport.batch(calls)) if calls else []
        out: list[Any] = []
        pos = 0
        for txs in hashes:
            out.append(flat[pos : pos + len(txs)])
            pos += len(txs)
        return out

    async def block_logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The logs of ``header``'s block, fetched by hash (so a reorganised block can still
        be asked for while the node keeps it) and checked against its bloom."""

        async def fetch() -> tuple[ChainLog, ...]:
            block_hash = encode_data(header.hash)
            raw = await self.transport.call("eth_getBlockByHash", [block_hash, False])
            if raw is None:
                raise InvalidBlockError(header.number, "the upstream no longer has this block")
            if self.per_transaction_receipts:
                receipts = (await self._receipts_per_transaction([raw], [header]))[0]
            else:
                try:
                    receipts = await self.transport.call("eth_getBlockReceipts", [block_hash])
                except RpcCallError as err:
                    if not _is_unsupported(err):
                        raise
                    self.per_transaction_receipts = True
                    receipts = (await self._receipts_per_transaction([raw], [header]))[0]
            block = parse_block(raw, receipts, header.number, verify=self.options.verify)
            if block.header != header:
                raise InvalidBlockError(header.number, "the upstream's header differs from ours")
            assert block.logs is not None
            return block.logs

        return await retrying(fetch, self.options, f"logs of block {header.number}")

    async def watch_heads(self, on_head: HeadCallback) -> None:
        """newHeads notifications when the transport can push (WebSocket), else polling of the
        latest block every ``poll_interval`` seconds. A failing subscription falls back to
        polling until it can be set up again."""
        while True:
            notifications = self.transport.subscribe("newHeads")
            if notifications is not None:
                try:
                    async for raw in notifications:
                        await _deliver(on_head, parse_header(raw, verify=self.options.verify))
                except (UpstreamError, InvalidBlockError) as err:
                    log.warning("%s: newHeads subscription failed: %s", self.name, err)
            await self._poll_once(on_head)
            await asyncio.sleep(self.options.poll_interval)

    async def _poll_once(self, on_head: HeadCallback) -> None:
        try:
            await _deliver(on_head, await self.latest())
        except (UpstreamError, InvalidBlockError) as err:
            log.warning("%s: polling the head failed: %s", self.name, err)

    async def aclose(self) -> None:
        await self.transport.aclose()


async def _deliver(on_head: HeadCallback, header: Header) -> None:
    result = on_head(header)
    if result is not None:
        await result


def _parse_all(
    raw_blocks: list[Any], receipts_lists: list[Any], headers: list[Header], verify: bool
) -> tuple[list[Block], list[ArchiveRecord]]:
    """Validate each block with its receipts; the blocks and their raw records."""
    blocks = []
    records = []
    for raw, receipts, header in zip(raw_blocks, receipts_lists, headers, strict=True):
        blocks.append(parse_block(raw, receipts, header.number, verify=verify))
        txs = raw["transactions"]
        if txs and isinstance(txs[0], dict):  # checked: an archive keeps the hashes only
            raw = {**raw, "transactions": [tx["hash"] for tx in txs]}
        records.append(
            ArchiveRecord(block=cast(RpcBlock, raw), receipts=cast(list[RpcReceipt], receipts))
        )
    return blocks, records


def _results(answers: list[Any]) -> list[Any]:
    """The answers, raising the first error answer among them."""
    for answer in answers:
        if isinstance(answer, RpcCallError):
            raise answer
    return answers


def _span(first: int, last: int) -> str:
    return f"block {first}" if first == last else f"blocks {first}..{last}"
