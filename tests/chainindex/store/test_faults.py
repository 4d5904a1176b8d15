"""The storage-fault mapper and the presence check, on real errors: ``OSError``s as the
kernel gives them, plyvel's ``IOError`` as LevelDB words its status, a real folder removed
or replaced."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import plyvel
import pytest

from chainindex.errors import StorageFaultError
from chainindex.store.faults import fault_errno, relabel, storage_fault, while_present

FAULTS = [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.EIO]


@pytest.mark.parametrize("code", FAULTS)
def test_an_os_error_of_a_fault_errno_is_a_fault(code: int) -> None:
    err = OSError(code, os.strerror(code), "/x/y")
    fault = storage_fault(err, "write archive out.jsonl")
    assert isinstance(fault, StorageFaultError)
    assert fault.errno == code
    assert str(fault).startswith("cannot write archive out.jsonl: ")
    assert "\n" not in str(fault)


@pytest.mark.parametrize("code", FAULTS)
def test_a_leveldb_status_is_read_by_its_strerror_text(code: int) -> None:
    err = plyvel.IOError(f"IO error: /d/000003.log: {os.strerror(code)}".encode())
    assert fault_errno(err) == code


def test_the_words_of_each_fault() -> None:
    def said(code: int) -> str:
        fault = storage_fault(OSError(code, os.strerror(code)), "write data directory d")
        assert fault is not None
        return str(fault)

    assert said(errno.ENOSPC) == "cannot write data directory d: no space left on device"
    assert said(errno.EROFS) == "cannot write data directory d: read-only file system"
    assert said(errno.EACCES) == "cannot write data directory d: permission denied"


@pytest.mark.parametrize(
    "err",
    [
        OSError(errno.ECONNREFUSED, "Connection refused"),
        OSError(errno.EEXIST, "File exists"),
        plyvel.IOError(b"IO error: lock /d/LOCK: Resource temporarily unavailable"),
        ValueError("No space left on device"),  # not an OSError: not the disk's
    ],
)
def test_other_errors_are_not_faults(err: Exception) -> None:
    assert storage_fault(err, "write x") is None


def test_relabel_names_another_target() -> None:
    fault = StorageFaultError("cannot write data directory out.partial-1: x", errno.ENOSPC)
    assert str(relabel(fault, "write backup out")) == (
        "cannot write backup out: no space left on device"
    )


def test_while_present_returns_the_work_s_result(tmp_path: Path) -> None:
    async def work() -> int:
        await asyncio.sleep(0.05)
        return 7

    assert asyncio.run(while_present(tmp_path, work(), interval=0.01)) == 7


def test_while_present_raises_the_work_s_error(tmp_path: Path) -> None:
    async def work() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        asyncio.run(while_present(tmp_path, work(), interval=0.01))


@pytest.mark.parametrize("replace", [False, True])
def test_a_removed_or_replaced_directory_stops_the_work(tmp_path: Path, replace: bool) -> None:
    folder = tmp_path / "dd"
    folder.mkdir()
    cancelled = []

    async def work() -> None:
        try:
            await asyncio.sleep(0.05)
            folder.rename(tmp_path / "moved")
            if replace:
                folder.mkdir()
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(StorageFaultError, match="was removed or replaced while in use"):
        asyncio.run(while_present(folder, work(), interval=0.01))
    assert cancelled == [True]


def test_a_missing_directory_is_refused_at_once(tmp_path: Path) -> None:
    async def work() -> None:
        raise AssertionError("never started")

    coroutine = work()
    with pytest.raises(StorageFaultError):
        asyncio.run(while_present(tmp_path / "none", coroutine, interval=0.01))
    coroutine.close()
