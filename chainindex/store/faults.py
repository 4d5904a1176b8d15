"""Storage faults: a full disk, a read-only or forbidden directory, a vanished data directory.

:func:`storage_fault` turns what the operating system or LevelDB reports into one
:class:`~chainindex.errors.StorageFaultError` whose message names what could not be done
and why, in words a user acts on (``cannot write data directory data/x: no space left on
device``). It reads an ``OSError``'s ``errno`` and, for LevelDB (plyvel raises its
``IOError`` with no errno and a bytes message such as ``IO error: .../000003.log: No space
left on device``), the ``strerror`` text inside the status string, as LevelDB's
``PosixError`` writes it (``util/env_posix.cc``). Any other error is not a fault of the
storage and is left to its own handler.

:func:`while_present` runs a long task (sync, serve) beside a periodic check that its data
directory is still the one it opened (same device and inode): LevelDB keeps writing to the
unlinked files of a removed directory without an error, so without the check a service
would go on "syncing" into nothing. go-ethereum has no such check; its closest relative is
the free-disk-space monitor of ``cmd/utils`` that stops the node below a threshold.
"""

from __future__ import annotations

import asyncio
import errno as errnos
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Final, TypeVar

from chainindex.aio import first_error
from chainindex.errors import StorageFaultError

__all__ = [
    "FAULT_REASONS", "fault_errno", "relabel", "storage_fault", "vanished", "while_present",
]  # fmt: skip

T = TypeVar("T")

FAULT_REASONS: Final = {
    errnos.ENOSPC: "no space left on device",
    errnos.EDQUOT: "disk quota exceeded",
    errnos.EROFS: "read-only file system",
    errnos.EACCES: "permission denied",
    errnos.EPERM: "operation not permitted",
    errnos.ENOENT: "no such file or directory (removed while in use?)",
    errnos.EIO: "input/output error (check the disk)",
}
"""The faults recognised, by errno, with the words used for each."""

PRESENCE_INTERVAL: Final = 1.0
"""Seconds between two checks that the data directory is still there."""


def _text(err: BaseException) -> str:
    """An error's message, a bytes one (plyvel's) decoded."""
    if err.args and isinstance(err.args[0], bytes):
        return err.args[0].decode("utf-8", "replace")
    return str(err)


def fault_errno(err: BaseException) -> int | None:
    """The errno of ``err`` when it is a storage fault, else None."""
    if not isinstance(err, OSError):
        return None
    if err.errno in FAULT_REASONS:
        return err.errno
    if err.errno is None:  # a LevelDB status: the strerror text is inside the message
        text = _text(err)
        for code in FAULT_REASONS:
            if os.strerror(code) in text:
                return code
    return None


def storage_fault(err: BaseException, doing: str) -> StorageFaultError | None:
    """``err`` as a :class:`StorageFaultError` saying ``cannot {doing}: {reason}``, or None
    when it is no storage fault. ``doing`` names the action and the target's kind
    (``write data directory DIR``, ``write archive FILE``)."""
    if isinstance(err, StorageFaultError):
        return err
    code = fault_errno(err)
    if code is None:
        return None
    return StorageFaultError(f"cannot {doing}: {FAULT_REASONS[code]}", code)


def relabel(err: StorageFaultError, doing: str) -> StorageFaultError:
    """``err`` said of another target (a backup's, where the fault was met in its temporary
    folder); unchanged when its errno is not known."""
    if err.errno not in FAULT_REASONS:
        return err
    return StorageFaultError(f"cannot {doing}: {FAULT_REASONS[err.errno]}", err.errno)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def vanished(path: Path) -> StorageFaultError:
    """The error of a data directory removed or replaced while in use."""
    return StorageFaultError(
        f"data directory {path} was removed or replaced while in use; stopping",
        errnos.ENOENT,
    )


async def _watch(path: Path, identity: tuple[int, int] | None, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        if _identity(path) != identity:
            raise vanished(path)


async def while_present(
    path: str | Path, work: Awaitable[T], *, interval: float = PRESENCE_INTERVAL
) -> T:
    """``work``'s result, unless the directory at ``path`` disappears (or is replaced) first:
    then ``work`` is cancelled and :func:`vanished` raised (see the module docstring)."""
    where = Path(path)
    identity = _identity(where)
    if identity is None:
        raise vanished(where)
    try:
        async with asyncio.TaskGroup() as tasks:
            watch = tasks.create_task(_watch(where, identity, interval))
            job = tasks.create_task(_wrap(work))
            job.add_done_callback(lambda _: watch.cancel())
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    return job.result()


async def _wrap(work: Awaitable[T]) -> T:
    return await work
