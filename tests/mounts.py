"""Real small file systems for the storage-fault tests: a tmpfs of a given size, remounted
larger, smaller or read-only while a test runs.

Mounting needs root (or CAP_SYS_ADMIN) and a ``mount`` that works here (not in every
container): :func:`mount_unavailable` says why not, and the ``mounts`` tests skip with that
reason, and for no other reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["Tmpfs", "mount_unavailable"]


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


_probe: str | bool | None = False


def mount_unavailable() -> str | None:
    """Why a tmpfs cannot be mounted here (None: it can); probed once."""
    global _probe
    if _probe is not False:
        assert _probe is None or isinstance(_probe, str)
        return _probe
    if os.geteuid() != 0:
        _probe = f"mounting a tmpfs needs root (the tests run as uid {os.geteuid()})"
    elif shutil.which("mount") is None or shutil.which("umount") is None:
        _probe = "no mount/umount command"
    else:
        point = Path(tempfile.mkdtemp(prefix="probe-mount-"))
        done = _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(point))
        if done.returncode == 0:
            subprocess.run(["umount", str(point)], check=True)
            _probe = None
        else:
            _probe = f"mount -t tmpfs fails here: {done.stderr.strip()}"
        point.rmdir()
    return _probe


class Tmpfs:
    """A tmpfs mounted on a fresh folder under /tmp (world-traversable, so that a test can
    run a command as another user in it), unmounted and removed on exit."""

    def __init__(self, size: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="logfilter-tmpfs-"))
        """Where it is mounted."""
        self.path.chmod(0o755)
        done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.path))
        if done.returncode != 0:
            raise RuntimeError(f"mount tmpfs: {done.stderr.strip()}")

    def remount(self, options: str) -> None:
        """``mount -o remount,OPTIONS`` (``size=8m``, ``ro``, ``rw``)."""
        done = _mount("-o", f"remount,{options}", str(self.path))
        if done.returncode != 0:
            raise RuntimeError(f"remount {options}: {done.stderr.strip()}")

    def __enter__(self) -> Tmpfs:
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)
        self.path.rmdir()
