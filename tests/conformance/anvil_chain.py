"""A chain of a few thousand blocks on anvil with varied, colliding logs.

Three Emitter contracts; a block holds 1 to 4 transactions (a third of the blocks are
empty): raw logs whose 0 to 4 topics come from a small pool (so that filters on them match
across many blocks), batches of logs from a few seeds, ENS-style registrations. A block's
transactions go to the node in one batch request before it is mined; runs of empty blocks
are mined in one call.
"""

from __future__ import annotations

import random
from typing import Any

from bloombits.keccak import keccak256
from tests.anvil import Anvil
from tests.emitter import Emitter

TOPIC_POOL = [keccak256(b"topic %d" % i) for i in range(12)]
"""The topics raw logs draw from."""
SEEDS = [keccak256(b"seed %d" % i) for i in range(4)]
"""The seeds of ``emitMany`` batches (their topics repeat across blocks)."""


def _calldata(rng: random.Random, emitter: Emitter, owner: str) -> bytes:
    kind = rng.random()
    if kind < 0.7:
        topics = [rng.choice(TOPIC_POOL) for _ in range(rng.randrange(5))]
        return emitter.emit_log_data(topics, rng.randbytes(rng.choice([0, 32, 64])))
    if kind < 0.9:
        return emitter.emit_many_data(rng.randrange(1, 8), rng.choice(SEEDS))
    name = "".join(rng.choice("abcdef") for _ in range(5))
    return emitter.register_data(name, owner, rng.randrange(10**6), 0, 2**33)


def build(anvil: Anvil, blocks: int, seed: int) -> list[Emitter]:
    """Deploy three emitters, then mine ``blocks`` blocks; returns the emitters."""
    rng = random.Random(seed)
    anvil.set_automine(True)
    emitters = [Emitter(anvil) for _ in range(3)]
    anvil.set_automine(False)
    owner = anvil.accounts()[3]
    target = anvil.block_number() + blocks
    while (left := target - anvil.block_number()) > 0:
        if rng.random() < 0.33:
            anvil.mine(min(rng.randrange(1, 6), left))
            continue
        calls: list[tuple[str, list[Any]]] = []
        for _ in range(rng.randrange(1, 5)):
            emitter = rng.choices(emitters, weights=[5, 3, 1])[0]
            calls.append(("eth_sendTransaction", [emitter.tx(_calldata(rng, emitter, owner))]))
        anvil.rpc_batch(calls)
        anvil.mine()
    return emitters
