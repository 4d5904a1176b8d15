"""Binary encoding of a block's logs as the indexer stores them (header records:
:mod:`chainindex.store.headerrecord`).

The record starts with a one-byte format version (:data:`LOGS_FORMAT`), versioned together
with the schema (:data:`chainindex.store.schema.SCHEMA_VERSION`). The block number and hash
are in the key, so the record does not repeat them.

Logs record: columnar, so that the query path can test a filter against a block's logs with
numpy (the distinct addresses and topics come first, each log refers to them by index)
without building a :class:`~chainindex.types.ChainLog` per log. Integers are little-endian u32::

    u8 version
    u32 n_logs · u32 n_tx · u32 n_addresses · u32 n_topics · u32 n_topic_refs · u32 n_data
    tx hashes (n_tx × 32) · tx indexes (n_tx × u32)
    addresses (n_addresses × 20) · topics (n_topics × 32)
    per log: tx ref (u32) · address ref (u32) · topic count (u8)
    topic refs (n_topic_refs × u32, each log's in order) · per log: data end offset (u32)
    data (n_data bytes, every log's data concatenated)

A log's ``logIndex`` is its position in the record (the indexer only stores blocks whose log
indexes run 0, 1, ...). Decoding (:class:`~chainindex.store.logsrecord.LogsRecord`, which
views a record as numpy columns) checks every size, count and reference and raises
:class:`~chainindex.errors.CorruptDataError` on any inconsistency; it never returns a wrong
log.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from chainindex.errors import CorruptDataError
from chainindex.store.logsrecord import LOGS_FORMAT, LOGS_HEAD, LogsRecord, check_refs
from chainindex.types import ChainLog, Header

__all__ = [
    "LOGS_FORMAT",
    "LogsColumns",
    "LogsRecord",
    "decode_logs",
    "encode_logs",
    "logs_columns",
    "logs_record_may_match",
]

_LOGS_HEAD = LOGS_HEAD
_U32 = np.dtype("<u4")
_MAX_TOPICS: Final = 4


def encode_logs(logs: Sequence[ChainLog]) -> bytes:
    """The stored record of one block's logs, in ``logIndex`` order."""
    tx_ids: dict[bytes, int] = {}
    tx_indexes: list[int] = []
    addr_ids: dict[bytes, int] = {}
    topic_ids: dict[bytes, int] = {}
    log_tx: list[int] = []
    log_addr: list[int] = []
    log_ntopics: list[int] = []
    topic_refs: list[int] = []
    data_ends: list[int] = []
    end = 0
    for log in logs:
        tx = tx_ids.setdefault(log.transaction_hash, len(tx_ids))
        if tx == len(tx_indexes):
            tx_indexes.append(log.transaction_index)
        log_tx.append(tx)
        log_addr.append(addr_ids.setdefault(log.address, len(addr_ids)))
        if len(log.topics) > _MAX_TOPICS:
            raise ValueError(f"a log has at most {_MAX_TOPICS} topics, got {len(log.topics)}")
        log_ntopics.append(len(log.topics))
        topic_refs.extend(topic_ids.setdefault(t, len(topic_ids)) for t in log.topics)
        end += len(log.data)
        data_ends.append(end)
    head = _LOGS_HEAD.pack(
        LOGS_FORMAT, len(logs), len(tx_ids), len(addr_ids), len(topic_ids), len(topic_refs), end
    )
    return b"".join(
        (
            head,
            *tx_ids,
            np.array(tx_indexes, dtype=_U32).tobytes(),
            *addr_ids,
            *topic_ids,
            np.array(log_tx, dtype=_U32).tobytes(),
            np.array(log_addr, dtype=_U32).tobytes(),
            bytes(log_ntopics),
            np.array(topic_refs, dtype=_U32).tobytes(),
            np.array(data_ends, dtype=_U32).tobytes(),
            *(log.data for log in logs),
        )
    )


@dataclass(frozen=True, slots=True)
class LogsColumns:
    """The columns of a checked logs record that say which values each log carries, as
    numpy views of the record (no object per value: what the exact index reads)."""

    addresses: npt.NDArray[np.uint8]
    """Distinct addresses, ``(n, 20)``."""
    topics: npt.NDArray[np.uint8]
    """Distinct topics, ``(n, 32)``."""
    log_address: npt.NDArray[np.uint32]
    """Per log: its address, a row of :attr:`addresses`."""
    log_topic_count: npt.NDArray[np.uint8]
    """Per log: how many topics it has."""
    topic_refs: npt.NDArray[np.uint32]
    """Every log's topics in order, as rows of :attr:`topics`."""

    def __len__(self) -> int:
        return len(self.log_address)


def logs_columns(record: bytes, where: str = "logs record") -> LogsColumns:
    """Check ``record`` as :meth:`LogsRecord.parse` does and view its value columns."""
    if len(record) < _LOGS_HEAD.size:
        raise CorruptDataError(f"{where}: truncated ({len(record)} bytes)")
    version, n_logs, n_tx, n_addr, n_topics, n_refs, n_data = _LOGS_HEAD.unpack_from(record)
    if version != LOGS_FORMAT:
        raise CorruptDataError(f"{where}: unknown format {version}")
    addr_at = _LOGS_HEAD.size + n_tx * 36
    topics_at = addr_at + n_addr * 20
    logs_at = topics_at + n_topics * 32
    refs_at = logs_at + n_logs * 9
    ends_at = refs_at + n_refs * 4
    if len(record) != ends_at + n_logs * 4 + n_data:
        raise CorruptDataError(f"{where}: {len(record)} bytes, its counts say otherwise")
    u8 = np.frombuffer(record, dtype=np.uint8)
    columns = LogsColumns(
        u8[addr_at:topics_at].reshape(-1, 20),
        u8[topics_at:logs_at].reshape(-1, 32),
        np.frombuffer(record, dtype=_U32, count=n_logs, offset=logs_at + n_logs * 4),
        u8[logs_at + n_logs * 8 : refs_at],
        np.frombuffer(record, dtype=_U32, count=n_refs, offset=refs_at),
    )
    log_tx = np.frombuffer(record, dtype=_U32, count=n_logs, offset=logs_at)
    data_ends = np.frombuffer(record, dtype=_U32, count=n_logs, offset=ends_at)
    check_refs(where, log_tx, columns.log_address, columns.log_topic_count, columns.topic_refs,
                data_ends, n_tx, n_addr, n_topics, n_refs, n_data)  # fmt: skip
    return columns


def decode_logs(record: bytes, header: Header) -> tuple[ChainLog, ...]:
    """The logs stored as ``record`` for the block ``header``."""
    return LogsRecord.parse(record, f"logs of block {header.number}").logs(header)


def _holds(blob: bytes, value: bytes, start: int, end: int) -> bool:
    """Whether ``value`` is one of the ``len(value)``-byte entries of ``blob[start:end]``."""
    size = len(value)
    at = blob.find(value, start, end)
    while at >= 0:
        if (at - start) % size == 0:
            return True
        at = blob.find(value, at + 1, end)
    return False


def logs_record_may_match(
    record: bytes, addresses: Collection[bytes], positions: Sequence[Collection[bytes]]
) -> bool:
    """False only when no log of the stored logs ``record`` can match: it holds none of
    ``addresses`` (when not empty) in its table of distinct addresses, or, for one of the
    ``positions``, none of that position's accepted topics in its table of distinct topics.
    A look at the raw bytes (one ``find`` per value), before the record is parsed and
    checked: at saturation most candidate blocks are false positives of the blooms, and this
    turns them away without building their columns. A record too short or of another format
    answers True (parsing it then says what is wrong)."""
    if len(record) < _LOGS_HEAD.size:
        return True
    version, _, n_tx, n_addr, n_topics, _, _ = _LOGS_HEAD.unpack_from(record)
    if version != LOGS_FORMAT:
        return True
    start = _LOGS_HEAD.size + n_tx * 36
    topics_start = start + n_addr * 20
    topics_end = topics_start + n_topics * 32
    if topics_end > len(record):
        return True
    if addresses and not any(_holds(record, a, start, topics_start) for a in addresses):
        return False
    return all(
        any(_holds(record, t, topics_start, topics_end) for t in values) for values in positions
    )
