"""The admin socket of a data directory: ``DATADIR/logfilter.ipc``, as go-ethereum's
``geth.ipc`` (``node/rpcstack.go``, ``rpc/ipc_unix.go``).

LevelDB lets one process open a database, so what needs the open store from outside (a
backup) asks the process that holds it. ``logfilter sync`` and ``logfilter serve`` listen on
a Unix domain socket in the data directory (mode 0600: the directory's owner only; replaced
if a crash left one; removed on exit), speaking newline-delimited JSON-RPC 2.0 (one request
or response object per line, as geth's IPC endpoint). Only admin methods are served here,
never over HTTP or WebSocket:

* ``logfilter_backup [{"out": "/absolute/path", "batchBytes": n?}]``: a consistent copy
  (:mod:`chainindex.store.backup`) on a worker thread while the service goes on; progress
  notifications ``logfilter_backupProgress {"keys", "bytes"}`` precede the answer. A client
  that disconnects stops the copy (nothing is left at ``out``);
* ``logfilter_status``: the data directory and the process id.

Unlike geth's, the socket serves one call per line in order (no batches, no
subscriptions). A path too long for ``sun_path`` is reached through ``/proc/self/fd``.
:class:`AdminIpc` runs as one task owned by its caller (the service's task group, or the
``sync`` command's); each connection is a task of its own task group, so cancelling the
server cancels every connection, and a backup running on its thread is stopped at its next
batch before the cancellation goes on (the store is never closed under it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NotRequired, TypedDict, TypeVar

import orjson

from chainindex.aio import first_error
from chainindex.logsearch.index import TEXT_INDEX_DIR
from chainindex.store.backup import (
    DEFAULT_BATCH_BYTES,
    BackupProgress,
    BackupResult,
    backup_datadir,
)
from chainindex.store.kv import KeyValueStore
from rpc.server.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    JsonId,
    JsonRpcError,
    as_json_rpc_error,
)

__all__ = [
    "PROGRESS_METHOD",
    "SOCKET_NAME",
    "AdminIpc",
    "BackupAnswer",
    "BackupParams",
    "backup_answer",
    "socket_address",
    "with_admin_socket",
]

log = logging.getLogger("rpc.server.ipc")

T = TypeVar("T")

SOCKET_NAME = "logfilter.ipc"
"""The socket's file name in the data directory."""

PROGRESS_METHOD = "logfilter_backupProgress"
"""The notification a backup's progress comes in."""

MAX_LINE = 1 << 20
"""Longest request line."""

_SUN_PATH = 100
"""Paths at least this long go through ``/proc/self/fd`` (``sun_path`` holds 108 bytes)."""


class BackupParams(TypedDict):
    """The parameter object of ``logfilter_backup``."""

    out: str
    batchBytes: NotRequired[int]


class BackupAnswer(TypedDict):
    """The result of ``logfilter_backup``."""

    out: str
    keys: int
    bytes: int
    head: int | None
    textFiles: int
    textBytes: int


def backup_answer(result: BackupResult) -> BackupAnswer:
    """A finished backup as the wire shape."""
    return {
        "out": str(result.out),
        "keys": result.keys,
        "bytes": result.bytes,
        "head": result.head,
        "textFiles": result.text_files,
        "textBytes": result.text_bytes,
    }


@contextlib.contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """An address of the socket at ``path`` that fits ``sun_path`` (through an open file
    descriptor of its folder when the path is too long), valid inside the ``with``."""
    if len(os.fsencode(path)) < _SUN_PATH:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _line(obj: Any) -> bytes:
    return orjson.dumps(obj) + b"\n"


class AdminIpc:
    """The admin socket of one open data directory (see the module docstring)."""

    def __init__(
        self, datadir: str | Path, store: KeyValueStore, *, text_dirs: Sequence[str] = ()
    ) -> None:
        self.path = Path(datadir).absolute() / SOCKET_NAME
        """The socket file."""
        self.datadir = Path(datadir).absolute()
        """The data directory."""
        self.store = store
        """Its open store."""
        self.text_dirs = tuple(text_dirs) or (TEXT_INDEX_DIR,)
        """Text-index folders a backup copies when present."""
        self.ready = asyncio.Event()
        """Set once the socket listens."""

    async def run(self) -> None:
        """Listen until cancelled; the socket file is removed on the way out. A socket that
        cannot be made (a read-only folder...) is a warning, not a failure of the service."""
        async with asyncio.TaskGroup() as connections:

            def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                connections.create_task(self._connection(reader, writer))

            try:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)  # a crash's leftover: we hold the store's lock
                with socket_address(self.path) as address:
                    server = await asyncio.start_unix_server(accept, address, limit=MAX_LINE)
            except OSError as err:  # the service goes on; only a live backup needs the socket
                log.warning("no admin socket at %s (%s): backups need the directory idle",
                            self.path, err.strerror or err)  # fmt: skip
                return
            ours = os.stat(self.path)
            try:
                os.chmod(self.path, 0o600)
                self.ready.set()
                async with server:
                    await server.serve_forever()
            finally:
                with contextlib.suppress(FileNotFoundError):
                    if os.stat(self.path).st_ino == ours.st_ino:
                        os.unlink(self.path)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_LINE
                    writer.write(
                        _line(_error(None, JsonRpcError(INVALID_REQUEST, "line too long")))
                    )
                    return
                if not line:
                    return
                if not line.strip():
                    continue
                writer.write(_line(await self._call(line, reader, writer)))
                await writer.drain()
        except (ConnectionError, OSError):
            return
        except Exception:  # never let one connection take the service down
            log.exception("admin socket connection failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _call(
        self, line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> dict[str, Any]:
        try:
            request = orjson.loads(line)
        except orjson.JSONDecodeError:
            return _error(None, JsonRpcError(PARSE_ERROR, "parse error"))
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error(None, JsonRpcError(INVALID_REQUEST, "invalid request"))
        rid: JsonId = request.get("id")
        params = request.get("params", [])
        try:
            if request["method"] == "logfilter_status":
                result: Any = {"datadir": str(self.datadir), "pid": os.getpid()}
            elif request["method"] == "logfilter_backup":
                result = await self._backup(_backup_params(params), reader, writer)
            else:
                raise JsonRpcError(METHOD_NOT_FOUND, f"the method {request['method']} does "
                                   "not exist on the admin socket")  # fmt: skip
        except Exception as err:
            return _error(rid, as_json_rpc_error(err))
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    async def _backup(
        self, params: BackupParams, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> BackupAnswer:
        loop = asyncio.get_running_loop()
        stop = threading.Event()

        def progress(p: BackupProgress) -> None:
            note = {"jsonrpc": "2.0", "method": PROGRESS_METHOD,
                    "params": {"keys": p.keys, "bytes": p.bytes}}  # fmt: skip
            loop.call_soon_threadsafe(writer.write, _line(note))

        work: Callable[[], BackupResult] = partial(
            backup_datadir, self.store, self.datadir, params["out"], text_dirs=self.text_dirs,
            batch_bytes=params.get("batchBytes", DEFAULT_BATCH_BYTES), progress=progress,
            stop=stop,
        )  # fmt: skip
        copy = loop.run_in_executor(None, work)
        gone = asyncio.ensure_future(reader.read(1))  # EOF: the client went away
        try:
            both: list[asyncio.Future[Any]] = [copy, gone]
            await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
            if not copy.done() and (gone.exception() is not None or not gone.result()):
                log.warning("backup to %s: the client went away; stopping", params["out"])
                stop.set()
            result = await asyncio.shield(copy)
            log.info("backup of %s written to %s", self.datadir, result.out)
            return backup_answer(result)
        except asyncio.CancelledError:
            stop.set()  # the service is stopping: end the copy before the store closes
            await asyncio.wait([copy])
            raise
        finally:
            gone.cancel()  # and wait: the reader takes one waiter at a time
            await asyncio.wait([gone])


async def with_admin_socket(admin: AdminIpc, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work`` with ``admin`` listening beside it, in one task group (the socket
    closes when ``work`` ends, fails or is cancelled); the telling error is raised bare."""
    try:
        async with asyncio.TaskGroup() as tasks:
            listening = tasks.create_task(admin.run())
            try:
                return await work
            finally:
                listening.cancel()
    except BaseExceptionGroup as group:
        raise first_error(group) from None


def _backup_params(params: Any) -> BackupParams:
    if not (isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict)):
        raise JsonRpcError(INVALID_PARAMS, 'logfilter_backup takes one object {"out": path}')
    obj = params[0]
    out = obj.get("out")
    if not isinstance(out, str) or not os.path.isabs(out):
        raise JsonRpcError(INVALID_PARAMS, "out: an absolute path is needed")
    batch = obj.get("batchBytes", DEFAULT_BATCH_BYTES)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch <= 0:
        raise JsonRpcError(INVALID_PARAMS, "batchBytes: a positive integer is needed")
    return {"out": out, "batchBytes": batch}


def _error(rid: JsonId, err: JsonRpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": err.to_object()}
