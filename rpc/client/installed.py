"""Installed (polling) filters as objects: ``eth_newFilter`` / ``eth_newBlockFilter`` handles
whose ``async with`` block uninstalls them on exit.

The server drops a filter nobody polled for five minutes; polling it afterwards is an
:class:`~rpc.client.errors.NodeError` ("filter not found").
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from eth_typing import Hash32

from rpc.client.errors import ClientError, LimitError, ResponseError
from rpc.client.filters import Filter
from rpc.client.types import Log

if TYPE_CHECKING:
    from rpc.client.client import AsyncClient

__all__ = ["BlockFilter", "LogFilter"]


class _Installed:
    """What both kinds of filter share: an id on one server, and uninstalling."""

    def __init__(self, client: AsyncClient, filter_id: str) -> None:
        self.client = client
        """The client it was installed through."""
        self.id = filter_id
        """The server's filter id."""

    async def uninstall(self) -> bool:
        """``eth_uninstallFilter``: True when the server still had it."""
        return await self.client.uninstall_filter(self.id)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.uninstall()
        except ClientError:
            if exc is None:
                raise  # otherwise keep the error that ended the block

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


class LogFilter(_Installed):
    """An installed log filter (``eth_newFilter``)."""

    def __init__(self, client: AsyncClient, filter_id: str, criteria: Filter) -> None:
        super().__init__(client, filter_id)
        self.criteria = criteria
        """What it was installed with."""

    async def __aenter__(self) -> LogFilter:
        return self

    async def changes(self) -> list[Log]:
        """``eth_getFilterChanges``: the logs that arrived since the last poll (with
        ``removed=True`` for logs undone by a reorg)."""
        changes = await self.client.get_filter_changes(self.id)
        if any(not isinstance(item, Log) for item in changes):
            raise ResponseError(f"eth_getFilterChanges: filter {self.id} answered block hashes")
        return changes  # type: ignore[return-value]  # checked just above

    async def logs(self) -> list[Log]:
        """``eth_getFilterLogs``: every log matching the filter now. When the server refuses
        the whole range for its size, the same criteria go through ``get_logs``, split."""
        try:
            return await self.client.get_filter_logs(self.id)
        except LimitError:
            if not self.criteria.is_range:
                raise
            return await self.client.get_logs(self.criteria)


class BlockFilter(_Installed):
    """An installed block filter (``eth_newBlockFilter``)."""

    async def __aenter__(self) -> BlockFilter:
        return self

    async def changes(self) -> list[Hash32]:
        """``eth_getFilterChanges``: hashes of the blocks added since the last poll."""
        changes = await self.client.get_filter_changes(self.id)
        if any(not isinstance(item, bytes) for item in changes):
            raise ResponseError(f"eth_getFilterChanges: block filter {self.id} answered logs")
        return changes  # type: ignore[return-value]  # checked just above
