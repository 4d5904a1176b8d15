"""Log objects and headers to JSON text.

Log objects are written as JSON text directly, keys in geth's order (``address, topics,
data, blockNumber, transactionHash, transactionIndex, blockHash, blockTimestamp, logIndex,
removed``), straight from a block's columnar logs record: the hex of each distinct address,
topic and transaction of a block is made once, the parts shared by every log of a block
(number, hash, timestamp) once per block, and each log is then one string join.
:class:`EncodedLogs` keeps the encoded logs of recent blocks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from chainindex.filters import BlockLogs
from chainindex.header_extra import EXTRA_FIELDS, RLP_ORDER, HeaderExtra
from chainindex.hexutil import encode_data
from chainindex.types import ChainLog, Header

__all__ = [
    "CACHED_UP_TO",
    "EncodedLogs",
    "encode_block_logs",
    "encode_head",
    "encode_log",
    "encode_logs",
    "encode_logs_array",
]


class EncodedLogs:
    """The log objects of recent blocks, already encoded, by block hash: a byte-bounded LRU.

    Clients ask about the same recent blocks over and over (polling the head, overlapping
    ranges); a block met again costs a lookup instead of its encoding. A block's logs never
    change under its hash, so entries never go stale. Only blocks of at most
    :data:`CACHED_UP_TO` logs are kept (all their logs are encoded on first use, whichever
    are selected). Used from the event loop's thread only.
    """

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        """Budget for the strings held."""
        self._entries: OrderedDict[bytes, tuple[list[str], int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        """Blocks answered from the cache."""
        self.misses = 0
        """Blocks encoded."""

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, block: BlockLogs) -> bool:
        """Whether ``block``'s logs are held (no count, no reordering)."""
        return bytes(block.header.hash) in self._entries

    def logs_of(self, block: BlockLogs) -> list[str]:
        """Every log object of ``block``'s record, encoded (cached)."""
        key = bytes(block.header.hash)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]
        self.misses += 1
        every = BlockLogs(block.header, block.record, np.arange(len(block.record), dtype=np.intp))
        strings: list[str] = []
        _encode_block(every, strings)
        size = 64 + sum(len(text) + 56 for text in strings)
        if size <= self.max_bytes:
            self._entries[key] = (strings, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
        return strings


CACHED_UP_TO: Final = 512
"""Largest block (in logs) whose encoded logs :class:`EncodedLogs` keeps."""


def encode_block_logs(blocks: Sequence[BlockLogs], cache: EncodedLogs | None = None) -> str:
    """The log objects of ``blocks`` (their selected logs), comma-separated, no brackets;
    through ``cache`` when given, for blocks of which a quarter or more is selected or which
    it holds already (a few logs of a big block are encoded alone: encoding all of its logs
    to keep them would cost more than the answer)."""
    return ",".join(_log_objects(blocks, cache))


def encode_logs_array(blocks: Sequence[BlockLogs], cache: EncodedLogs | None = None) -> bytes:
    """:func:`encode_block_logs` as a JSON array, in UTF-8: the text is joined once and
    encoded once (a large answer is tens of MB, and each copy of it costs as much as
    encoding thousands of logs)."""
    parts = _log_objects(blocks, cache)
    if not parts:
        return b"[]"
    parts[0] = "[" + parts[0]
    parts[-1] += "]"
    return ",".join(parts).encode()


def _log_objects(blocks: Sequence[BlockLogs], cache: EncodedLogs | None) -> list[str]:
    """The log objects of ``blocks``, one string each (see :func:`encode_block_logs`)."""
    parts: list[str] = []
    for block in blocks:
        if (
            cache is not None
            and cache.max_bytes > 0
            and len(block.record) <= CACHED_UP_TO
            and (4 * len(block.indexes) >= len(block.record) or cache.holds(block))
        ):
            strings = cache.logs_of(block)
            if len(block.indexes) == len(strings):
                parts.extend(strings)
            else:
                parts.extend([strings[i] for i in block.indexes.tolist()])
        elif len(block.indexes) >= _COLUMNS_FROM:
            _encode_columns(block, parts)
        else:
            _encode_block(block, parts)
    return parts


_DENSE_UP_TO = 64
"""Blocks of at most this many logs take the list path whatever is selected (numpy's cost
per call is more than the lists' per element there)."""

_Row = tuple[int, int, int, int, int, int, int]
"""A selected log: index, address ref, transaction ref, first topic ref, topic count, data
start, data end."""


def _rows(block: BlockLogs) -> tuple[Iterable[_Row], Sequence[int]]:
    """The columns of the selected logs, and the topic references they point into: every
    column as a list when most logs are selected, else only the selected rows (numpy
    indexing)."""
    record, selected = block.record, block.indexes
    if len(record) <= _DENSE_UP_TO or 2 * len(selected) >= len(record):
        counts = record.log_topic_count.tolist()
        ends = record.data_ends.tolist()
        starts = list(accumulate(counts, initial=0))
        begins = [0, *ends]
        log_address = record.log_address.tolist()
        log_tx = record.log_tx.tolist()
        wanted = range(len(record)) if len(selected) == len(record) else selected.tolist()
        dense = (
            (i, log_address[i], log_tx[i], starts[i], counts[i], begins[i], ends[i]) for i in wanted
        )
        return dense, record.topic_refs.tolist()
    ends_array = record.data_ends
    sparse: Iterable[_Row] = zip(
        selected.tolist(),
        record.log_address[selected].tolist(),
        record.log_tx[selected].tolist(),
        record.topic_starts[selected].tolist(),
        record.log_topic_count[selected].tolist(),
        np.where(selected > 0, ends_array[selected - 1], 0).tolist(),
        ends_array[selected].tolist(),
        strict=True,
    )
    return sparse, cast(Sequence[int], record.topic_refs)


_QUANTITIES: Final = [f"{i:#x}" for i in range(4096)]
"""``logIndex`` and ``transactionIndex`` values as written (most are small)."""


def _quantity(value: int) -> str:
    return _QUANTITIES[value] if value < 4096 else f"{value:#x}"


def _encode_block(block: BlockLogs, out: list[str]) -> None:
    """Append the selected logs of one block to ``out``, one string each; the hex of a
    distinct address, topic or transaction is made the first time a log uses it, straight
    from the record's bytes, and the parts shared by the block's logs once."""
    record, header = block.record, block.header
    tx_indexes = record.tx_indexes
    rows, refs = _rows(block)
    address_json: dict[int, str] = {}
    topic_json: dict[int, str] = {}
    tx_json: dict[int, str] = {}
    tail = (
        f'","blockHash":"0x{header.hash.hex()}","blockTimestamp":"{header.timestamp:#x}",'
        '"logIndex":"'
    )
    middle = f'","blockNumber":"{header.number:#x}","transactionHash":'
    data = record.data
    append = out.append
    quantities = _QUANTITIES
    for index, address, tx, first, count, begin, end in rows:
        a = address_json.get(address)
        if a is None:
            a = address_json[address] = '{"address":"0x' + record.address_hex(address)
        t = tx_json.get(tx)
        if t is None:
            t = tx_json[tx] = (
                f'"0x{record.tx_hash_hex(tx)}","transactionIndex":"'
                f"{_quantity(int(tx_indexes[tx]))}{tail}"
            )
        names = []
        for ref in refs[first : first + count]:
            name = topic_json.get(ref)
            if name is None:
                name = topic_json[ref] = '"0x' + record.topic_hex(ref) + '"'
            names.append(name)
        append(
            f'{a}","topics":[{",".join(names)}],"data":"0x{data[begin:end].hex()}'
            f'{middle}{t}{quantities[index] if index < 4096 else _quantity(index)}",'
            '"removed":false}'
        )


_COLUMNS_FROM: Final = 16
"""Blocks with at least this many selected logs are encoded by :func:`_encode_columns`
(its dozen numpy calls per block cost more than they save below)."""

_TOPIC_HEAD: Final = np.frombuffer(b',"0x', dtype=np.uint8)
_TOPIC_WIDTH: Final = 69
"""``,"0x`` + 64 hex digits + ``"``: one topic as written, comma first."""


def _hex_rows(rows: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Lower-case hex digits of each row of ``rows``, ``(n, 2 * width)`` ASCII bytes."""
    digits = rows.tobytes().hex().encode()
    return np.frombuffer(digits, dtype=np.uint8).reshape(len(rows), 2 * rows.shape[1])


_QUANTITY_ARRAY: Final = np.array(_QUANTITIES, dtype=object)


def _quantities(values: npt.NDArray[np.integer]) -> list[str]:
    """``values`` as JSON quantities (``0x``-prefixed hex)."""
    if len(values) and int(values.max()) >= len(_QUANTITIES):
        return [f"{v:#x}" for v in values.tolist()]
    strings: list[str] = _QUANTITY_ARRAY[values].tolist()
    return strings


def _encode_columns(block: BlockLogs, out: list[str]) -> None:
    """:func:`_encode_block` for a block with many selected logs, in bulk: the addresses,
    transaction hashes and topics of the selected logs are gathered from the record's
    tables and written as hex text in one call each (the topics as fixed-width fragments
    ``,"0x…"`` with numpy), and each log is one string of slices of those and the parts
    shared by the block."""
    record, header, selected = block.record, block.header, block.indexes
    addresses = record.address_table[record.log_address[selected]].tobytes().hex()
    txs = record.log_tx[selected]
    tx_hashes = record.tx_table[txs].tobytes().hex()
    tx_indexes = _quantities(record.tx_indexes[txs])
    counts = record.log_topic_count[selected].astype(np.intp)
    ends = np.cumsum(counts)
    starts = ends - counts
    total = int(ends[-1]) if len(ends) else 0
    # each selected log's topic references, in order: its first reference + 0, 1, ...
    refs = record.topic_refs[
        np.repeat(record.topic_starts[selected] - starts, counts) + np.arange(total)
    ]
    width = _TOPIC_WIDTH
    fragments = np.empty((total, width), dtype=np.uint8)
    fragments[:, :4] = _TOPIC_HEAD
    fragments[:, 4:68] = _hex_rows(record.topic_table[refs])
    fragments[:, 68] = ord('"')
    topics = fragments.tobytes().decode("ascii")
    data, data_ends = record.data, record.data_ends
    begins = np.where(selected > 0, data_ends[selected - 1], 0).tolist()
    tail = (
        f'","blockHash":"0x{header.hash.hex()}","blockTimestamp":"{header.timestamp:#x}",'
        '"logIndex":"'
    )
    middle = f'","blockNumber":"{header.number:#x}","transactionHash":"0x'
    append = out.append
    for at, tx, first, last, begin, end, tx_index, index in zip(
        range(0, 40 * len(selected), 40),
        range(0, 64 * len(selected), 64),
        (width * starts + 1).tolist(),
        (width * ends).tolist(),
        begins,
        data_ends[selected].tolist(),
        tx_indexes,
        _quantities(selected),
        strict=True,
    ):
        append(
            f'{{"address":"0x{addresses[at : at + 40]}","topics":[{topics[first:last]}],'
            f'"data":"0x{data[begin:end].hex()}{middle}{tx_hashes[tx : tx + 64]}'
            f'","transactionIndex":"{tx_index}{tail}{index}","removed":false}}'
        )


def encode_log(log: ChainLog) -> str:
    """One log object (notifications, filter changes)."""
    topics = ",".join(f'"0x{t.hex()}"' for t in log.topics)
    return (
        f'{{"address":"0x{log.address.hex()}","topics":[{topics}],"data":"0x{log.data.hex()}",'
        f'"blockNumber":"{log.block_number:#x}","transactionHash":"0x{log.transaction_hash.hex()}",'
        f'"transactionIndex":"{log.transaction_index:#x}","blockHash":"0x{log.block_hash.hex()}",'
        f'"blockTimestamp":"{log.block_timestamp:#x}","logIndex":"{log.log_index:#x}",'
        f'"removed":{"true" if log.removed else "false"}}}'
    )


def encode_logs(logs: Iterable[ChainLog]) -> str:
    """A JSON array of log objects."""
    return "[" + ",".join(encode_log(log) for log in logs) + "]"


def encode_head(header: Header) -> dict[str, str]:
    """A ``newHeads`` notification: every header field stored, in go-ethereum's order (its
    JSON header, ``core/types/gen_header_json.go``: the RLP order, then ``hash``). A field
    the node did not give is left out (geth writes ``null`` for a fork field its block
    predates); a header stored by schema 2 has only the index's five."""
    out = {
        "parentHash": encode_data(header.parent_hash),
        "logsBloom": encode_data(header.logs_bloom),
        "number": hex(header.number),
        "timestamp": hex(header.timestamp),
    }
    if header.extra:
        extra = HeaderExtra.decode(header.extra, f"header of block {header.number}")
        for attr, name, kind in EXTRA_FIELDS:
            value = getattr(extra, attr)
            if value is not None:
                out[name] = hex(value) if kind == "int" else encode_data(value)
        out = {name: out[name] for name in RLP_ORDER if name in out}
    out["hash"] = encode_data(header.hash)
    return out
