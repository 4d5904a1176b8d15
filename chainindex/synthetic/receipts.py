"""``eth_getBlockReceipts`` of a synthetic block, as geth writes it.

Receipt keys sorted, log keys in geth's order (``address, topics, data, blockNumber,
transactionHash, transactionIndex, blockHash, blockTimestamp, logIndex, removed``), minimal hex
quantities, lowercase hex data; ``logIndex`` counts across the block.
"""

from __future__ import annotations

from typing import Any

from chainindex.synthetic.payload import Payload
from chainindex.synthetic.plan import BatchPlan

__all__ = ["block_receipts"]

_HEX: list[str] = [hex(i) for i in range(1024)]


def _hex_table(size: int) -> list[str]:
    """``hex(i)`` for i < size, kept between calls."""
    if size > len(_HEX):
        _HEX.extend(hex(i) for i in range(len(_HEX), size))
    return _HEX


def block_receipts(
    plan: BatchPlan,
    payload: Payload,
    index: int,
    block_hash: str,
    number: str,
    timestamp: str,
    tx_hashes: list[str],
) -> list[dict[str, Any]]:
    """``eth_getBlockReceipts`` of block ``index`` of the batch."""
    receipts: list[dict[str, Any]] = []
    tx_first = int(plan.tx_start[index])
    log = int(plan.log_start[index])
    hexes = _hex_table(max(len(tx_hashes), int(plan.log_start[index + 1]) - log) + 1)
    gas_end, tx_logs = payload.tx_gas_end, payload.tx_logs
    gas_base = gas_end[tx_first]
    addresses, topics, data = payload.addresses, payload.topics, payload.data
    log_index = 0
    for offset, tx_hash in enumerate(tx_hashes):
        tx = tx_first + offset
        tx_index = hexes[offset]
        count = tx_logs[tx]
        end = log + count
        logs = (
            []
            if not count
            else [
                {
                    "address": address,
                    "topics": topic,
                    "data": datum,
                    "blockNumber": number,
                    "transactionHash": tx_hash,
                    "transactionIndex": tx_index,
                    "blockHash": block_hash,
                    "blockTimestamp": timestamp,
                    "logIndex": position,
                    "removed": False,
                }
                for address, topic, datum, position in zip(
                    addresses[log:end],
                    topics[log:end],
                    data[log:end],
                    hexes[log_index : log_index + count],
                    strict=True,
                )
            ]
        )
        log = end
        log_index += count
        receipts.append(
            {
                "blockHash": block_hash,
                "blockNumber": number,
                "contractAddress": None,
                "cumulativeGasUsed": hex(gas_end[tx + 1] - gas_base),
                "effectiveGasPrice": payload.tx_price[tx],
                "from": payload.tx_from[tx],
                "gasUsed": hex(gas_end[tx + 1] - gas_end[tx]),
                "logs": logs,
                "logsBloom": payload.tx_bloom[tx],
                "status": payload.tx_status[tx],
                "to": payload.tx_to[tx],
                "transactionHash": tx_hash,
                "transactionIndex": tx_index,
                "type": payload.tx_type[tx],
            }
        )
    return receipts
