"""Living next to web3.py: logs in web3's shape and back, filter params in web3's shape.

:func:`to_web3_log` gives exactly what ``w3.eth.get_logs`` returns for the same log (an
``AttributeDict`` with a checksum ``address``, ``HexBytes`` topics, data and hashes, int
positions, and ``blockTimestamp`` left as the hex string web3 leaves it), so code written
for web3's log entries — ``contract.events.Transfer().process_log(entry)`` included — takes
the client's results unchanged. :func:`from_web3_log` goes the other way. web3's
``FilterParams`` dicts are accepted as criteria by every client method directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_typing import Address, BlockNumber, Hash32
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.datastructures import AttributeDict

from rpc.client.errors import InvalidArgumentError
from rpc.client.types import Log

__all__ = ["from_web3_log", "to_web3_log"]


def to_web3_log(log: Log) -> AttributeDict[str, Any]:
    """``log`` as web3.py's ``LogReceipt`` (what ``w3.eth.get_logs`` returns)."""
    entry: dict[str, Any] = {
        "address": to_checksum_address(log.address),
        "topics": [HexBytes(t) for t in log.topics],
        "data": HexBytes(log.data),
        "blockHash": HexBytes(log.block_hash),
        "blockNumber": log.block_number,
    }
    if log.block_timestamp is not None:
        entry["blockTimestamp"] = hex(log.block_timestamp)
    entry |= {
        "transactionHash": HexBytes(log.transaction_hash),
        "transactionIndex": log.transaction_index,
        "logIndex": log.log_index,
        "removed": log.removed,
    }
    return AttributeDict(entry)


def _bytes(value: Any, size: int | None, what: str) -> bytes:
    if isinstance(value, str):
        raw = bytes(HexBytes(value))
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        raise InvalidArgumentError(f"{what}: expected bytes or hex, got {value!r}")
    if size is not None and len(raw) != size:
        raise InvalidArgumentError(f"{what}: expected {size} bytes, got {len(raw)}")
    return raw


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    raise InvalidArgumentError(f"{what}: expected an int, got {value!r}")


def from_web3_log(entry: Mapping[str, Any]) -> Log:
    """A web3.py log entry (``AttributeDict`` or plain dict) as the client's :class:`Log`."""
    try:
        timestamp = entry.get("blockTimestamp")
        return Log(
            address=Address(_bytes(entry["address"], 20, "address")),
            topics=tuple(Hash32(_bytes(t, 32, "topic")) for t in entry["topics"]),
            data=_bytes(entry["data"], None, "data"),
            block_number=BlockNumber(_int(entry["blockNumber"], "blockNumber")),
            block_hash=Hash32(_bytes(entry["blockHash"], 32, "blockHash")),
            block_timestamp=None if timestamp is None else _int(timestamp, "blockTimestamp"),
            transaction_hash=Hash32(_bytes(entry["transactionHash"], 32, "transactionHash")),
            transaction_index=_int(entry["transactionIndex"], "transactionIndex"),
            log_index=_int(entry["logIndex"], "logIndex"),
            removed=bool(entry.get("removed", False)),
        )
    except KeyError as err:
        raise InvalidArgumentError(f"web3 log entry without {err.args[0]!r}") from None
    except ValueError as err:
        raise InvalidArgumentError(f"malformed web3 log entry: {err}") from None
