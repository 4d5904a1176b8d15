"""What a ``newHeads`` notification of go-ethereum holds, for comparing ours with a node's."""

from __future__ import annotations

from typing import Any

__all__ = ["GETH_HEADER_ORDER", "header_fields"]

GETH_HEADER_ORDER = [
    "parentHash",
    "sha3Uncles",
    "miner",
    "stateRoot",
    "transactionsRoot",
    "receiptsRoot",
    "logsBloom",
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "extraData",
    "mixHash",
    "nonce",
    "baseFeePerGas",
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
    "hash",
]
"""go-ethereum's JSON header (``core/types/gen_header_json.go``), what its newHeads sends."""


def header_fields(block: dict[str, Any]) -> dict[str, Any]:
    """A block of ``eth_getBlockByNumber`` without what geth's header JSON does not carry
    (``transactions``, ``uncles``, ``withdrawals``, ``size``, ``totalDifficulty``)."""
    body = {"transactions", "uncles", "withdrawals", "size", "totalDifficulty"}
    return {k: v for k, v in block.items() if k not in body}
