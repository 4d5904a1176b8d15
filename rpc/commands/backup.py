"""``logfilter backup``: a consistent copy of a data directory, even while it is in use.

``--out`` is a new directory that opens as a normal data directory (``logfilter serve
--no-sync --datadir OUT`` answers as the original did at the copy's head). The copy is made
from one LevelDB snapshot (:mod:`chainindex.store.backup`):

* a data directory that no process holds is opened here and copied;
* one held by ``logfilter sync`` or ``logfilter serve`` (LevelDB's lock) is copied by that
  process, asked through the directory's admin socket (:mod:`rpc.server.ipc`), as
  ``geth attach`` reaches a running geth through ``geth.ipc``.

Progress (keys and bytes copied) goes to stderr, the summary to stdout. Every failure is one
line and exit status 1, and leaves nothing at ``--out``.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from chainindex.errors import BackupError, DataDirLockedError
from chainindex.logsearch.index import TEXT_INDEX_DIR
from chainindex.store.backup import DEFAULT_BATCH_BYTES, BackupProgress, backup_datadir
from chainindex.store.leveldb import LevelDBStore
from rpc.commands.options import positive
from rpc.server.ipc import (
    PROGRESS_METHOD,
    SOCKET_NAME,
    BackupAnswer,
    backup_answer,
    socket_address,
)

__all__ = ["register", "run"]


def register(commands: Any) -> None:
    """Add the subcommand to ``commands`` (an argparse subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "backup",
        help="copy a data directory consistently, even while sync or serve runs on it",
        description="Write a consistent copy of a data directory (from one LevelDB snapshot, "
        "with its text index) to a new directory. A directory in use by logfilter sync or "
        "serve is copied by that process, asked through DIR/" + SOCKET_NAME + ".",
    )
    parser.add_argument("--datadir", required=True, metavar="DIR", help="data directory to copy")
    parser.add_argument("--out", required=True, metavar="DIR2", help="new directory to write")
    parser.add_argument(
        "--batch-mb", type=positive, default=DEFAULT_BATCH_BYTES >> 20, metavar="MB",
        help="MiB of keys and values per write batch: the memory the copy holds "
        f"(default {DEFAULT_BATCH_BYTES >> 20})",
    )  # fmt: skip
    parser.set_defaults(run=run)


class _Progress:
    """Progress lines on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, progress: BackupProgress) -> None:
        mib = progress.bytes / (1 << 20)
        print(f"backup: {progress.keys} keys, {mib:.1f} MiB copied", file=self.stream, flush=True)


def _direct(datadir: Path, out: Path, batch_bytes: int) -> BackupAnswer | None:
    """Copy a directory no process holds; None when one does."""
    try:
        store = LevelDBStore(datadir, create=False)
    except DataDirLockedError:
        return None
    try:
        result = backup_datadir(
            store, datadir, out, text_dirs=(TEXT_INDEX_DIR,), batch_bytes=batch_bytes,
            progress=_Progress(sys.stderr),
        )  # fmt: skip
    finally:
        store.close()
    return backup_answer(result)


def _through_socket(datadir: Path, out: Path, batch_bytes: int) -> BackupAnswer:
    """Ask the process holding ``datadir`` to copy it."""
    path = datadir / SOCKET_NAME
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            with socket_address(path) as address:
                conn.connect(address)
        except OSError:
            raise BackupError(
                f"data directory {datadir} is in use by another process, and no logfilter "
                f"process answers on {path} (stop that process, or run the backup while "
                "logfilter sync or serve holds it)"
            ) from None
        request = {"jsonrpc": "2.0", "id": 1, "method": "logfilter_backup",
                   "params": [{"out": str(out), "batchBytes": batch_bytes}]}  # fmt: skip
        conn.sendall(orjson.dumps(request) + b"\n")
        progress = _Progress(sys.stderr)
        with conn.makefile("rb") as lines:
            for line in lines:
                message = orjson.loads(line)
                if message.get("method") == PROGRESS_METHOD:
                    params = message["params"]
                    progress(BackupProgress(params["keys"], params["bytes"]))
                elif "error" in message:
                    raise BackupError(message["error"]["message"])
                elif message.get("id") == 1:
                    answer: BackupAnswer = message["result"]
                    return answer
        raise BackupError(f"the process holding {datadir} closed the admin socket mid-backup")
    finally:
        conn.close()


def run(args: argparse.Namespace) -> int:
    """Copy ``--datadir`` to ``--out``."""
    datadir = Path(args.datadir).absolute()
    out = Path(args.out).absolute()
    if not datadir.is_dir():
        raise BackupError(f"no data directory at {datadir}")
    if not (datadir / "CURRENT").is_file():
        raise BackupError(f"{datadir} is not a logfilter data directory (no database in it)")
    if out.exists():
        raise BackupError(f"{out} already exists: a backup goes to a new directory")
    batch_bytes = args.batch_mb << 20
    answer = _direct(datadir, out, batch_bytes)
    how = "directly"
    if answer is None:
        answer = _through_socket(datadir, out, batch_bytes)
        how = "by the process holding it"
    head = "no synced block" if answer["head"] is None else f"head {answer['head']}"
    mib = answer["bytes"] / (1 << 20)
    print(
        f"backed up {datadir} to {answer['out']} ({how}): {head}, {answer['keys']} keys "
        f"({mib:.1f} MiB), {answer['textFiles']} text-index files"
    )
    return 0
