"""The suite's chain reproduced on anvil, log for log.

anvil cannot import synthetic blocks (their hashes, state and transactions are made up), so
its chain is rebuilt with the same logs: the Emitter test contract's runtime code is put at
every synthetic contract address (``anvil_setCode``), and each synthetic log becomes one
``emitLog(topics, data)`` transaction to its contract, in the block's log order, one anvil
block mined per synthetic block. Synthetic block 0 and anvil's genesis both hold nothing, so
block numbers and log indexes are the same on both chains; block and transaction hashes
differ, so answers are compared by (block number, log index, address, topics, data).
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from tests.anvil import Anvil
from tests.emitter import ARTIFACT, Emitter

TX_GAS = hex(300_000)
BLOCK_GAS = "1000000000"
"""anvil's block gas limit: every synthetic block's transactions fit one anvil block."""


def start_anvil() -> Anvil:
    return Anvil("--gas-limit", BLOCK_GAS, "--order", "fifo").start()


def load_chain(anvil: Anvil, archive: Path, blocks: int) -> tuple[float, int]:
    """Reproduce blocks ``1 .. blocks - 1`` of ``archive`` on ``anvil`` (at genesis);
    (seconds, logs) of the load."""
    started = time.perf_counter()
    creation = orjson.loads(ARTIFACT.read_bytes())["bytecode"]
    runtime = anvil.rpc("eth_call", {"data": creation, "gas": hex(5_000_000)}, "latest")
    sender = anvil.accounts()[0]
    anvil.set_automine(False)
    coded: set[str] = set()
    total = 0
    with archive.open("rb") as f:
        next(f)  # genesis: nothing to reproduce
        for _ in range(1, blocks):
            record = orjson.loads(next(f))
            logs = [log for r in record["receipts"] for log in r["logs"]]
            new = sorted({log["address"] for log in logs} - coded)
            if new:
                anvil.rpc_batch([("anvil_setCode", [a, runtime]) for a in new])
                coded.update(new)
            if logs:
                calls = []
                for log in logs:
                    data = Emitter.emit_log_data(
                        [bytes.fromhex(t[2:]) for t in log["topics"]],
                        bytes.fromhex(log["data"][2:]),
                    )
                    tx = {"from": sender, "to": log["address"], "data": "0x" + data.hex(),
                          "gas": TX_GAS}  # fmt: skip
                    calls.append(("eth_sendTransaction", [tx]))
                anvil.rpc_batch(calls)
                total += len(logs)
            anvil.mine()
    head = anvil.block_number()
    if head != blocks - 1:
        raise RuntimeError(f"anvil holds blocks 0..{head}, expected 0..{blocks - 1}")
    return time.perf_counter() - started, total
