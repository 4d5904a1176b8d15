"""Where blocks come from: a node over JSON-RPC or a chain archive file.

:func:`open_source` turns what a user gives as ``--upstream`` (an ``http(s)://`` or
``ws(s)://`` URL, a ``synthetic:`` spec, ``era1:DIR`` (a directory of era1 files), or the
path of an archive file) into a :class:`ChainSource`. It is the one place where
``--upstream`` is understood: every command that takes one goes through it.

* :mod:`~chainindex.source.base`: the :class:`ChainSource` protocol and
  :class:`SourceOptions`;
* :mod:`~chainindex.source.upstream`: a node (:class:`RpcSource`), over
  :mod:`~chainindex.source.transport` (the upstream's HTTP and WebSocket transports), with
  :mod:`~chainindex.source.retry` (backoff);
* :mod:`~chainindex.source.archive`: a chain archive file (:class:`ArchiveSource`), and
  :func:`write_archive`; :mod:`~chainindex.source.replay`: an archive replayed as a growing
  chain (:class:`ReplaySource`); :mod:`~chainindex.source.synthetic`: a generated chain
  streamed without an archive (:class:`SyntheticSource`, ``synthetic:saturated?blocks=N``);
* :mod:`~chainindex.source.era1`: go-ethereum's era1 files of pre-merge history
  (:class:`Era1Source`, ``era1:DIR``; ``--chain-id`` required: the files name no chain);
* :mod:`~chainindex.source.wire`: the wire shapes of answers and archive records;
  :mod:`~chainindex.source.parse`: wire records to validated blocks;
* :mod:`~chainindex.source.ondemand`: logs fetched on demand for headers-only data
  directories (:class:`~chainindex.source.ondemand.LogCache`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from chainindex.errors import ConfigError, UpstreamError
from chainindex.source.archive import ArchiveSource, write_archive
from chainindex.source.base import (
    ERA1_PREFIX,
    SYNTHETIC_SCHEME,
    ChainSource,
    HeadCallback,
    SourceOptions,
)

if TYPE_CHECKING:
    from chainindex.source.era1 import Era1Source
    from chainindex.source.replay import ReplaySource
    from chainindex.source.synthetic import SyntheticSource
    from chainindex.source.upstream import RpcSource

__all__ = [
    "ArchiveSource",
    "ChainSource",
    "Era1Source",
    "HeadCallback",
    "ReplaySource",
    "RpcSource",
    "SourceOptions",
    "SyntheticSource",
    "is_url",
    "open_source",
    "write_archive",
]

_SCHEMES = ("http://", "https://", "ws://", "wss://")


def is_url(target: str) -> bool:
    """Whether ``target`` names a node (a URL) rather than an archive file."""
    return target.lower().startswith(_SCHEMES)


def __getattr__(name: str) -> object:
    """The sources that need heavy imports (aiohttp, the chain generator's ABI codecs) are
    loaded when first named, so that reading an archive (a backfill worker) loads neither."""
    if name == "Era1Source":
        from chainindex.source.era1 import Era1Source

        return Era1Source
    if name == "ReplaySource":
        from chainindex.source.replay import ReplaySource

        return ReplaySource
    if name == "RpcSource":
        from chainindex.source.upstream import RpcSource

        return RpcSource
    if name == "SyntheticSource":
        from chainindex.source.synthetic import SyntheticSource

        return SyntheticSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@asynccontextmanager
async def open_source(
    target: str, options: SourceOptions | None = None
) -> AsyncIterator[ChainSource]:
    """The source ``target`` names, closed on exit; only the module of that kind of source
    is imported."""
    options = options or SourceOptions()
    source: ChainSource
    if target.startswith(ERA1_PREFIX):
        from chainindex.source.era1 import Era1Source

        if options.chain_id is None:
            raise ConfigError(
                "era1 files name no chain: give --chain-id N with --upstream era1:DIR"
            )
        source = Era1Source(
            target[len(ERA1_PREFIX) :], chain_id=options.chain_id, verify=options.verify
        )
    elif target.lower().startswith(SYNTHETIC_SCHEME):
        from chainindex.source.synthetic import SyntheticSource

        source = SyntheticSource.from_spec(target)
    elif is_url(target):
        from chainindex.source.transport import open_transport
        from chainindex.source.upstream import RpcSource

        source = RpcSource(open_transport(target, options), options)
    elif "://" in target:
        scheme = target.split("://", 1)[0]
        raise UpstreamError(f"unsupported upstream URL scheme {scheme!r}: use http(s) or ws(s)")
    else:
        source = ArchiveSource(target, verify=options.verify)
    try:
        yield source
    finally:
        await source.aclose()
