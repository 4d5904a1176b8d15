"""Reference consensus hashes of JSON blocks and receipts, for the verification tests.

Written from the JSON alone with the independent ``rlp`` and ``trie`` (py-trie's
``HexaryTrie``) packages, nothing of :mod:`chainindex`: the header hash as keccak256 of the
RLP header (go-ethereum ``core/types/block.go``), the receipts root as the trie of the
consensus receipts keyed by ``rlp(index)`` (``core/types/receipt.go``, ``DeriveSha``).
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie

from chainindex.header_extra import RLP_ORDER
from tests.fixtures import hexbytes

QUANTITIES = {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas",
              "blobGasUsed", "excessBlobGas"}  # fmt: skip


def reference_header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP of the header fields ``block`` gives, in consensus order (the ``rlp`` package)."""
    items = [
        int(block[name], 16) if name in QUANTITIES else hexbytes(block[name])
        for name in RLP_ORDER
        if name in block
    ]
    return bytes(rlp.encode(items))


def reference_header_hash(block: dict[str, Any]) -> bytes:
    """keccak256 of :func:`reference_header_rlp`."""
    return bytes(keccak(reference_header_rlp(block)))


def reference_receipt(receipt: dict[str, Any]) -> bytes:
    """The consensus encoding of a JSON-RPC receipt."""
    outcome = (
        (b"\x01" if int(receipt["status"], 16) else b"")
        if receipt.get("status") is not None
        else hexbytes(receipt["root"])
    )
    logs = [
        [hexbytes(log["address"]), [hexbytes(t) for t in log["topics"]], hexbytes(log["data"])]
        for log in receipt["logs"]
    ]
    body = bytes(
        rlp.encode(
            [outcome, int(receipt["cumulativeGasUsed"], 16), hexbytes(receipt["logsBloom"]), logs]
        )
    )
    kind = int(receipt.get("type", "0x0"), 16)
    return body if kind == 0 else bytes((kind,)) + body


def reference_receipts_root(receipts: list[dict[str, Any]]) -> bytes:
    """The root of the trie mapping ``rlp(i)`` to the ``i``-th receipt's encoding."""
    trie = HexaryTrie({})
    for index, receipt in enumerate(receipts):
        trie[rlp.encode(index)] = reference_receipt(receipt)
    return bytes(trie.root_hash)
