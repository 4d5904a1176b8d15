"""Files that appear complete or not at all.

Content goes to a temporary file beside the target, which is flushed, fsynced and renamed
over the target only when the writer finishes without error; on any error (Ctrl-C
included) the temporary file is removed and the target is untouched. Missing parent
directories are created.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | Path, *, buffering: int = -1) -> Iterator[BinaryIO]:
    """A binary file object whose content replaces ``path`` atomically on success."""
    target = Path(path)
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
