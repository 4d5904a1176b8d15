"""``LogsRecord``: a stored logs record (:mod:`chainindex.store.codec` has the format),
checked and viewed as numpy columns, with no Python object per log or per distinct value.

Parsing checks every size, count and reference of the record (numpy over the columns) and
keeps zero-copy views of it: the tables of distinct transactions, addresses and topics as
``(n, 32)``/``(n, 20)`` byte arrays, the per-log columns as integer arrays. The tuples of
``bytes`` that :class:`~chainindex.types.ChainLog` objects and set lookups need are built only
when asked for (:attr:`LogsRecord.addresses` and its siblings), and the hex of one table entry
straight from the record's bytes (:meth:`LogsRecord.address_hex`), so that a query reading a
block for a few of its logs pays for those logs, not for the block's hundreds of values.

go-ethereum keeps receipts RLP-encoded (``core/rawdb/accessors_chain.go``) and decodes a
block's receipts whole into ``types.Log`` objects; the columnar layout is this project's.
"""

from __future__ import annotations

import struct
from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt
from eth_typing import Address, Hash32

from chainindex.errors import CorruptDataError
from chainindex.types import ChainLog, Header

__all__ = ["LOGS_FORMAT", "LOGS_HEAD", "LogsRecord", "check_refs"]

LOGS_FORMAT: Final = 1
"""Version byte of logs records."""

LOGS_HEAD: Final = struct.Struct("<BIIIIII")
"""The record's head: version, then the counts of logs, transactions, addresses, topics,
topic references and data bytes."""

_U32 = np.dtype("<u4")


class LogsRecord:
    """A decoded-and-checked logs record, as columns (see the module docstring).

    The arrays are read-only views of the record; build :class:`ChainLog` objects with
    :meth:`logs`.
    """

    __slots__ = (
        "_addresses",
        "_raw",
        "_table_at",
        "_topic_starts",
        "_topics",
        "_tx_hashes",
        "address_table",
        "data",
        "data_ends",
        "log_address",
        "log_topic_count",
        "log_tx",
        "topic_refs",
        "topic_table",
        "tx_indexes",
        "tx_table",
    )

    tx_table: npt.NDArray[np.uint8]
    """Distinct transaction hashes, in order of first log, ``(n, 32)``."""
    tx_indexes: npt.NDArray[np.uint32]
    """Transaction index of each row of :attr:`tx_table`."""
    address_table: npt.NDArray[np.uint8]
    """Distinct emitting addresses, in order of first log, ``(n, 20)``."""
    topic_table: npt.NDArray[np.uint8]
    """Distinct topics, in order of first use, ``(n, 32)``."""
    log_tx: npt.NDArray[np.uint32]
    """Per log: its transaction, a row of :attr:`tx_table`."""
    log_address: npt.NDArray[np.uint32]
    """Per log: its address, a row of :attr:`address_table`."""
    log_topic_count: npt.NDArray[np.uint8]
    """Per log: how many topics it has (0..4)."""
    topic_refs: npt.NDArray[np.uint32]
    """Every log's topics in order, as rows of :attr:`topic_table`."""
    data_ends: npt.NDArray[np.uint32]
    """Per log: end offset of its data in :attr:`data`."""
    data: memoryview
    """All logs' data, concatenated (a view of the record)."""

    def __init__(self, raw: bytes, where: str = "logs record") -> None:
        """Check ``raw`` completely and view it as columns (:meth:`parse`)."""
        if len(raw) < LOGS_HEAD.size:
            raise CorruptDataError(f"{where}: truncated ({len(raw)} bytes)")
        version, n_logs, n_tx, n_addr, n_topics, n_refs, n_data = LOGS_HEAD.unpack_from(raw)
        if version != LOGS_FORMAT:
            raise CorruptDataError(f"{where}: unknown format {version}")
        tx_at = LOGS_HEAD.size
        addr_at = tx_at + n_tx * 36
        topics_at = addr_at + n_addr * 20
        logs_at = topics_at + n_topics * 32
        refs_at = logs_at + n_logs * 9
        ends_at = refs_at + n_refs * 4
        data_at = ends_at + n_logs * 4
        expected = data_at + n_data
        if len(raw) != expected:
            raise CorruptDataError(f"{where}: {len(raw)} bytes, its counts say {expected}")
        u8 = np.frombuffer(raw, dtype=np.uint8)
        self._raw = memoryview(raw)
        self._table_at = (tx_at, addr_at, topics_at)
        self.tx_table = u8[tx_at : tx_at + n_tx * 32].reshape(-1, 32)
        self.tx_indexes = np.frombuffer(raw, dtype=_U32, count=n_tx, offset=tx_at + n_tx * 32)
        self.address_table = u8[addr_at:topics_at].reshape(-1, 20)
        self.topic_table = u8[topics_at:logs_at].reshape(-1, 32)
        self.log_tx = np.frombuffer(raw, dtype=_U32, count=n_logs, offset=logs_at)
        self.log_address = np.frombuffer(raw, dtype=_U32, count=n_logs, offset=logs_at + 4 * n_logs)
        self.log_topic_count = u8[logs_at + 8 * n_logs : refs_at]
        self.topic_refs = np.frombuffer(raw, dtype=_U32, count=n_refs, offset=refs_at)
        self.data_ends = np.frombuffer(raw, dtype=_U32, count=n_logs, offset=ends_at)
        self.data = self._raw[data_at:]
        self._tx_hashes: tuple[bytes, ...] | None = None
        self._addresses: tuple[bytes, ...] | None = None
        self._topics: tuple[bytes, ...] | None = None
        self._topic_starts: npt.NDArray[np.intp] | None = None
        check_refs(where, self.log_tx, self.log_address, self.log_topic_count, self.topic_refs,
                   self.data_ends, n_tx, n_addr, n_topics, n_refs, n_data)  # fmt: skip

    @classmethod
    def parse(cls, record: bytes, where: str = "logs record") -> LogsRecord:
        """Check ``record`` completely and view it as columns."""
        return cls(record, where)

    def __len__(self) -> int:
        return len(self.log_tx)

    @property
    def nbytes(self) -> int:
        """Bytes of the record viewed."""
        return len(self._raw)

    @property
    def tx_hashes(self) -> tuple[bytes, ...]:
        """Distinct transaction hashes, in order of first log (built on first use)."""
        if self._tx_hashes is None:
            self._tx_hashes = _split(self.tx_table)
        return self._tx_hashes

    @property
    def addresses(self) -> tuple[bytes, ...]:
        """Distinct emitting addresses, in order of first log (built on first use)."""
        if self._addresses is None:
            self._addresses = _split(self.address_table)
        return self._addresses

    @property
    def topics(self) -> tuple[bytes, ...]:
        """Distinct topics, in order of first use (built on first use)."""
        if self._topics is None:
            self._topics = _split(self.topic_table)
        return self._topics

    @property
    def topic_starts(self) -> npt.NDArray[np.intp]:
        """Per log: where its topics start in :attr:`topic_refs` (computed once)."""
        if self._topic_starts is None:
            counts = self.log_topic_count
            self._topic_starts = np.cumsum(counts, dtype=np.intp) - counts
        return self._topic_starts

    def tx_hash_hex(self, tx: int) -> str:
        """Hex (no prefix) of row ``tx`` of :attr:`tx_table`."""
        at = self._table_at[0] + 32 * tx
        return self._raw[at : at + 32].hex()

    def address_hex(self, address: int) -> str:
        """Hex (no prefix) of row ``address`` of :attr:`address_table`."""
        at = self._table_at[1] + 20 * address
        return self._raw[at : at + 20].hex()

    def topic_hex(self, topic: int) -> str:
        """Hex (no prefix) of row ``topic`` of :attr:`topic_table`."""
        at = self._table_at[2] + 32 * topic
        return self._raw[at : at + 32].hex()

    def logs(self, header: Header) -> tuple[ChainLog, ...]:
        """The records' logs as :class:`ChainLog` objects of the block ``header``."""
        number, block_hash, timestamp = header.number, header.hash, header.timestamp
        tx_hashes = [Hash32(h) for h in self.tx_hashes]
        tx_indexes = self.tx_indexes.tolist()
        addresses = [Address(a) for a in self.addresses]
        topics = [Hash32(t) for t in self.topics]
        refs = self.topic_refs.tolist()
        data = bytes(self.data)
        out: list[ChainLog] = []
        ref_pos = 0
        start = 0
        for index, (tx, addr, count, end) in enumerate(
            zip(
                self.log_tx.tolist(),
                self.log_address.tolist(),
                self.log_topic_count.tolist(),
                self.data_ends.tolist(),
                strict=True,
            )
        ):
            out.append(
                ChainLog(
                    addresses[addr],
                    tuple(topics[r] for r in refs[ref_pos : ref_pos + count]),
                    data[start:end],
                    number,
                    block_hash,
                    timestamp,
                    tx_hashes[tx],
                    tx_indexes[tx],
                    index,
                )
            )
            ref_pos += count
            start = end
        return tuple(out)


def _split(table: npt.NDArray[np.uint8]) -> tuple[bytes, ...]:
    """The rows of a table as ``bytes``."""
    blob, size = table.tobytes(), table.shape[1]
    return tuple(blob[i : i + size] for i in range(0, len(blob), size))


_SMALL = 64
"""Records with at most this many logs are checked with Python lists: numpy's per-call cost
would dominate (the query path parses one record per candidate block)."""


def check_refs(
    where: str,
    log_tx: npt.NDArray[np.uint32],
    log_address: npt.NDArray[np.uint32],
    log_topic_count: npt.NDArray[np.uint8],
    topic_refs: npt.NDArray[np.uint32],
    data_ends: npt.NDArray[np.uint32],
    n_tx: int,
    n_addr: int,
    n_topics: int,
    n_refs: int,
    n_data: int,
) -> None:
    """Every reference of a logs record points into its tables, counts add up, data offsets
    ascend to the end of the data; else CorruptDataError."""
    n_logs = len(log_tx)
    if not n_logs:
        if n_tx or n_addr or n_topics or n_data or n_refs:
            raise CorruptDataError(f"{where}: tables without logs")
        return
    small = n_logs <= _SMALL
    if small:
        counts = log_topic_count.tolist()
        most = (max(log_tx.tolist()), max(log_address.tolist()), max(counts))
        total = sum(counts)
    else:  # numpy's reductions (the builtins would walk the arrays element by element)
        most = (int(log_tx.max()), int(log_address.max()), int(log_topic_count.max()))
        total = int(log_topic_count.sum(dtype=np.int64))
    if not n_tx or not n_addr or most[0] >= n_tx or most[1] >= n_addr or most[2] > 4:
        raise CorruptDataError(f"{where}: a log refers past the transaction/address tables")
    if total != n_refs or (n_refs and int(topic_refs.max()) >= n_topics):
        raise CorruptDataError(f"{where}: topic references do not match the topic table")
    if small:
        ends = data_ends.tolist()
        ascending = all(a <= b for a, b in pairwise(ends))
    else:
        ascending = not np.any(np.diff(data_ends.astype(np.int64)) < 0)
    if not ascending or int(data_ends[-1]) != n_data:
        raise CorruptDataError(f"{where}: data offsets out of order")
