"""An era1 block tuple (header, body, receipts RLP) to the wire shape the checks take.

The decoded fields are spelled as a node's JSON-RPC answer (an
:class:`~chainindex.source.wire.ArchiveRecord`) so that an era1 block goes through exactly
the checks of :mod:`chainindex.source.parse` and :mod:`chainindex.source.verify` that a
node's answer gets: the header is re-encoded and its keccak256 compared with the hash of
the raw header, the receipts are re-encoded and their trie root compared with
``receiptsRoot``, the blooms rebuilt from the logs.

Shapes, as go-ethereum's ``core/types`` encodes them:

* header: the RLP list of the fields of :data:`~chainindex.header_extra.RLP_ORDER`;
* body: ``[transactions, uncles]`` (``withdrawals`` after it is accepted and ignored); a
  legacy transaction is an RLP list (hash: keccak256 of its encoding), a typed one
  (EIP-2718) an RLP string ``type ‖ payload`` (hash: keccak256 of the string's content);
* receipts: the list of consensus receipts (``Receipt.EncodeRLP``: ``[status or post-state,
  cumulativeGasUsed, logsBloom, logs]``, typed ones as a string ``type ‖ that list``), which
  is what go-ethereum's era1 ``Builder`` writes and the era1 spec names. The storage shape
  without the bloom (``[status or post-state, cumulativeGasUsed, logs]``, the receipt type
  then taken from the transaction) is accepted as well, since some tools wrote it.

What differs from go-ethereum: no typed structs; a malformed tuple is an
:class:`~chainindex.errors.RlpDecodingError` / :class:`~chainindex.errors.InvalidBlockError`
naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from bloombits.keccak import keccak256
from chainindex.errors import InvalidBlockError, RlpDecodingError
from chainindex.header_extra import RLP_ORDER
from chainindex.source.era1.rlpdecode import RlpValue, decode, decode_int, split_list
from chainindex.source.wire import ArchiveRecord
from chainindex.trie import encode_bytes, encode_list

__all__ = ["decode_block", "encode_receipts", "split_body"]

_INT_FIELDS: Final = frozenset(
    {"difficulty", "number", "gasLimit", "gasUsed", "timestamp", "baseFeePerGas",
     "blobGasUsed", "excessBlobGas"}
)  # fmt: skip


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes(value: RlpValue, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, bytes):
        raise RlpDecodingError(f"RLP: {what} is a list, not a byte string")
    if size is not None and len(value) != size:
        raise RlpDecodingError(f"RLP: {what} is {len(value)} bytes, not {size}")
    return value


def _list(value: RlpValue, what: str) -> list[RlpValue]:
    if not isinstance(value, list):
        raise RlpDecodingError(f"RLP: {what} is a byte string, not a list")
    return value


def decode_header(header_rlp: bytes) -> dict[str, Any]:
    """The header as a node's ``eth_getBlockByNumber`` fields (``hash`` = keccak256 of the
    bytes given)."""
    fields = _list(decode(header_rlp), "the header")
    if not 15 <= len(fields) <= len(RLP_ORDER):
        raise RlpDecodingError(f"RLP: a header of {len(fields)} fields")
    out: dict[str, Any] = {}
    for name, value in zip(RLP_ORDER, fields, strict=False):
        if name in _INT_FIELDS:
            out[name] = hex(decode_int(value, name))
        else:
            out[name] = _hex(_bytes(value, name))
    out["hash"] = _hex(keccak256(header_rlp))
    return out


def split_body(body_rlp: bytes) -> tuple[list[tuple[int, bytes]], list[bytes]]:
    """``([(type, hash) of each transaction], [hash of each uncle])`` of a block body."""
    parts = split_list(body_rlp)
    if len(parts) not in (2, 3):
        raise RlpDecodingError(f"RLP: a block body of {len(parts)} parts")
    txs = []
    for raw in split_list(parts[0]):
        if raw[0] >= 0xC0:  # legacy: the list itself
            txs.append((0, keccak256(raw)))
        else:  # typed: a string holding type ‖ payload
            envelope = _bytes(decode(raw), "a typed transaction")
            if not envelope or envelope[0] > 0x7F:
                raise RlpDecodingError("RLP: a typed transaction without a valid type byte")
            txs.append((envelope[0], keccak256(envelope)))
    uncles = [keccak256(raw) for raw in split_list(parts[1])]
    return txs, uncles


def _receipt_fields(raw: bytes, tx_type: int) -> tuple[int, list[RlpValue]]:
    """``(type, fields)`` of one receipt of the receipts list."""
    if raw[0] >= 0xC0:
        fields = _list(decode(raw), "a receipt")
        return (0 if len(fields) == 4 else tx_type), fields
    envelope = _bytes(decode(raw), "a typed receipt")
    if not envelope or envelope[0] > 0x7F:
        raise RlpDecodingError("RLP: a typed receipt without a valid type byte")
    return envelope[0], _list(decode(envelope[1:]), "a typed receipt")


def _receipt(
    raw: bytes, tx: tuple[int, bytes], index: int, number: int, block_hash: str
) -> dict[str, Any]:
    kind, fields = _receipt_fields(raw, tx[0])
    if len(fields) not in (3, 4):
        raise RlpDecodingError(f"RLP: receipt {index} has {len(fields)} fields")
    tx_hash = _hex(tx[1])
    receipt: dict[str, Any] = {
        "blockHash": block_hash,
        "blockNumber": hex(number),
        "cumulativeGasUsed": hex(decode_int(fields[1], "cumulativeGasUsed")),
        "transactionHash": tx_hash,
        "transactionIndex": hex(index),
        "type": hex(kind),
    }
    outcome = _bytes(fields[0], "a receipt's status")
    if len(outcome) == 32:
        receipt["root"] = _hex(outcome)
    elif outcome in (b"", b"\x01"):
        receipt["status"] = hex(len(outcome))
    else:
        raise RlpDecodingError(
            f"RLP: receipt {index}: status {outcome.hex()} is not 0, 1 or a root"
        )
    if len(fields) == 4:
        receipt["logsBloom"] = _hex(_bytes(fields[2], "logsBloom", 256))
    logs = []
    for entry in _list(fields[-1], "a receipt's logs"):
        parts = _list(entry, "a log")
        if len(parts) != 3:
            raise RlpDecodingError(f"RLP: a log of {len(parts)} fields")
        topics = _list(parts[1], "a log's topics")
        logs.append(
            {
                "address": _hex(_bytes(parts[0], "a log's address", 20)),
                "topics": [_hex(_bytes(t, "a topic", 32)) for t in topics],
                "data": _hex(_bytes(parts[2], "a log's data")),
                "blockNumber": hex(number),
                "transactionHash": tx_hash,
                "transactionIndex": hex(index),
                "blockHash": block_hash,
                "logIndex": "",  # set below, once the block's count is known
                "removed": False,
            }
        )
    receipt["logs"] = logs
    return receipt


def decode_block(header_rlp: bytes, body_rlp: bytes, receipts_rlp: bytes | None) -> ArchiveRecord:
    """The chain-archive record of one era1 block tuple (``receipts_rlp`` None: headers
    only). RlpDecodingError when a part is not the RLP it should be; the block's own checks
    are :func:`chainindex.source.parse.parse_block`'s."""
    block = decode_header(header_rlp)
    txs, uncles = split_body(body_rlp)
    block["transactions"] = [_hex(tx_hash) for _, tx_hash in txs]
    block["uncles"] = [_hex(h) for h in uncles]
    record: dict[str, Any] = {"block": block}
    if receipts_rlp is not None:
        number = int(block["number"], 16)
        raws = split_list(receipts_rlp)
        if len(raws) != len(txs):
            raise InvalidBlockError(number, f"{len(raws)} receipts for {len(txs)} transactions")
        receipts = [
            _receipt(raw, tx, i, number, block["hash"])
            for i, (raw, tx) in enumerate(zip(raws, txs, strict=True))
        ]
        log_index = 0
        for receipt in receipts:
            for log in receipt["logs"]:
                log["logIndex"] = hex(log_index)
                log_index += 1
        record["receipts"] = receipts
    return record  # type: ignore[return-value]


def encode_receipts(receipts: Sequence[bytes]) -> bytes:
    """The receipts list of an era1 tuple from each receipt's consensus encoding (as
    :func:`chainindex.source.verify.encode_receipt` gives it): typed ones wrapped as
    strings, legacy ones as they are (go-ethereum's ``rlp.EncodeToBytes(types.Receipts)``)."""
    return encode_list(b"".join(r if r[0] >= 0xC0 else encode_bytes(r) for r in receipts))
