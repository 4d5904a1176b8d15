"""The Emitter test contract (``tests/contracts/Emitter.sol``) deployed on a test anvil.

The compiled artifact ``tests/contracts/Emitter.json`` is committed (``node
tests/contracts/build.js`` regenerates it with the pinned npm ``solc``; a test checks that it
matches the source). Calls are encoded with eth-abi and sent with ``eth_sendTransaction``
from anvil's unlocked dev accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from eth_abi.abi import encode

from bloombits.keccak import keccak256
from tests.anvil import Anvil

__all__ = ["ARTIFACT", "NAME_REGISTERED_TOPIC", "Emitter"]

ARTIFACT = Path(__file__).parent / "contracts" / "Emitter.json"
"""The committed compiler output (ABI, bytecode, compiler version and settings)."""

NAME_REGISTERED_TOPIC = keccak256(b"NameRegistered(string,bytes32,address,uint256,uint256,uint256)")
"""topic0 of the ENS-style NameRegistered event."""

_GAS = hex(2_000_000)


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


class Emitter:
    """A deployed Emitter; each method sends one transaction and returns its hash."""

    def __init__(self, anvil: Anvil, sender: str | None = None) -> None:
        """Deploy a new Emitter (mined at once if anvil automines)."""
        self.anvil = anvil
        """The node it lives on."""
        self.sender = sender or anvil.accounts()[0]
        """Account the transactions come from."""
        artifact = orjson.loads(ARTIFACT.read_bytes())
        tx_hash = anvil.rpc(
            "eth_sendTransaction", {"from": self.sender, "data": artifact["bytecode"], "gas": _GAS}
        )
        if not anvil.rpc("anvil_getAutomine"):
            anvil.mine()
        self.address: str = anvil.receipt(tx_hash)["contractAddress"]
        """The contract's address (lowercase hex)."""

    def tx(self, data: bytes) -> dict[str, Any]:
        """A transaction calling the contract with ``data`` (for ``anvil_reorg``)."""
        return {"from": self.sender, "to": self.address, "data": "0x" + data.hex(), "gas": _GAS}

    def _send(self, data: bytes) -> str:
        tx_hash: str = self.anvil.rpc("eth_sendTransaction", self.tx(data))
        return tx_hash

    @staticmethod
    def emit_log_data(topics: list[bytes], data: bytes) -> bytes:
        """Calldata of ``emitLog(topics, data)``."""
        return _selector("emitLog(bytes32[],bytes)") + encode(
            ["bytes32[]", "bytes"], [topics, data]
        )

    @staticmethod
    def emit_many_data(count: int, seed: bytes) -> bytes:
        """Calldata of ``emitMany(count, seed)``."""
        return _selector("emitMany(uint256,bytes32)") + encode(
            ["uint256", "bytes32"], [count, seed]
        )

    @staticmethod
    def register_data(name: str, owner: str, base_cost: int, premium: int, expires: int) -> bytes:
        """Calldata of ``register(name, owner, baseCost, premium, expires)``."""
        args = [name, owner, base_cost, premium, expires]
        types = ["string", "address", "uint256", "uint256", "uint256"]
        return _selector("register(string,address,uint256,uint256,uint256)") + encode(types, args)

    def emit_log(self, topics: list[bytes], data: bytes) -> str:
        """One log with ``topics`` (0..4) and ``data``."""
        return self._send(self.emit_log_data(topics, data))

    def emit_many(self, count: int, seed: bytes) -> str:
        """``count`` logs (see ``emitMany`` in the source)."""
        return self._send(self.emit_many_data(count, seed))

    def register(self, name: str, owner: str, base_cost: int, premium: int, expires: int) -> str:
        """An ENS-style NameRegistered log."""
        return self._send(self.register_data(name, owner, base_cost, premium, expires))
