"""Chains built on a test anvil, and what the node says about them.

:func:`build_chain` mines blocks holding a random mix of transactions: raw logs with 0 to 4
topics and data of various sizes, batches of logs, ENS-style registrations, plain transfers
(no logs) and empty blocks. :func:`node_records` reads back what the node returns for a range
of blocks, in the chain-archive shape, to compare the store against.
"""

from __future__ import annotations

import random
from typing import Any

from tests.anvil import Anvil
from tests.emitter import Emitter


def random_calldata(rng: random.Random, emitter: Emitter, owner: str) -> bytes:
    """Calldata of one random Emitter call."""
    kind = rng.random()
    if kind < 0.5:
        topics = [rng.randbytes(32) for _ in range(rng.randrange(5))]
        return emitter.emit_log_data(topics, rng.randbytes(rng.choice([0, 1, 31, 32, 100, 700])))
    if kind < 0.8:
        return emitter.emit_many_data(rng.randrange(1, 30), rng.randbytes(32))
    name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    return emitter.register_data(name, owner, rng.randrange(10**18), 0, rng.randrange(2**40))


def build_chain(
    anvil: Anvil, blocks: int, seed: int, emitters: list[Emitter] | None = None
) -> list[Emitter]:
    """Mine ``blocks`` blocks of random transactions (deploying two Emitters first if none
    are given); returns the emitters. Leaves automine off."""
    rng = random.Random(seed)
    if emitters is None:
        anvil.set_automine(True)
        emitters = [Emitter(anvil), Emitter(anvil)]
    accounts = anvil.accounts()
    anvil.set_automine(False)
    for _ in range(blocks):
        for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
            if rng.random() < 0.1:
                anvil.rpc(
                    "eth_sendTransaction",
                    {"from": accounts[1], "to": accounts[2], "value": hex(rng.randrange(1, 10**9))},
                )
                continue
            emitter = rng.choice(emitters)
            emitter.anvil.rpc(
                "eth_sendTransaction", emitter.tx(random_calldata(rng, emitter, accounts[3]))
            )
        anvil.mine()
    return emitters


def node_records(anvil: Anvil, first: int, last: int) -> list[dict[str, Any]]:
    """What the node returns for blocks ``first..last``: ``{"block", "receipts"}`` each."""
    out = []
    for start in range(first, last + 1, 50):
        numbers = range(start, min(last, start + 49) + 1)
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(n), False]) for n in numbers
        ]
        calls += [("eth_getBlockReceipts", [hex(n)]) for n in numbers]
        results = anvil.rpc_batch(calls)
        half = len(numbers)
        out += [
            {"block": b, "receipts": r} for b, r in zip(results[:half], results[half:], strict=True)
        ]
    return out
