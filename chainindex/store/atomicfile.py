"""Files that appear complete or not at all.

Content goes to a temporary file beside the target, which is flushed, fsynced and renamed
over the target only when the writer finishes without error; on any error (Ctrl-C
included) the temporary file is removed and the target is untouched. Missing parent
directories are created. A storage fault (full disk, read-only or forbidden directory: see
:mod:`chainindex.store.faults`) is raised as a
:class:`~chainindex.errors.StorageFaultError` naming the target by its ``kind``
(``cannot write archive out.jsonl: no space left on device``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from chainindex.store.faults import storage_fault

__all__ = ["atomic_write"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | Path, *, buffering: int = -1, kind: str = "file"
) -> Iterator[BinaryIO]:
    """A binary file object whose content replaces ``path`` atomically on success; ``kind``
    names what the file is in a storage fault's message."""
    target = Path(path)
    try:
        with _atomic_write(target, buffering) as f:
            yield f
    except OSError as err:
        fault = storage_fault(err, f"write {kind} {target}")
        if fault is None:
            raise
        raise fault from None


@contextmanager
def _atomic_write(target: Path, buffering: int) -> Iterator[BinaryIO]:
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; use the usual mode
        with os.fdopen(handle, "wb", buffering=buffering) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
