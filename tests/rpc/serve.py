"""``logfilter serve`` as a real process for the tests, and a plain JSON-RPC client for it.

The server runs exactly as a user runs it (``python -m rpc.cli serve ...``) on a free port
of 127.0.0.1; :meth:`ServeProcess.stop` sends SIGTERM and checks that it exits cleanly. The
client speaks HTTP with the standard library, so it shares nothing with the code under test.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from tests.anvil import LoopbackEndpoint
from tests.fixtures import REPO

__all__ = ["RpcCallFailedError", "ServeProcess"]


class RpcCallFailedError(Exception):
    """The server answered a call with an error object."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error
        self.code = error.get("code")
        self.message = error.get("message")


class ServeProcess(LoopbackEndpoint):
    """One ``logfilter serve`` process (use as a context manager)."""

    def __init__(self, *args: str, log: Path | None = None) -> None:
        super().__init__()
        self.args = list(args)
        """Arguments after ``serve``."""
        self.log = log
        """File receiving its stderr (else a temporary file)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = 0

    def start(self, timeout: float = 60.0) -> ServeProcess:
        """Start and wait until it answers ``logfilter_status`` (once: a started process is
        left alone)."""
        if self._process is not None:
            return self
        command = [
            sys.executable, "-m", "rpc.cli", "serve", "--port", str(self.port), *self.args
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        # A file, not a pipe: a pipe nobody reads would block the server once full.
        with self.log.open("ab") if self.log else tempfile.TemporaryFile() as stderr:
            self._process = subprocess.Popen(
                command, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"logfilter serve exited with {self._process.returncode}")
            try:
                self.call("logfilter_status")
                return self
            except (OSError, http.client.HTTPException):
                self._close_conn()
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("logfilter serve did not answer") from None
                time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit status."""
        self._close_conn()
        process = self._process
        if process is None:
            return 0
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    @property
    def pid(self) -> int:
        """The process id (the server must be running)."""
        assert self._process is not None
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """POST ``body`` as is; the HTTP status and the response body."""
        conn = self._connection()
        try:
            conn.request("POST", "/", body, {"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self._close_conn()
            raise

    def request(self, method: str, *params: Any) -> Any:
        """The whole response object of one call."""
        self._ids += 1
        payload = {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": list(params)}
        status, body = self.post(orjson.dumps(payload))
        assert status == 200, (status, body[:200])
        return orjson.loads(body)

    def call(self, method: str, *params: Any) -> Any:
        """The result of one call; :class:`RpcCallFailedError` on an error answer."""
        response = self.request(method, *params)
        if "error" in response:
            raise RpcCallFailedError(response["error"])
        return response["result"]

    def _answered_head(self) -> int:
        """The head ``eth_blockNumber`` answers, -1 while it still says no block is synced
        (the store can hold the first commit a moment before the answered head moves)."""
        response = self.request("eth_blockNumber")
        if "error" in response:
            assert response["error"]["message"] == "no blocks synced yet", response
            return -1
        return int(response["result"], 16)

    def wait_synced(self, number: int, timeout: float = 60.0, *, sections: int = 0) -> None:
        """Wait until the service has synced block ``number`` and built ``sections``
        sections (a section is built just after the commit that completes it), and
        ``eth_blockNumber`` says so too (the head it answers moves once the commit's sections
        and events are done, just after the store's state that ``logfilter_status`` reads)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.call("logfilter_status")
            head = status["syncedHead"]
            if (
                head is not None
                and int(head["number"], 16) >= number
                and int(status["sections"], 16) >= sections
                and self._answered_head() >= number
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not synced to {number}: {status}")
            time.sleep(0.05)
