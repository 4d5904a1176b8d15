"""The primary data of a data directory, block by block: headers and logs.

For every height ``tail..head`` (one pass over the header records, past damaged LevelDB
blocks: :func:`~chainindex.check.scan.scan_numbered`): the header record decodes; its parent
hash is the previous block's hash; the canonical-hash and hash → number records agree with
it; its hash is keccak256 of the stored header where every field is stored (go-ethereum's
``Header.Hash``, :func:`chainindex.source.verify.header_rlp`); its logs record decodes and
the bloom of its logs' addresses and topics is the header's ``logsBloom`` (geth's
``types.CreateBloom``). What go-ethereum's ``geth db inspect``/``verify`` would do for its
freezer, in this directory's layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bloombits.bloom import bloom_mask
from bloombits.keccak import keccak256
from chainindex.check.problems import Problems
from chainindex.check.scan import scan_numbered
from chainindex.errors import CorruptDataError, InvalidBlockError
from chainindex.header_extra import EXTRA_FIELDS, HeaderExtra
from chainindex.source.verify import header_rlp
from chainindex.store import schema
from chainindex.store.codec import LogsRecord
from chainindex.store.damage import HEADERS, LOGS, METADATA
from chainindex.store.headerrecord import decode_header
from chainindex.store.kv import KeyValueReader
from chainindex.types import Header

__all__ = ["ChainScan", "check_chain"]

_FULL = tuple(attr for attr, _, _ in EXTRA_FIELDS[:11])
"""The fields every fork has: a stored header with all of them can be hashed."""


@dataclass(slots=True)
class ChainScan:
    """What the pass over the blocks learnt."""

    log_counts: npt.NDArray[np.int64]
    """Logs per block from the tail (-1: not readable)."""

    @property
    def logs(self) -> int:
        """Logs read."""
        return int(self.log_counts[self.log_counts > 0].sum())


def _header_number(key: bytes) -> int:
    return schema.parse_header_key(key)[0]


def _record_bloom(record: LogsRecord) -> bytes:
    """The bloom of a logs record's addresses and topics (every table entry is used)."""
    bits = 0
    for value in (*record.addresses, *record.topics):
        bits |= bloom_mask(value)
    return bits.to_bytes(256, "big")


def _hash_ok(header: Header) -> bool:
    """Whether the header's hash is keccak256 of its stored fields (True when not all of
    them are stored: nothing to check)."""
    if not header.extra:
        return True
    extra = HeaderExtra.decode(header.extra, f"header of block {header.number}")
    if any(getattr(extra, attr) is None for attr in _FULL):
        return True
    try:
        return keccak256(header_rlp(header, extra)) == header.hash
    except InvalidBlockError:
        return True


class _Blocks:
    """The checks of one block at a time (see the module docstring)."""

    def __init__(self, reader: KeyValueReader, problems: Problems, tail: int, head: int) -> None:
        self.reader = reader
        self.problems = problems
        self.tail = tail
        self.counts = np.full(head - tail + 1, -1, dtype=np.int64)

    def get(self, key: bytes, component: str, number: int) -> bytes | None:
        """A point read; a damaged LevelDB block is a problem (and None)."""
        try:
            return self.reader.get(key)
        except CorruptDataError as err:
            self.problems.add(component, number, number, f"unreadable: {err}", storage=True)
            return None

    def header(self, number: int, block_hash: bytes, raw: bytes, parent: bytes | None) -> bool:
        """Check one header record and its index records; whether it decoded."""
        add = self.problems.add
        try:
            header = decode_header(number, block_hash, raw)
            hash_ok = _hash_ok(header)
        except CorruptDataError:
            add(HEADERS, number, number, "header record does not decode")
            return False
        if parent is not None and header.parent_hash != parent:
            add(HEADERS, number, number, "parent hash does not link to the previous block")
        if not hash_ok:
            add(HEADERS, number, number, "block hash is not keccak256 of the stored header")
        canonical = self.get(schema.canonical_hash_key(header.number), HEADERS, number)
        if canonical is not None and canonical != block_hash:
            add(HEADERS, number, number, "canonical hash record names another block")
        by_hash = self.get(schema.hash_to_number_key(header.hash), HEADERS, number)
        if by_hash is not None and by_hash != schema.encode_u64(number):
            add(HEADERS, number, number, "hash-to-number record names another height")
        if canonical is None and by_hash is None and not self._unreadable(HEADERS, number):
            add(HEADERS, number, number, "index records missing")
        return True

    def _unreadable(self, component: str, number: int) -> bool:
        items = self.problems.items
        return bool(items) and items[-1].component == component and items[-1].last == number

    def logs(self, number: int, block_hash: bytes, bloom: bytes | None) -> None:
        """Check one block's logs record against its header's bloom."""
        raw = self.get(schema.logs_key(number, block_hash), LOGS, number)  # type: ignore[arg-type]
        if raw is None:
            if not self._unreadable(LOGS, number):
                self.problems.add(LOGS, number, number, "no logs record")
            return
        try:
            record = LogsRecord.parse(raw, f"logs of block {number}")
        except CorruptDataError:
            self.problems.add(LOGS, number, number, "logs record does not decode")
            return
        if bloom is not None and _record_bloom(record) != bloom:
            self.problems.add(LOGS, number, number, "logs do not match the header's logsBloom")
        self.counts[number - self.tail] = len(record)


def check_chain(
    reader: KeyValueReader,
    tail: int,
    head: int,
    head_hash: bytes,
    headers_only: bool,
    problems: Problems,
) -> ChainScan:
    """Check blocks ``tail..head`` (see the module docstring), adding to ``problems``."""
    blocks = _Blocks(reader, problems, tail, head)
    expected = tail
    parent: bytes | None = None
    last_hash: bytes | None = None
    records = scan_numbered(
        reader, schema.header_range, _header_number, tail, head, HEADERS, problems
    )
    for number, key, raw in records:
        _, block_hash = schema.parse_header_key(key)
        if number > expected and not blocks._unreadable(HEADERS, number - 1):
            problems.add(HEADERS, expected, number - 1, "no header record")
        if number != expected:
            parent = None
        decoded = blocks.header(number, block_hash, raw, parent)
        bloom = decode_header(number, block_hash, raw).logs_bloom if decoded else None
        if not headers_only:
            blocks.logs(number, block_hash, bloom)
        parent = block_hash if decoded else None
        last_hash = block_hash
        expected = number + 1
    if expected <= head and not blocks._unreadable(HEADERS, head):
        problems.add(HEADERS, expected, head, "no header record")
    elif expected > head and last_hash != head_hash:
        problems.add(METADATA, head, head, "the head record names another block")
    return ChainScan(blocks.counts)
