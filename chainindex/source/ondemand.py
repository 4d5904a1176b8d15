"""Logs fetched from the upstream on demand, for headers-only data directories.

In headers-only mode (``--no-logs``) only headers and section vectors are stored; the query
path still has to verify candidate blocks against their logs. :class:`LogCache` fetches a
block's logs from the source by block hash (validated against the stored header's bloom),
keeps recently used blocks in an LRU bounded both in blocks and in logs, and shares one fetch
between concurrent requests for the same block.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from chainindex.source.base import ChainSource
from chainindex.types import ChainLog, Header

__all__ = ["LogCache"]


class LogCache:
    """A bounded LRU of blocks' logs in front of a :class:`ChainSource`."""

    def __init__(
        self, source: ChainSource, *, max_blocks: int = 1024, max_logs: int = 500_000
    ) -> None:
        self.source = source
        """Where logs are fetched from."""
        self.max_blocks = max_blocks
        """Most blocks kept."""
        self.max_logs = max_logs
        """Most logs kept (a block larger than this is served but not kept)."""
        self._cache: OrderedDict[bytes, tuple[ChainLog, ...]] = OrderedDict()
        self._cached_logs = 0
        self._inflight: dict[bytes, asyncio.Future[tuple[ChainLog, ...]]] = {}
        self.hits = 0
        """Requests served from the cache."""
        self.misses = 0
        """Requests that fetched (or joined a fetch)."""

    def __len__(self) -> int:
        return len(self._cache)

    async def logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The logs of ``header``'s block."""
        key = bytes(header.hash)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return cached
        self.misses += 1
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[tuple[ChainLog, ...]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            logs = await self.source.block_logs(header)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as err:
            future.set_exception(err)
            future.exception()  # mark retrieved: joiners re-raise it, nobody else needs to
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(logs)
        self._store(key, logs)
        return logs

    def _store(self, key: bytes, logs: tuple[ChainLog, ...]) -> None:
        if len(logs) > self.max_logs:
            return
        self._cache[key] = logs
        self._cached_logs += len(logs)
        while len(self._cache) > self.max_blocks or self._cached_logs > self.max_logs:
            _, evicted = self._cache.popitem(last=False)
            self._cached_logs -= len(evicted)
