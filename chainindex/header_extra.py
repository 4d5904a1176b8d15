"""The header fields the index does not query, kept so that the whole header can be given back.

A block header (go-ethereum's ``core/types.Header``) has fifteen fields since Frontier and one
more per fork since London (EIP-1559 ``baseFeePerGas``, EIP-4895 ``withdrawalsRoot``, EIP-4844
``blobGasUsed`` and ``excessBlobGas``, EIP-4788 ``parentBeaconBlockRoot``, EIP-7685
``requestsHash``). :class:`~chainindex.types.Header` holds the five the index works with;
:class:`HeaderExtra` holds the others, each None when the node did not send it, so that the
header can be handed out as the node gave it (``newHeads``) and its hash rebuilt as
keccak256 of the RLP list of every field in :data:`RLP_ORDER`.

Stored form (:meth:`HeaderExtra.encode`), appended to the header record after its fixed
prefix (:mod:`chainindex.store.headerrecord`)::

    u32 BE presence mask (bit i: field i of EXTRA_FIELDS present)
    then each present field, in order: hashes 32 bytes, miner 20, nonce 8;
    integers u8 length · big-endian minimal bytes; extraData u16 BE length · bytes

Decoding is a loop over the fields; the query path never does it (it keeps the encoded
bytes, :attr:`~chainindex.types.Header.extra`, without looking inside).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields
from typing import Final, Literal

from chainindex.errors import CorruptDataError

__all__ = ["EXTRA_FIELDS", "RLP_ORDER", "HeaderExtra", "Kind"]

Kind = Literal["hash", "address", "nonce", "int", "bytes"]
"""How a field is held: 32, 20 or 8 bytes, an unsigned integer, or bytes of any length."""

EXTRA_FIELDS: Final[tuple[tuple[str, str, Kind], ...]] = (
    ("uncles_hash", "sha3Uncles", "hash"),
    ("miner", "miner", "address"),
    ("state_root", "stateRoot", "hash"),
    ("transactions_root", "transactionsRoot", "hash"),
    ("receipts_root", "receiptsRoot", "hash"),
    ("difficulty", "difficulty", "int"),
    ("gas_limit", "gasLimit", "int"),
    ("gas_used", "gasUsed", "int"),
    ("extra_data", "extraData", "bytes"),
    ("mix_hash", "mixHash", "hash"),
    ("nonce", "nonce", "nonce"),
    ("base_fee", "baseFeePerGas", "int"),
    ("withdrawals_root", "withdrawalsRoot", "hash"),
    ("blob_gas_used", "blobGasUsed", "int"),
    ("excess_blob_gas", "excessBlobGas", "int"),
    ("parent_beacon_root", "parentBeaconBlockRoot", "hash"),
    ("requests_hash", "requestsHash", "hash"),
)
"""``(attribute, JSON-RPC name, kind)`` of each field of :class:`HeaderExtra`, in RLP order."""

RLP_ORDER: Final = (
    "parentHash", "sha3Uncles", "miner", "stateRoot", "transactionsRoot", "receiptsRoot",
    "logsBloom", "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData",
    "mixHash", "nonce", "baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas",
    "parentBeaconBlockRoot", "requestsHash",
)  # fmt: skip
"""Every header field by JSON-RPC name, in the order of the header's RLP list (and of
go-ethereum's JSON header, ``core/types/gen_header_json.go``, which adds ``hash`` last)."""

_SIZES: Final[dict[Kind, int]] = {"hash": 32, "address": 20, "nonce": 8}
_MASK = struct.Struct(">I")
_U16 = struct.Struct(">H")
MAX_EXTRA_DATA: Final = 0xFFFF
"""Longest ``extraData`` kept (mainnet allows 32 bytes, Clique chains 97 and more)."""


@dataclass(frozen=True, slots=True)
class HeaderExtra:
    """The header fields beyond :class:`~chainindex.types.Header`'s; None: not given."""

    uncles_hash: bytes | None = None
    """``sha3Uncles``: keccak256 of the RLP list of uncle headers."""
    miner: bytes | None = None
    """``miner`` (coinbase): the 20-byte fee recipient."""
    state_root: bytes | None = None
    """``stateRoot``."""
    transactions_root: bytes | None = None
    """``transactionsRoot``."""
    receipts_root: bytes | None = None
    """``receiptsRoot``."""
    difficulty: int | None = None
    """``difficulty`` (0 since the merge)."""
    gas_limit: int | None = None
    """``gasLimit``."""
    gas_used: int | None = None
    """``gasUsed``."""
    extra_data: bytes | None = None
    """``extraData``."""
    mix_hash: bytes | None = None
    """``mixHash`` (``prevRandao`` since the merge)."""
    nonce: bytes | None = None
    """``nonce``, 8 bytes."""
    base_fee: int | None = None
    """``baseFeePerGas`` (London, EIP-1559)."""
    withdrawals_root: bytes | None = None
    """``withdrawalsRoot`` (Shanghai, EIP-4895)."""
    blob_gas_used: int | None = None
    """``blobGasUsed`` (Cancun, EIP-4844)."""
    excess_blob_gas: int | None = None
    """``excessBlobGas`` (Cancun, EIP-4844)."""
    parent_beacon_root: bytes | None = None
    """``parentBeaconBlockRoot`` (Cancun, EIP-4788)."""
    requests_hash: bytes | None = None
    """``requestsHash`` (Prague, EIP-7685)."""

    def encode(self) -> bytes:
        """The stored form (module docstring); ValueError on a value that does not fit."""
        mask = 0
        parts = [b""]
        for bit, (attr, name, kind) in enumerate(EXTRA_FIELDS):
            value = getattr(self, attr)
            if value is None:
                continue
            mask |= 1 << bit
            if kind == "int":
                assert isinstance(value, int)
                if value < 0 or value.bit_length() > 256:
                    raise ValueError(f"{name} {value} is not a 256-bit unsigned integer")
                raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
                parts.append(bytes((len(raw),)) + raw)
            elif kind == "bytes":
                if len(value) > MAX_EXTRA_DATA:
                    raise ValueError(f"{name} is longer than {MAX_EXTRA_DATA} bytes")
                parts.append(_U16.pack(len(value)) + value)
            else:
                if len(value) != _SIZES[kind]:
                    raise ValueError(f"{name} has {len(value)} bytes, not {_SIZES[kind]}")
                parts.append(value)
        parts[0] = _MASK.pack(mask)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes, where: str = "header record") -> HeaderExtra:
        """Inverse of :meth:`encode`; CorruptDataError on anything inconsistent."""
        if len(data) < _MASK.size:
            raise CorruptDataError(f"{where}: truncated header fields ({len(data)} bytes)")
        (mask,) = _MASK.unpack_from(data)
        if mask >> len(EXTRA_FIELDS):
            raise CorruptDataError(f"{where}: unknown header fields (mask {mask:#x})")
        values: dict[str, object] = {}
        pos = _MASK.size
        try:
            for bit, (attr, _, kind) in enumerate(EXTRA_FIELDS):
                if not mask >> bit & 1:
                    continue
                if kind == "int":
                    size = data[pos]
                    pos += 1
                    values[attr] = int.from_bytes(data[pos : pos + size], "big")
                elif kind == "bytes":
                    (size,) = _U16.unpack_from(data, pos)
                    pos += _U16.size
                    values[attr] = bytes(data[pos : pos + size])
                else:
                    size = _SIZES[kind]
                    values[attr] = bytes(data[pos : pos + size])
                pos += size
        except (IndexError, struct.error):
            raise CorruptDataError(f"{where}: truncated header fields") from None
        if pos != len(data):
            raise CorruptDataError(f"{where}: header fields of {len(data)} bytes, expected {pos}")
        return cls(**values)  # type: ignore[arg-type]

    def present(self) -> list[str]:
        """The JSON-RPC names of the fields given, in RLP order."""
        return [name for attr, name, _ in EXTRA_FIELDS if getattr(self, attr) is not None]


assert [f.name for f in fields(HeaderExtra)] == [attr for attr, _, _ in EXTRA_FIELDS]
