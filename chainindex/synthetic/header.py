"""Block headers of the synthetic chain: post-merge (Paris) headers whose hash is real.

A block's ``hash`` is keccak256 of the RLP of its header, exactly as for a mainnet Paris block,
so anyone can recompute it from the JSON fields. ``receiptsRoot`` is the real trie root of the
receipts (:func:`chainindex.synthetic.receipts.receipts_root`); ``stateRoot``,
``transactionsRoot`` and ``mixHash`` are not computed from tries or a beacon chain: they are
keccak256 of documented preimages (see :mod:`chainindex.synthetic`), except that a block
without transactions has the real empty-trie root as ``transactionsRoot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bloombits.keccak import keccak256
from chainindex.trie import rlp

__all__ = [
    "EMPTY_TRIE_ROOT",
    "EMPTY_UNCLES_HASH",
    "EXTRA_DATA",
    "HeaderFields",
    "derived_hash",
    "transaction_hashes",
]

EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
"""Root of an empty Merkle-Patricia trie (keccak256 of the RLP of the empty string)."""

EMPTY_UNCLES_HASH = bytes.fromhex(
    "1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
)
"""``sha3Uncles`` of a block without uncles (keccak256 of the RLP of the empty list)."""

EXTRA_DATA = b"logfilter synthetic"
"""``extraData`` of every synthetic block: says where the chain came from."""

_ZERO_NONCE = b"\x00" * 8


def derived_hash(key: bytes, label: bytes, number: int, index: int | None = None) -> bytes:
    """keccak256(key ‖ label ‖ number as 8 bytes BE [‖ index as 4 bytes BE]).

    The documented preimage of every synthetic root, ``mixHash``, transaction hash and the
    parent hash of a chain that does not start at genesis.
    """
    preimage = key + label + number.to_bytes(8, "big")
    if index is not None:
        preimage += index.to_bytes(4, "big")
    return keccak256(preimage)


def transaction_hashes(key: bytes, number: int, count: int) -> list[str]:
    """Hex hashes of the ``count`` transactions of block ``number``: ``derived_hash(key,
    b"tx", number, i)`` for i = 0..count-1, without a call per transaction."""
    prefix = key + b"tx" + number.to_bytes(8, "big")
    return ["0x" + keccak256(prefix + i.to_bytes(4, "big")).hex() for i in range(count)]


@dataclass(slots=True)
class HeaderFields:
    """The fields of a Paris header (difficulty 0, nonce 0, no uncles)."""

    parent_hash: bytes
    """Hash of the previous block."""
    miner: bytes
    """20-byte fee recipient."""
    state_root: bytes
    """Synthetic state root."""
    transactions_root: bytes
    """Synthetic transactions root (the empty-trie root when there are none)."""
    receipts_root: bytes
    """The trie root of the block's receipts."""
    logs_bloom: bytes
    """256-byte OR of the blooms of the block's logs."""
    number: int
    """Height."""
    gas_limit: int
    """Gas limit."""
    gas_used: int
    """Sum of the transactions' gas."""
    timestamp: int
    """Unix seconds."""
    mix_hash: bytes
    """Synthetic ``prevRandao``."""
    base_fee: int
    """EIP-1559 base fee per gas, wei."""

    def rlp(self) -> bytes:
        """The header's RLP: the 16 fields of a Paris header, in consensus order."""
        return rlp(
            [
                self.parent_hash,
                EMPTY_UNCLES_HASH,
                self.miner,
                self.state_root,
                self.transactions_root,
                self.receipts_root,
                self.logs_bloom,
                0,  # difficulty
                self.number,
                self.gas_limit,
                self.gas_used,
                self.timestamp,
                EXTRA_DATA,
                self.mix_hash,
                _ZERO_NONCE,
                self.base_fee,
            ]
        )

    def json(self, block_hash: bytes, size: int, transactions: list[str]) -> dict[str, Any]:
        """``eth_getBlockByNumber(n, false)`` as geth writes it: keys sorted, minimal hex."""
        return {
            "baseFeePerGas": hex(self.base_fee),
            "difficulty": "0x0",
            "extraData": "0x" + EXTRA_DATA.hex(),
            "gasLimit": hex(self.gas_limit),
            "gasUsed": hex(self.gas_used),
            "hash": "0x" + block_hash.hex(),
            "logsBloom": "0x" + self.logs_bloom.hex(),
            "miner": "0x" + self.miner.hex(),
            "mixHash": "0x" + self.mix_hash.hex(),
            "nonce": "0x" + _ZERO_NONCE.hex(),
            "number": hex(self.number),
            "parentHash": "0x" + self.parent_hash.hex(),
            "receiptsRoot": "0x" + self.receipts_root.hex(),
            "sha3Uncles": "0x" + EMPTY_UNCLES_HASH.hex(),
            "size": hex(size),
            "stateRoot": "0x" + self.state_root.hex(),
            "timestamp": hex(self.timestamp),
            "transactions": transactions,
            "transactionsRoot": "0x" + self.transactions_root.hex(),
            "uncles": [],
        }
