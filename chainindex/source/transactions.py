"""``transactionsRoot``: the consensus encoding of JSON-RPC transactions, and their trie root.

Follows go-ethereum's ``core/types`` transaction types (``tx_legacy.go``, ``tx_access_list.go``
EIP-2930, ``tx_dynamic_fee.go`` EIP-1559, ``tx_blob.go`` EIP-4844, ``tx_setcode.go`` EIP-7702):
a legacy transaction is the RLP list ``[nonce, gasPrice, gas, to, value, input, v, r, s]``, a
typed one its type byte followed by its type's list (EIP-2718), and ``transactionsRoot`` is
``DeriveSha`` of them (:func:`chainindex.trie.ordered_trie_root`). What differs: only the fields
of the JSON-RPC answer of ``eth_getBlockByNumber(n, true)`` are used, each transaction's
``hash`` must be keccak256 of its encoding, and a type this module does not know (an L2's
deposit transactions, say) is an :class:`~chainindex.errors.InvalidBlockError` saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bloombits.keccak import keccak256
from chainindex.errors import HexError, InvalidBlockError
from chainindex.hexutil import decode_data, decode_quantity
from chainindex.trie import encode_bytes, encode_int, encode_list, ordered_trie_root

__all__ = ["check_transactions_root", "encode_transaction"]

_Field = Callable[[Mapping[str, Any]], bytes]


def _int(name: str) -> _Field:
    return lambda tx: encode_int(decode_quantity(tx[name], name))


def _data(name: str) -> _Field:
    return lambda tx: encode_bytes(decode_data(tx[name], name))


def _to(tx: Mapping[str, Any]) -> bytes:
    to = tx.get("to")
    return b"\x80" if to is None else encode_bytes(decode_data(to, "to", size=20))


def _y_parity(tx: Mapping[str, Any]) -> bytes:
    value = tx.get("yParity", tx.get("v"))
    return encode_int(decode_quantity(value, "yParity"))


def _access_list(tx: Mapping[str, Any]) -> bytes:
    entries = []
    for entry in tx["accessList"]:
        keys = b"".join(
            encode_bytes(decode_data(k, "storage key", size=32)) for k in entry["storageKeys"]
        )
        address = encode_bytes(decode_data(entry["address"], "address", size=20))
        entries.append(encode_list(address + encode_list(keys)))
    return encode_list(b"".join(entries))


def _blob_hashes(tx: Mapping[str, Any]) -> bytes:
    hashes = tx["blobVersionedHashes"]
    return encode_list(b"".join(encode_bytes(decode_data(h, "blob hash", size=32)) for h in hashes))


def _authorizations(tx: Mapping[str, Any]) -> bytes:
    items = []
    for auth in tx["authorizationList"]:
        items.append(
            encode_list(
                _int("chainId")(auth)
                + encode_bytes(decode_data(auth["address"], "address", size=20))
                + _int("nonce")(auth)
                + _y_parity(auth)
                + _int("r")(auth)
                + _int("s")(auth)
            )
        )
    return encode_list(b"".join(items))


_SIGNATURE: tuple[_Field, ...] = (_y_parity, _int("r"), _int("s"))
_LAYOUTS: dict[int, tuple[_Field, ...]] = {
    0: (_int("nonce"), _int("gasPrice"), _int("gas"), _to, _int("value"), _data("input"),
        _int("v"), _int("r"), _int("s")),
    1: (_int("chainId"), _int("nonce"), _int("gasPrice"), _int("gas"), _to, _int("value"),
        _data("input"), _access_list, *_SIGNATURE),
    2: (_int("chainId"), _int("nonce"), _int("maxPriorityFeePerGas"), _int("maxFeePerGas"),
        _int("gas"), _to, _int("value"), _data("input"), _access_list, *_SIGNATURE),
    3: (_int("chainId"), _int("nonce"), _int("maxPriorityFeePerGas"), _int("maxFeePerGas"),
        _int("gas"), _to, _int("value"), _data("input"), _access_list,
        _int("maxFeePerBlobGas"), _blob_hashes, *_SIGNATURE),
    4: (_int("chainId"), _int("nonce"), _int("maxPriorityFeePerGas"), _int("maxFeePerGas"),
        _int("gas"), _to, _int("value"), _data("input"), _access_list, _authorizations,
        *_SIGNATURE),
}  # fmt: skip
"""The fields of each transaction type's RLP list, in order."""


def encode_transaction(tx: Mapping[str, Any], number: int, index: int) -> bytes:
    """The consensus encoding of a JSON-RPC transaction object; InvalidBlockError naming the
    block and the transaction when a field is missing or malformed, or the type unknown."""
    where = f"transaction {index}"
    try:
        kind = decode_quantity(tx.get("type", "0x0"), "type")
        layout = _LAYOUTS.get(kind)
        if layout is None:
            raise InvalidBlockError(number, f"{where}: type {kind:#x} cannot be checked")
        body = encode_list(b"".join(field(tx) for field in layout))
    except KeyError as err:
        raise InvalidBlockError(number, f"{where} has no {err.args[0]!r} field") from None
    except (HexError, TypeError) as err:
        raise InvalidBlockError(number, f"{where}: {err}") from None
    return body if kind == 0 else bytes((kind,)) + body


def check_transactions_root(
    number: int, declared: bytes | None, transactions: Sequence[Mapping[str, Any]]
) -> None:
    """InvalidBlockError unless each transaction's hash is keccak256 of its encoding and
    ``declared`` (the header's ``transactionsRoot``) is their trie root."""
    if declared is None:
        raise InvalidBlockError(number, "the header has no transactionsRoot: it cannot be checked")
    encoded = []
    for index, tx in enumerate(transactions):
        raw = encode_transaction(tx, number, index)
        if "0x" + keccak256(raw).hex() != str(tx.get("hash", "")).lower():
            raise InvalidBlockError(
                number, f"transaction {index}: hash is not keccak256 of the transaction"
            )
        encoded.append(raw)
    computed = ordered_trie_root(encoded)
    if computed != declared:
        raise InvalidBlockError(
            number,
            f"transactionsRoot 0x{declared.hex()} is not the root of the transactions "
            f"(0x{computed.hex()})",
        )
