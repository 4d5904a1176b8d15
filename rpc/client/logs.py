"""``eth_getLogs`` over ranges of any size: split on limit errors, paged in bounded memory.

:func:`log_pages` is the one loop behind ``get_logs``, ``iter_logs`` and a subscription's
backfill. It drives a :class:`~rpc.client.paging.RangePager`: each page is one
``eth_getLogs`` call; a :class:`~rpc.client.errors.LimitError` (or the server's ``-32002``
request timeout) narrows the page to the server's suggested range, or halves it; a single
block still over the limit raises :class:`~rpc.client.errors.BlockLimitError`. Pages come in
block order, each sorted by block then log index.

Block tags are resolved to numbers only when a range has to be split: a ``get_logs`` that
the server answers whole costs one call. The start of a suggested range is the server's own
resolution of the first block; other tags are resolved with ``eth_blockNumber`` (``latest``)
or ``eth_getBlockByNumber``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from rpc.client.errors import TIMEOUT_CODE, BlockLimitError, LimitError, NodeError
from rpc.client.filters import BlockId, Filter
from rpc.client.paging import RangePager
from rpc.client.types import Log

__all__ = ["LogStream", "Page", "log_pages"]

FetchLogs = Callable[[Filter], Awaitable[list[Log]]]
"""One ``eth_getLogs`` call."""
ResolveBlock = Callable[[BlockId], Awaitable[int]]
"""The number of a block id (tags resolved by the server)."""


def _order(log: Log) -> tuple[int, int]:
    return log.block_number, log.log_index


@dataclass(frozen=True, slots=True)
class Page:
    """The logs of blocks ``first..last``, in chain order."""

    first: int | None
    """First block of the page (None for a query by block hash, or a range sent whole)."""
    last: int | None
    """Last block of the page (None likewise)."""
    logs: list[Log]
    """Every matching log of those blocks."""


def _narrow(pager: RangePager, error: NodeError) -> bool:
    """Narrow the pager's page after ``error``; False when it cannot be narrowed. A results
    limit the server states (``data.max``) also sets later pages to aim at half of it, so a
    denser stretch of chain rarely costs another refusal."""
    if not isinstance(error, LimitError):
        return pager.too_large()  # the server's request timeout: halve
    suggested_to = error.suggested[1] if error.suggested is not None else None
    block_range = error.maximum if error.kind == "blockRange" else None
    if error.kind == "results" and error.maximum is not None:
        target = max(1, error.maximum // 2)
        if pager.target_logs is None or pager.target_logs > target:
            pager.target_logs = target
    return pager.too_large(suggested_to, block_range_limit=block_range)


def _splittable(error: NodeError) -> bool:
    return isinstance(error, LimitError) or error.code == TIMEOUT_CODE


async def log_pages(
    criteria: Filter,
    fetch: FetchLogs,
    resolve: ResolveBlock,
    *,
    page_blocks: int | None = None,
    page_logs: int | None = None,
) -> AsyncGenerator[Page, None]:
    """The logs matching ``criteria``, page by page. With ``page_blocks`` None the range is
    first asked for whole; otherwise pages start at ``page_blocks`` blocks and adapt towards
    ``page_logs`` logs."""
    if not criteria.is_range:
        try:
            logs = await fetch(criteria)
        except LimitError as err:
            assert criteria.block_hash is not None
            raise BlockLimitError(criteria.block_hash, err) from err
        yield Page(None, None, sorted(logs, key=_order))
        return
    first_error: NodeError | None = None
    if page_blocks is None:
        try:
            logs = await fetch(criteria)
        except NodeError as err:
            if not _splittable(err):
                raise
            first_error = err
        else:
            yield Page(None, None, sorted(logs, key=_order))
            return
    resolved: dict[BlockId, int] = {}
    if (
        isinstance(first_error, LimitError)
        and first_error.suggested is not None
        and isinstance(criteria.from_block, str)
    ):
        # The server resolved the tag for us: a suggested range starts at the query's start.
        resolved[criteria.from_block] = first_error.suggested[0]
    for bound in (criteria.from_block, criteria.to_block):
        block = "latest" if bound is None else bound
        if block not in resolved:
            resolved[block] = await resolve(block)
    first = resolved["latest" if criteria.from_block is None else criteria.from_block]
    last = resolved["latest" if criteria.to_block is None else criteria.to_block]
    if last < first:
        return
    pager = RangePager(first, last, span=page_blocks, target_logs=page_logs)
    if first_error is not None and not _narrow(pager, first_error):
        if isinstance(first_error, LimitError):
            raise BlockLimitError(first, first_error) from first_error
        raise first_error
    while not pager.done:
        start, end = pager.page()
        try:
            logs = await fetch(criteria.with_range(start, end))
        except NodeError as err:
            if not _splittable(err):
                raise
            if not _narrow(pager, err):
                if isinstance(err, LimitError):
                    raise BlockLimitError(start, err) from err
                raise
            continue
        logs.sort(key=_order)
        pager.succeeded(len(logs))
        yield Page(start, end, logs)


class LogStream:
    """``iter_logs``: an async iterator over the logs of a range, one page in memory.

    The next page is asked for only once the current one is consumed. Close it (``async
    with``, :meth:`aclose`, or by exhausting it) to release the page.
    """

    def __init__(self, pages: AsyncIterator[Page]) -> None:
        self._pages = pages
        self._page: list[Log] = []
        self._next = 0
        self.pages = 0
        """Pages fetched so far."""
        self.largest_page = 0
        """Most logs one page held."""

    @property
    def held(self) -> int:
        """Logs held right now (the rest of the current page)."""
        return len(self._page) - self._next

    def __aiter__(self) -> LogStream:
        return self

    async def __anext__(self) -> Log:
        while self._next >= len(self._page):
            self._page, self._next = [], 0  # drop the consumed page before asking for the next
            try:
                page = await anext(self._pages)
            except StopAsyncIteration:
                raise StopAsyncIteration from None
            self._page = page.logs
            self.pages += 1
            self.largest_page = max(self.largest_page, len(page.logs))
        log = self._page[self._next]
        self._next += 1
        return log

    async def aclose(self) -> None:
        """Stop: release the page and the pending request state."""
        self._page, self._next = [], 0
        close = getattr(self._pages, "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> LogStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
