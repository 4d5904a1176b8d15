"""The text index inside the service: ``logfilter serve --text-index`` and ``logfilter_search``.

:class:`TextSearch` holds the data directory's :class:`~chainindex.logsearch.index.TextIndex`
(``DATADIR/textindex``), the worker thread(s) searches run on, and, when the service syncs,
the :class:`~chainindex.logsearch.feed.TextFeed` that keeps the index in step with the store: every
synced log is indexed, a reorg deletes the undone blocks' logs (the feed runs in the
service's background task group, see :meth:`rpc.server.service.Service.run`).

Under ``--no-sync`` the index is opened read-only: each search looks for a newer commit point
first (cheap: a directory listing), so commits made by another process are seen. A
read-only service whose data directory has no text index answers ``logfilter_search`` with
``-32601`` (as when the index is not enabled at all), saying how to build one.

A search (parsing, matching, scoring, loading stored logs, highlighting, and encoding the
JSON answer) runs on the search pool, never on the event loop; the per-request timeout
applies as to every method (a search that outlives it finishes on its thread, unseen).

:func:`open_text_search` opens everything and closes it in order on exit: the search pool
first (waiting for running searches), then the index (stopping merges; uncommitted changes
are replayed from the store at the next start).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import orjson

from chainindex.logsearch.decode import AbiRegistry
from chainindex.logsearch.feed import TextFeed
from chainindex.logsearch.index import TEXT_INDEX_DIR, TextIndex
from chainindex.segments.history import SegmentHistory
from chainindex.store.reader import ChainReader
from chainindex.sync.events import ChainEvents
from chainindex.textindex.errors import QueryError, QueryParseError
from chainindex.textindex.highlight import HighlightOptions
from rpc.server.codec.search_params import SearchRequest
from rpc.server.codec.search_result import result_json
from rpc.server.protocol import INVALID_PARAMS, METHOD_NOT_FOUND, JsonRpcError

__all__ = ["HIGHLIGHT", "TextSearch", "not_enabled", "open_text_search"]

HIGHLIGHT = HighlightOptions(pre="<em>", post="</em>", escape_html=True)
"""How ``logfilter_search`` marks matched words (HTML-escaped fragments, ``<em>`` marks)."""


def not_enabled(reason: str) -> JsonRpcError:
    """The answer to ``logfilter_search`` on a service without a usable text index."""
    return JsonRpcError(METHOD_NOT_FOUND, f"the method logfilter_search is not available: {reason}")


NOT_ENABLED = "the text index is not enabled (start logfilter serve with --text-index)"
"""Why, when the service was started without ``--text-index``."""


class TextSearch:
    """The service's text index, its search pool and its feed (see the module docstring)."""

    def __init__(self, index: TextIndex, pool: ThreadPoolExecutor, feed: TextFeed | None) -> None:
        self.index = index
        """The data directory's text index (read-only under ``--no-sync``)."""
        self.pool = pool
        """Where searches run."""
        self.feed = feed
        """Keeps the index in step with the store (None when read-only)."""

    @property
    def read_only(self) -> bool:
        """Whether the index is only read (``--no-sync``)."""
        return self.feed is None

    async def run(self) -> None:
        """The feed, until cancelled (then it commits what it indexed); nothing when
        read-only."""
        if self.feed is not None:
            await self.feed.run()

    async def search(self, request: SearchRequest, first: int | None, last: int | None) -> bytes:
        """The JSON text of the answer (``rpc.server.codec.search_result`` shape) over blocks
        ``first..last`` (None: unbounded), computed on the search pool."""
        call = functools.partial(self._search, request, first, last)
        return await asyncio.get_running_loop().run_in_executor(self.pool, call)

    def _search(self, request: SearchRequest, first: int | None, last: int | None) -> bytes:
        index = self.index
        if self.read_only and index.committed_head() is None:
            raise not_enabled(
                f"no text index at {index.path} (build one with logfilter sync --text-index, "
                "or serve with --text-index and without --no-sync)"
            )
        topics: list[Sequence[bytes] | None] = [p or None for p in request.topics]
        try:
            result = index.search(
                request.query,
                from_block=first,
                to_block=last,
                address=request.addresses or None,
                topics=topics or None,
                limit=request.limit,
                after=request.after,
                highlight=HIGHLIGHT if request.highlight else False,
                sort=request.sort,
            )
        except QueryParseError as err:
            data = {"query": err.query, "position": err.position, "reason": err.reason}
            raise JsonRpcError(INVALID_PARAMS, f"invalid argument 0: {err}", data) from None
        except QueryError as err:
            raise JsonRpcError(INVALID_PARAMS, f"invalid argument 0: {err}") from None
        return orjson.dumps(result_json(result))


@asynccontextmanager
async def open_text_search(
    datadir: str,
    abi_files: Sequence[str],
    reader: ChainReader,
    events: ChainEvents | None,
    *,
    threads: int = 1,
    history: SegmentHistory | None = None,
) -> AsyncIterator[TextSearch]:
    """The text index of ``datadir``, decoding with the built-in events and ``abi_files``;
    fed from ``reader`` and ``events`` (None: read-only), and from ``history`` (the sealed
    segments below the store). Closed on exit (module docstring)."""
    registry = AbiRegistry()
    for path in abi_files:
        registry.load_file(path)
    async with AsyncExitStack() as stack:
        folder = Path(datadir) / TEXT_INDEX_DIR
        index = await asyncio.to_thread(
            TextIndex.open, folder, registry=registry, readonly=events is None
        )
        stack.callback(index.close)
        pool = ThreadPoolExecutor(threads, thread_name_prefix="search")
        stack.callback(pool.shutdown)  # runs before index.close (callbacks in reverse)
        feed = None if events is None else TextFeed(index, reader, events, history=history)
        yield TextSearch(index, pool, feed)
