"""``eth_getBlockReceipts`` of a synthetic block, as geth writes it.

Receipt keys sorted, log keys in geth's order (``address, topics, data, blockNumber,
transactionHash, transactionIndex, blockHash, blockTimestamp, logIndex, removed``), minimal hex
quantities, lowercase hex data; ``logIndex`` counts across the block. :func:`receipts_root` is
their real ``receiptsRoot`` (go-ethereum's ``DeriveSha`` of the consensus receipts, through
:func:`chainindex.trie.ordered_trie_root`).
"""

from __future__ import annotations

from typing import Any

from chainindex.synthetic.payload import Payload, pick
from chainindex.trie import encode_bytes, encode_int, encode_list, ordered_trie_root

__all__ = ["block_receipts", "receipts_root"]

_HEX: list[str] = [hex(i) for i in range(1024)]


def _hex_table(size: int) -> list[str]:
    """``hex(i)`` for i < size, kept between calls."""
    if size > len(_HEX):
        _HEX.extend(hex(i) for i in range(len(_HEX), size))
    return _HEX


def block_receipts(
    payload: Payload,
    index: int,
    block_hash: str,
    number: str,
    timestamp: str,
    tx_hashes: list[str],
) -> list[dict[str, Any]]:
    """``eth_getBlockReceipts`` of block ``index`` of the batch."""
    t0, t1 = payload.tx_start[index], payload.tx_start[index + 1]
    l0, l1 = payload.log_start[index], payload.log_start[index + 1]
    hexes = _hex_table(max(t1 - t0, l1 - l0) + 1)
    in_block = payload.log_tx[l0:l1]
    logs = [
        {
            "address": address,
            "topics": topics,
            "data": data,
            "blockNumber": number,
            "transactionHash": tx_hash,
            "transactionIndex": tx_index,
            "blockHash": block_hash,
            "blockTimestamp": timestamp,
            "logIndex": log_index,
            "removed": False,
        }
        for address, topics, data, tx_hash, tx_index, log_index in zip(
            payload.addresses[l0:l1],
            payload.topics[l0:l1],
            payload.data[l0:l1],
            pick(tx_hashes, in_block),
            pick(hexes, in_block),
            hexes[: l1 - l0],
            strict=True,
        )
    ]
    ends = payload.tx_log_end[t0:t1]
    return [
        {
            "blockHash": block_hash,
            "blockNumber": number,
            "contractAddress": None,
            "cumulativeGasUsed": cumulative,
            "effectiveGasPrice": price,
            "from": sender,
            "gasUsed": gas,
            "logs": logs[start:end],
            "logsBloom": bloom,
            "status": status,
            "to": recipient,
            "transactionHash": tx_hash,
            "transactionIndex": tx_index,
            "type": kind,
        }
        for (
            tx_hash,
            tx_index,
            cumulative,
            gas,
            price,
            sender,
            recipient,
            status,
            kind,
            bloom,
            start,
            end,
        ) in zip(
            tx_hashes,
            hexes[: t1 - t0],
            payload.tx_cumulative[t0:t1],
            payload.tx_gas[t0:t1],
            payload.tx_price[t0:t1],
            payload.tx_from[t0:t1],
            payload.tx_to[t0:t1],
            payload.tx_status[t0:t1],
            payload.tx_type[t0:t1],
            payload.tx_bloom[t0:t1],
            [0, *ends][: len(ends)],
            ends,
            strict=True,
        )
    ]


def receipts_root(payload: Payload, index: int) -> bytes:
    """The trie root of block ``index``'s receipts in their consensus encoding (EIP-2718:
    a typed receipt is its type byte and the RLP list ``[status, cumulativeGasUsed,
    logsBloom, logs]``, a legacy one that list alone)."""
    t0, t1 = payload.tx_start[index], payload.tx_start[index + 1]
    l0 = payload.log_start[index]
    logs = [
        encode_list(
            b"\x94"
            + bytes.fromhex(address[2:])
            + encode_list(b"".join(b"\xa0" + bytes.fromhex(t[2:]) for t in topics))
            + encode_bytes(bytes.fromhex(data[2:]))
        )
        for address, topics, data in zip(
            payload.addresses[l0 : payload.log_start[index + 1]],
            payload.topics[l0 : payload.log_start[index + 1]],
            payload.data[l0 : payload.log_start[index + 1]],
            strict=True,
        )
    ]
    encoded = []
    start = 0
    for tx in range(t0, t1):
        end = payload.tx_log_end[tx]
        body = encode_list(
            (b"\x01" if payload.tx_status[tx] == "0x1" else b"\x80")
            + encode_int(int(payload.tx_cumulative[tx], 16))
            + b"\xb9\x01\x00"
            + bytes.fromhex(payload.tx_bloom[tx][2:])
            + encode_list(b"".join(logs[start:end]))
        )
        kind = int(payload.tx_type[tx], 16)
        encoded.append(body if kind == 0 else bytes((kind,)) + body)
        start = end
    return ordered_trie_root(encoded)
