"""Process memory settings for long syncs: a single glibc malloc arena, and large blocks
mapped on their own.

Measured with ``bench/bench_sync.py``: with glibc's default (up to eight arenas per core), the
RSS of a sync creeps up with chain length (about 180 to 240 MiB over 16,000 blocks of 100
logs) although Python's own allocations stay flat (tracemalloc): blocks are decoded in worker
threads and freed on the event loop, which fragments several arenas. With one arena the RSS
stays flat (about 160 MiB) at the same speed.

Blocks of 16 KiB and more are mapped on their own (``M_MMAP_THRESHOLD``, which also turns
off glibc's sliding threshold) and so go back to the system when freed: completing a group
of sections moves 64 MiB of rows through LevelDB's write batch and memtable (2,048 values of
32 KiB on a saturated chain), which otherwise stay in the heap as holes. Measured on a
headers-only sync of 300,000 saturated blocks crossing one group: peak RSS 351 MiB without,
280 MiB with, at the same speed (BENCHMARKS.md).

Call :func:`use_flat_malloc` at process start, before any thread exists; it does nothing where
glibc's ``mallopt`` is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["MMAP_THRESHOLD", "use_flat_malloc"]

_M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter number for the arena limit."""
_M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the size above which blocks are mapped."""

MMAP_THRESHOLD = 16 << 10
"""Blocks of at least this many bytes are mapped on their own."""


def use_flat_malloc() -> bool:
    """Limit malloc to one arena and map large blocks on their own; returns whether the
    settings took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(_M_ARENA_MAX, 1)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
