"""Writing a generated chain to a chain-archive file: streamed, and all or nothing.

A path is written through a temporary file in the same directory, renamed over the target
only when every block is written; an error or an interrupt removes the temporary file and
leaves the target as it was.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from chainindex.errors import SyntheticChainError
from chainindex.store.atomicfile import atomic_write
from chainindex.synthetic.generator import ChainGenerator, GenerationStats

__all__ = ["Progress", "Sink", "write_archive"]


class Sink(Protocol):
    """Where archive lines go when no path is given: any binary writer."""

    def write(self, data: bytes, /) -> object:
        """Write all of ``data``."""


Progress = Callable[[GenerationStats, float], None]
"""Called now and then with the running totals and the seconds elapsed."""

_BUFFER = 1 << 20
_PROGRESS_EVERY = 0.5  # seconds


def _write(
    generator: ChainGenerator, out: Sink, count: int, progress: Progress | None
) -> GenerationStats:
    started = last = time.monotonic()
    write = out.write
    # The records hold no reference cycles: the cycle collector would only rescan the
    # batch's many small lists and dicts (about 15% of the time of a saturated chain).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for done, line in enumerate(generator.lines(count), start=1):
            write(line)
            if progress is not None and done % 64 == 0:
                now = time.monotonic()
                if now - last >= _PROGRESS_EVERY:
                    progress(generator.stats, now - started)
                    last = now
    finally:
        if collecting:
            gc.enable()
    if progress is not None:
        progress(generator.stats, time.monotonic() - started)
    return generator.stats


def write_archive(
    generator: ChainGenerator,
    out: str | Path | Sink,
    count: int,
    *,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> GenerationStats:
    """Write the generator's next ``count`` blocks to ``out`` (a path or a binary writer).

    Returns the generator's running totals. A path that exists is refused unless
    ``overwrite``; it is replaced atomically once the whole archive is written.
    """
    if count < 0:
        raise SyntheticChainError(f"block count must be >= 0, got {count}")
    if not isinstance(out, str | Path):
        return _write(generator, out, count, progress)
    target = Path(out)
    if target.exists() and not overwrite:
        raise SyntheticChainError(f"{target} exists (overwrite it explicitly)")
    if target.is_dir():
        raise SyntheticChainError(f"{target} is a directory")
    with atomic_write(target, buffering=_BUFFER, kind="archive") as f:
        stats = _write(generator, f, count, progress)
    return stats
