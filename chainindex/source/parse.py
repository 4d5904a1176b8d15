"""Wire records to validated :class:`~chainindex.types.Block` objects.

This is where an upstream answer stops being hex strings. Every check a block must pass
before it may be stored happens here, and a failure raises
:class:`~chainindex.errors.InvalidBlockError` naming the block and what was wrong:

* the header has every field the index needs, well-formed, and the number that was asked
  for; the other header fields (:mod:`chainindex.header_extra`) are kept when given, and must
  be well-formed when given;
* there is exactly one receipt per transaction, in order, each naming this block, its
  transaction's hash and index;
* every log names this block (number, hash, timestamp when given), its receipt's transaction,
  has ``removed: false``, and ``logIndex`` runs 0, 1, 2, ... across the block;
* each receipt's ``logsBloom`` is the bloom of its logs, and the block's ``logsBloom`` is the
  bloom of all its logs (the OR of the receipts' blooms);
* with ``verify`` (the default), the consensus checks of :mod:`chainindex.source.verify`: the
  block hash is keccak256 of the header, and ``receiptsRoot`` is the trie root of the receipts;
  when the block holds full transaction objects, ``transactionsRoot`` is their trie root
  (:mod:`chainindex.source.transactions`).

Parent-hash links between consecutive blocks are checked by :func:`check_links`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_typing import Address, BlockNumber, Hash32

from bloombits.bloom import BLOOM_BYTE_LENGTH, bloom_mask
from chainindex.errors import HexError, InvalidBlockError, MissingBlockError
from chainindex.header_extra import EXTRA_FIELDS, MAX_EXTRA_DATA, HeaderExtra
from chainindex.hexutil import decode_data, decode_quantity
from chainindex.source.transactions import check_transactions_root
from chainindex.source.verify import check_header_hash, check_receipts_root, encode_receipt
from chainindex.types import Block, ChainLog, Header

__all__ = [
    "check_links",
    "parse_block",
    "parse_header",
    "parse_header_extra",
    "transaction_hashes",
]


def _field(obj: Mapping[str, Any], name: str, number: int, where: str = "block") -> Any:
    try:
        return obj[name]
    except (KeyError, TypeError):
        raise InvalidBlockError(number, f"{where} has no {name!r} field") from None


def _hash(value: object, what: str, number: int) -> Hash32:
    try:
        return Hash32(decode_data(value, what, size=32))
    except HexError as err:
        raise InvalidBlockError(number, str(err)) from None


def _quantity(value: object, what: str, number: int) -> int:
    try:
        return decode_quantity(value, what)
    except HexError as err:
        raise InvalidBlockError(number, str(err)) from None


def _same_quantity(value: object, expected: int, hex_expected: str) -> bool:
    """Whether ``value`` is the quantity ``expected`` (fast path: the canonical spelling)."""
    if value == hex_expected:
        return True
    try:
        return decode_quantity(value) == expected
    except HexError:
        return False


def _same_hash(value: object, expected_hex: str) -> bool:
    return isinstance(value, str) and value.lower() == expected_hex


def parse_header(
    block: object, expected_number: int | None = None, *, verify: bool = True
) -> Header:
    """The :class:`Header` of an ``eth_getBlockByNumber`` result, checked.

    ``expected_number``, when given, is the block that was asked for; ``verify``: check that
    the hash is keccak256 of the header.
    """
    return _parse_header(block, expected_number, verify)[0]


def _parse_header(
    block: object, expected_number: int | None, verify: bool
) -> tuple[Header, HeaderExtra]:
    number_hint = -1 if expected_number is None else expected_number
    if not isinstance(block, dict):
        if block is None:
            raise MissingBlockError(number_hint)
        raise InvalidBlockError(number_hint, f"expected a block object, got {type(block).__name__}")
    number = _quantity(_field(block, "number", number_hint), "number", number_hint)
    if expected_number is not None and number != expected_number:
        raise InvalidBlockError(expected_number, f"the upstream answered with block {number}")
    bloom_hex = _field(block, "logsBloom", number)
    try:
        bloom = decode_data(bloom_hex, "logsBloom", size=BLOOM_BYTE_LENGTH)
    except HexError as err:
        raise InvalidBlockError(number, str(err)) from None
    extra = parse_header_extra(block, number)
    header = Header(
        BlockNumber(number),
        _hash(_field(block, "hash", number), "hash", number),
        _hash(_field(block, "parentHash", number), "parentHash", number),
        _quantity(_field(block, "timestamp", number), "timestamp", number),
        bloom,
        extra.encode(),
    )
    if verify:
        check_header_hash(header, extra)
    return header, extra


_EXTRA_SIZES: dict[str, int | None] = {"hash": 32, "address": 20, "nonce": 8, "bytes": None}


def parse_header_extra(block: Mapping[str, Any], number: int) -> HeaderExtra:
    """The header fields beyond the index's that ``block`` has (absent or null: not given)."""
    values: dict[str, object] = {}
    try:
        for attr, name, kind in EXTRA_FIELDS:
            value = block.get(name)
            if value is None:
                continue
            if kind == "int":
                values[attr] = decode_quantity(value, name)
            else:
                values[attr] = decode_data(value, name, size=_EXTRA_SIZES[kind])
    except HexError as err:
        raise InvalidBlockError(number, str(err)) from None
    extra_data = values.get("extra_data")
    if isinstance(extra_data, bytes) and len(extra_data) > MAX_EXTRA_DATA:
        raise InvalidBlockError(number, f"extraData is longer than {MAX_EXTRA_DATA} bytes")
    return HeaderExtra(**values)  # type: ignore[arg-type]


def transaction_hashes(block: Mapping[str, Any], number: int) -> list[str]:
    """The block's transaction hashes as lowercase hex (full transaction objects accepted)."""
    txs = _field(block, "transactions", number)
    if not isinstance(txs, list):
        raise InvalidBlockError(number, "'transactions' is not a list")
    out = []
    for tx in txs:
        value = tx.get("hash") if isinstance(tx, dict) else tx
        try:
            decode_data(value, "transaction hash", size=32)
        except HexError as err:
            raise InvalidBlockError(number, str(err)) from None
        assert isinstance(value, str)
        out.append(value.lower())
    return out


def parse_block(
    block: object, receipts: object, expected_number: int | None = None, *, verify: bool = True
) -> Block:
    """A :class:`Block` from a block and its receipts, with every check of the module
    (``verify``: the consensus checks too)."""
    header, extra = _parse_header(block, expected_number, verify)
    assert isinstance(block, dict)
    number = header.number
    tx_hashes = transaction_hashes(block, number)
    if not isinstance(receipts, list):
        if receipts is None:
            raise InvalidBlockError(number, "no receipts for this block")
        raise InvalidBlockError(number, "receipts are not a list")
    if len(receipts) != len(tx_hashes):
        raise InvalidBlockError(
            number, f"{len(receipts)} receipts for {len(tx_hashes)} transactions"
        )
    block_hash_hex = "0x" + header.hash.hex()
    number_hex = hex(number)
    logs: list[ChainLog] = []
    block_bits = 0
    encoded: list[bytes] = []
    for tx_index, (receipt, tx_hex) in enumerate(zip(receipts, tx_hashes, strict=True)):
        where = f"receipt {tx_index}"
        if not isinstance(receipt, dict):
            raise InvalidBlockError(number, f"{where} is not an object")
        if not _same_hash(_field(receipt, "transactionHash", number, where), tx_hex):
            raise InvalidBlockError(number, f"{where} is for another transaction")
        if not _same_quantity(
            _field(receipt, "transactionIndex", number, where), tx_index, hex(tx_index)
        ):
            raise InvalidBlockError(number, f"{where} has the wrong transactionIndex")
        if not _same_hash(_field(receipt, "blockHash", number, where), block_hash_hex):
            raise InvalidBlockError(number, f"{where} belongs to another block (blockHash)")
        if not _same_quantity(_field(receipt, "blockNumber", number, where), number, number_hex):
            raise InvalidBlockError(number, f"{where} belongs to another block (blockNumber)")
        receipt_logs = _field(receipt, "logs", number, where)
        if not isinstance(receipt_logs, list):
            raise InvalidBlockError(number, f"{where}: 'logs' is not a list")
        tx_hash = Hash32(bytes.fromhex(tx_hex[2:]))
        first_log = len(logs)
        receipt_bits = _parse_logs(
            receipt_logs, logs, header, tx_hash, tx_hex, tx_index, block_hash_hex, number_hex
        )
        receipt_bloom = receipt.get("logsBloom")
        if receipt_bloom is not None:
            try:
                declared = decode_data(receipt_bloom, "logsBloom", size=BLOOM_BYTE_LENGTH)
            except HexError as err:
                raise InvalidBlockError(number, f"{where}: {err}") from None
            if int.from_bytes(declared, "big") != receipt_bits:
                raise InvalidBlockError(number, f"{where}: logsBloom is not the bloom of its logs")
        block_bits |= receipt_bits
        if verify:
            bloom = receipt_bits.to_bytes(BLOOM_BYTE_LENGTH, "big")
            encoded.append(encode_receipt(receipt, logs[first_log:], bloom, number, where))
    if int.from_bytes(header.logs_bloom, "big") != block_bits:
        raise InvalidBlockError(number, "logsBloom is not the bloom of the receipts' logs")
    if verify:
        check_receipts_root(number, extra.receipts_root, encoded)
        txs = block["transactions"]
        if txs and isinstance(txs[0], dict):  # full transactions (--verify-transactions)
            check_transactions_root(number, extra.transactions_root, txs)
    return Block(header, tuple(logs))


def _parse_logs(
    raw_logs: Sequence[object],
    out: list[ChainLog],
    header: Header,
    tx_hash: Hash32,
    tx_hex: str,
    tx_index: int,
    block_hash_hex: str,
    number_hex: str,
) -> int:
    """Append the receipt's logs to ``out``, checked; returns the bloom of these logs."""
    number = header.number
    timestamp_hex = hex(header.timestamp)
    tx_index_hex = hex(tx_index)
    expected = {
        "blockHash": block_hash_hex,
        "blockNumber": number_hex,
        "transactionHash": tx_hex,
        "transactionIndex": tx_index_hex,
    }
    bits = 0
    for raw in raw_logs:
        log_index = len(out)
        fields = _fast_log(raw, expected, timestamp_hex, log_index)
        if fields is None:
            fields = _checked_log(raw, header, expected, tx_index, log_index)
        address, topics, data = fields
        bits |= bloom_mask(address)
        for topic in topics:
            bits |= bloom_mask(topic)
        out.append(
            ChainLog(
                address,
                topics,
                data,
                number,
                header.hash,
                header.timestamp,
                tx_hash,
                tx_index,
                log_index,
            )
        )
    return bits


def _checked_log(
    raw: object, header: Header, expected: dict[str, str], tx_index: int, log_index: int
) -> tuple[Address, tuple[Hash32, ...], bytes]:
    """A log's own fields, after every check of it against its block and transaction (the
    slow path, with a message naming what is wrong)."""
    number = header.number
    number_hex = expected["blockNumber"]
    block_hash_hex = expected["blockHash"]
    tx_hex = expected["transactionHash"]
    tx_index_hex = expected["transactionIndex"]
    timestamp_hex = hex(header.timestamp)
    where = f"log {log_index}"
    if not isinstance(raw, dict):
        raise InvalidBlockError(number, f"{where} is not an object")
    if not _same_quantity(_field(raw, "logIndex", number, where), log_index, hex(log_index)):
        raise InvalidBlockError(number, f"log indexes are not contiguous at {where}")
    if not (
        _same_hash(_field(raw, "blockHash", number, where), block_hash_hex)
        and _same_quantity(_field(raw, "blockNumber", number, where), number, number_hex)
    ):
        raise InvalidBlockError(number, f"{where} belongs to another block")
    if not (
        _same_hash(_field(raw, "transactionHash", number, where), tx_hex)
        and _same_quantity(_field(raw, "transactionIndex", number, where), tx_index, tx_index_hex)
    ):
        raise InvalidBlockError(number, f"{where} belongs to another transaction")
    stamp = raw.get("blockTimestamp")
    if stamp is not None and not _same_quantity(stamp, header.timestamp, timestamp_hex):
        raise InvalidBlockError(number, f"{where} has another blockTimestamp than the block")
    if raw.get("removed", False) is not False:
        raise InvalidBlockError(number, f"{where} is marked removed")
    raw_topics = _field(raw, "topics", number, where)
    if not isinstance(raw_topics, list) or len(raw_topics) > 4:
        raise InvalidBlockError(number, f"{where}: topics must be a list of at most 4")
    try:
        address = Address(decode_data(_field(raw, "address", number, where), "address", size=20))
        topics = tuple(Hash32(decode_data(t, "topic", size=32)) for t in raw_topics)
        data = decode_data(_field(raw, "data", number, where), "data")
    except HexError as err:
        raise InvalidBlockError(number, f"{where}: {err}") from None
    return address, topics, data


def _fast_log(
    raw: object, expected: dict[str, str], timestamp_hex: str, log_index: int
) -> tuple[Address, tuple[Hash32, ...], bytes] | None:
    """A log in its canonical spelling (geth's: lowercase, minimal quantities), checked in a
    few string comparisons; None when anything differs, for the careful path to accept it
    or to say exactly what is wrong."""
    if type(raw) is not dict:
        return None
    try:
        if (
            raw["logIndex"] != hex(log_index)
            or raw["blockHash"] != expected["blockHash"]
            or raw["blockNumber"] != expected["blockNumber"]
            or raw["transactionHash"] != expected["transactionHash"]
            or raw["transactionIndex"] != expected["transactionIndex"]
            or raw.get("blockTimestamp", timestamp_hex) != timestamp_hex
            or raw.get("removed", False) is not False
        ):
            return None
        raw_topics = raw["topics"]
        address_hex = raw["address"]
        data_hex = raw["data"]
        if (
            type(raw_topics) is not list
            or len(raw_topics) > 4
            or len(address_hex) != 42
            or address_hex[:2] != "0x"
            or data_hex[:2] != "0x"
        ):
            return None
        address = bytes.fromhex(address_hex[2:])
        data = bytes.fromhex(data_hex[2:])
        topics = []
        for topic_hex in raw_topics:
            if len(topic_hex) != 66 or topic_hex[:2] != "0x":
                return None
            topic = bytes.fromhex(topic_hex[2:])
            if len(topic) != 32:
                return None
            topics.append(Hash32(topic))
    except (KeyError, TypeError, ValueError):
        return None
    # bytes.fromhex skips whitespace between pairs: the lengths catch it.
    if len(address) != 20 or 2 * len(data) + 2 != len(data_hex):
        return None
    return Address(address), tuple(topics), data


def check_links(headers: Sequence[Header], parent_hash: Hash32 | None) -> None:
    """Check that ``headers`` are consecutive and each extends the one before it.

    ``parent_hash``, when given, is the hash the first header must extend.
    """
    previous: Header | None = None
    for header in headers:
        if previous is not None:
            if header.number != previous.number + 1:
                raise InvalidBlockError(
                    header.number, f"follows block {previous.number} in the answer"
                )
            if header.parent_hash != previous.hash:
                raise InvalidBlockError(
                    header.number,
                    f"parentHash 0x{header.parent_hash.hex()} is not the hash of block "
                    f"{previous.number} (0x{previous.hash.hex()})",
                )
        elif parent_hash is not None and header.parent_hash != parent_hash:
            raise InvalidBlockError(
                header.number,
                f"parentHash 0x{header.parent_hash.hex()} does not extend 0x{parent_hash.hex()}",
            )
        previous = header
