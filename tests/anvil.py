"""A real anvil node for tests: started on 127.0.0.1 on a free port, stopped after.

anvil comes from the npm package ``@foundry-rs/anvil`` (``npm install`` in the repository
puts it in ``node_modules/.bin``; ``ANVIL`` may point elsewhere). Calls go over plain HTTP
with the standard library, so the helper works the same from sync and async tests and
shares nothing with the code under test.

The fixtures in ``tests/conftest.py`` (``anvil``) start one node per test: a test may mine,
snapshot, revert and reorganise freely.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson

from tests.fixtures import REPO

__all__ = ["Anvil", "AnvilError", "anvil_binary"]


class AnvilError(RuntimeError):
    """anvil answered a call with an error, or could not be started."""


def anvil_binary() -> str:
    """Path of the anvil executable; raises with a clear message when it is missing."""
    candidates = [os.environ.get("ANVIL"), str(REPO / "node_modules" / ".bin" / "anvil")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("anvil")
    if found:
        return found
    raise AnvilError("anvil not found: run `npm install` in the repository (or set ANVIL)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LoopbackEndpoint:
    """A JSON-RPC endpoint on 127.0.0.1 at a free port, spoken to over one kept HTTP
    connection (opened on first use, closed on errors and at stop)."""

    def __init__(self) -> None:
        self.port = free_port()
        """The port it listens on (127.0.0.1 only)."""
        self._conn: http.client.HTTPConnection | None = None

    @property
    def url(self) -> str:
        """HTTP endpoint."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket endpoint (same port)."""
        return f"ws://127.0.0.1:{self.port}"

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self._conn

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Anvil(LoopbackEndpoint):
    """One anvil process. Use as a context manager, or :meth:`start` / :meth:`stop`."""

    def __init__(self, *args: str, chain_id: int = 31337) -> None:
        super().__init__()
        self.chain_id = chain_id
        """Its chain id."""
        self.args = list(args)
        """Extra command-line arguments."""
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = 0

    def start(self, timeout: float = 30.0) -> Anvil:
        """Start the node and wait until it answers."""
        command = [
            anvil_binary(),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--silent",
            *self.args,
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise AnvilError(f"anvil exited with {self._process.returncode}: {err.strip()}")
            try:
                self.rpc("eth_chainId")
                return self
            except (OSError, http.client.HTTPException):
                self._close_conn()
                if time.monotonic() > deadline:
                    self.stop()
                    raise AnvilError(f"anvil did not answer on port {self.port}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the node (terminate, then kill if it lingers)."""
        self._close_conn()
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _post(self, payload: bytes) -> Any:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", "/", payload, {"Content-Type": "application/json"})
                return orjson.loads(conn.getresponse().read())
            except (OSError, http.client.HTTPException):
                self._close_conn()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def rpc(self, method: str, *params: Any) -> Any:
        """Call ``method``; raises :class:`AnvilError` on an error answer."""
        self._ids += 1
        body = self._post(
            orjson.dumps({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        )
        if "error" in body:
            raise AnvilError(f"{method}: {body['error']}")
        return body["result"]

    def rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one batch request; results in order."""
        requests = []
        for method, params in calls:
            self._ids += 1
            requests.append({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        body = self._post(orjson.dumps(requests))
        by_id = {item["id"]: item for item in body}
        out = []
        for request in requests:
            item = by_id[request["id"]]
            if "error" in item:
                raise AnvilError(f"{request['method']}: {item['error']}")
            out.append(item["result"])
        return out

    # --- conveniences ---------------------------------------------------------------------

    def block_number(self) -> int:
        """The head's number."""
        return int(self.rpc("eth_blockNumber"), 16)

    def accounts(self) -> list[str]:
        """The unlocked dev accounts."""
        accounts: list[str] = self.rpc("eth_accounts")
        return accounts

    def receipt(self, tx_hash: str, timeout: float = 10.0) -> dict[str, Any]:
        """``tx_hash``'s receipt, waiting for it: automine mines asynchronously, so a
        transaction's block may not exist yet when ``eth_sendTransaction`` returns."""
        deadline = time.monotonic() + timeout
        while (receipt := self.rpc("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise AnvilError(f"{tx_hash} not mined within {timeout} s")
            time.sleep(0.01)
        found: dict[str, Any] = receipt
        return found

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks (with whatever transactions are pending)."""
        self.rpc("anvil_mine", hex(blocks))

    def set_automine(self, enabled: bool) -> None:
        """Mine a block per transaction (anvil's default) or only on :meth:`mine`."""
        self.rpc("evm_setAutomine", enabled)

    def snapshot(self) -> str:
        """Snapshot the chain state; :meth:`revert` goes back to it."""
        snapshot_id: str = self.rpc("evm_snapshot")
        return snapshot_id

    def revert(self, snapshot_id: str) -> None:
        """Go back to a snapshot (blocks after it disappear)."""
        if not self.rpc("evm_revert", snapshot_id):
            raise AnvilError(f"evm_revert({snapshot_id}) failed")

    def reorg(
        self, depth: int, transactions: list[tuple[dict[str, Any], int]] | None = None
    ) -> None:
        """``anvil_reorg``: replace the last ``depth`` blocks; ``transactions`` are
        ``(tx, block offset)`` pairs placed in the new blocks."""
        pairs = [[tx, offset] for tx, offset in transactions or []]
        self.rpc("anvil_reorg", depth, pairs)
