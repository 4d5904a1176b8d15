"""``serve --processes N``: one writer process and N - 1 reader processes on one port.

The command's own process is the writer: it syncs, holds the head store, the installed
filters and the subscriptions, and answers on the port as with one process. It also
listens on two unix sockets in a private temporary directory (mode 0700), the readers'
channel to it (:mod:`rpc.server.writerlink`: calls one per line, and HTTP for
WebSockets). Then it starts the readers, each the same command line again (``sys.argv``,
plus ``--port P --processes 1``: the port the writer bound, so that ``--port 0`` works)
with :data:`READER_ENV` naming the channel's directory; each reader serves its own
copies of the sealed segments (:mod:`rpc.server.reader`). All of them bind the port with
SO_REUSEPORT, and the kernel spreads new connections over them (by a hash of the
connection's addresses). Readers answer ``logfilter_status`` only once ready; the writer
says how many are (``process.readers``), and prints its ``serving`` line once all are.

Structured lifetime: readers are children of the writer and end with it. The writer stops
them (SIGTERM, then SIGKILL after :data:`STOP_GRACE` seconds) whenever it stops: on
SIGINT/SIGTERM, on a failure, and when a reader ends on its own (the command then ends with
one line and status 1: a reader that died is a fault, not restarted). A reader ends when its
parent does, even by ``kill -9``: the kernel sends it SIGTERM (Linux ``PR_SET_PDEATHSIG``)
and, on any system, it stops when its stdin, a pipe from the writer, reaches its end. A
reader ignores SIGINT: Ctrl-C reaches the whole process group, and the writer stops them.

This is the pre-fork model of nginx and gunicorn (a master and workers on one port) turned
around: the master is also the one process that may write.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from bloombits.errors import LogfilterError
from rpc.server.app import RpcServer, dispatcher_for, running_server
from rpc.server.dispatch import CallContext, Params
from rpc.server.http import HttpPolicy
from rpc.server.monitoring import MonitoringConfig
from rpc.server.readcopy import clear_stale
from rpc.server.reader import process_info
from rpc.server.service import Service
from rpc.server.writerlink import CALLS_SOCKET, HTTP_SOCKET, serving_calls

__all__ = [
    "READER_ENV",
    "ReaderProcessError",
    "ReaderProcesses",
    "serve_with_readers",
    "watch_parent",
]

READER_ENV = "LOGFILTER_SERVE_READER_CHANNEL"
"""Set in a reader's environment: the directory of the writer's sockets (names no flag, so
settings ignore it)."""
STOP_GRACE = 10.0
"""Seconds a reader has to stop after SIGTERM before it is killed."""
READY_TIMEOUT = 300.0
"""Seconds a reader may take to open its segments and listen."""
_PR_SET_PDEATHSIG = 1


class ReaderProcessError(LogfilterError):
    """A reader process failed to start or ended on its own."""


class ReaderProcesses:
    """The reader children of one writer (see the module docstring)."""

    def __init__(self, argv: Sequence[str], count: int) -> None:
        self.argv = list(argv)
        """The command line after the program name, as the writer was started."""
        self.count = count
        """How many readers."""
        self.children: list[asyncio.subprocess.Process] = []
        """The started readers."""
        self.ready = 0
        """How many have said they serve."""

    async def start(self, port: int, channel: str) -> None:
        """Start every reader and wait until each serves; :class:`ReaderProcessError` if one
        ends first or takes longer than :data:`READY_TIMEOUT`."""
        command = [sys.executable, "-m", "rpc.cli", *self.argv, "--port", str(port)]
        command += ["--processes", "1"]
        env = {**os.environ, READER_ENV: channel}
        for _ in range(self.count):
            child = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
            )
            self.children.append(child)
        for child in self.children:
            assert child.stdout is not None
            try:
                async with asyncio.timeout(READY_TIMEOUT):
                    line = await child.stdout.readline()
            except TimeoutError:
                raise ReaderProcessError(f"reader process {child.pid} did not start") from None
            if line.strip() != b"ready":
                status = await child.wait()
                raise ReaderProcessError(
                    f"reader process {child.pid} exited with status {status} before serving"
                )
            self.ready += 1

    async def ended(self) -> None:
        """Wait until a reader ends, then raise :class:`ReaderProcessError`."""
        waits = [asyncio.ensure_future(child.wait()) for child in self.children]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        child = self.children[waits.index(next(iter(done)))]
        raise ReaderProcessError(
            f"reader process {child.pid} ended with status {child.returncode}; stopping"
        )

    async def stop(self) -> None:
        """SIGTERM to every reader still running, SIGKILL to any left after the grace."""
        for child in self.children:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.terminate()
        for child in self.children:
            try:
                async with asyncio.timeout(STOP_GRACE):
                    await child.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
            if child.stdin is not None:
                child.stdin.close()
        self.ready = 0


async def serve_with_readers(
    service: Service,
    host: str,
    port: int,
    count: int,
    argv: Sequence[str],
    datadir: str,
    *,
    on_ready: Callable[[RpcServer], None],
    http: HttpPolicy,
    monitoring: MonitoringConfig,
) -> None:
    """The writer's side of ``--processes count``: serve ``service`` with ``count - 1``
    readers until SIGINT/SIGTERM (returns), a failure or a reader's end (raises). Once the
    readers are stopped, whatever copies of ``datadir``'s segments they left (a reader
    killed by SIGKILL cannot clean up) are removed."""
    readers = ReaderProcesses(argv, count - 1)
    dispatcher = dispatcher_for(service)
    own_status = dispatcher.methods["logfilter_status"]

    async def status(params: Params, ctx: CallContext) -> Any:
        value = await own_status(params, ctx)
        value["process"] = process_info("writer", processes=count, readers=readers.ready)
        return value

    dispatcher.methods = {**dispatcher.methods, "logfilter_status": status}
    server = RpcServer(service, dispatcher, http, monitoring)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with (
            running_server(service, host, port, server=server, reuse_port=True) as running,
            _private_directory() as channel,
            serving_calls(dispatcher, os.path.join(channel, CALLS_SOCKET)),
        ):
            await running.listen_unix(os.path.join(channel, HTTP_SOCKET))
            try:
                async with asyncio.TaskGroup() as tasks:
                    started = tasks.create_task(readers.start(running.port, channel))
                    stopped = tasks.create_task(stop.wait())
                    started.add_done_callback(lambda _: stopped.cancel())
                    stopped.add_done_callback(lambda _: started.cancel())
                if stop.is_set():
                    return
                on_ready(running)
                pids = ", ".join(str(child.pid) for child in readers.children)
                print(
                    f"logfilter: {count} processes share the port: writer {os.getpid()}, "
                    f"readers {pids}",
                    file=sys.stderr,
                    flush=True,
                )
                async with asyncio.TaskGroup() as tasks:
                    ended = tasks.create_task(readers.ended())
                    stopped = tasks.create_task(stop.wait())
                    stopped.add_done_callback(lambda _: ended.cancel())
            finally:
                await readers.stop()
                await asyncio.to_thread(clear_stale, datadir)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


@contextlib.asynccontextmanager
async def _private_directory() -> AsyncIterator[str]:
    """A new directory only this user can enter (for the sockets), removed on exit."""
    with tempfile.TemporaryDirectory(prefix="logfilter-") as directory:  # mode 0700
        yield directory


def watch_parent(on_end: Callable[[], None]) -> None:
    """In a reader: ``on_end`` once stdin (the pipe from the writer) reaches its end, i.e. the
    writer ended, however it ended; on Linux the kernel also sends SIGTERM then."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; the pipe does the rest
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            data = os.read(0, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            on_end()

    os.set_blocking(0, False)
    loop.add_reader(0, readable)
