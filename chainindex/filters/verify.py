"""Exact verification of candidate blocks against their logs.

A bloom match only says a block *may* hold a matching log; the answer is decided here, on the
block's logs as stored (``LogsRecord``, columnar): the criteria are tested once per distinct
address and topic of the block (a set lookup each), then spread over the logs with numpy
indexing, so the per-log cost is a few array operations whatever the block's size.

:func:`verify_blocks` checks many candidate blocks in one call, meant for a worker thread
over one snapshot: it reads each block's canonical header and logs record, selects the
matching logs and checks the query's anchor (see
:class:`~chainindex.filters.planning.SearchPlan`) so that every block of the answer belongs
to one chain. Blocks whose logs are not stored (headers-only mode) are handed back for the
caller to fetch from the upstream (:func:`record_of` turns fetched logs into a record).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import numpy.typing as npt
from eth_typing import Hash32

from bloombits.arrays import Indexes
from chainindex.errors import ChainReorgedError, CorruptDataError
from chainindex.filters.criteria import LogCriteria
from chainindex.filters.records import Prefilter, RecordCache
from chainindex.store.codec import LogsRecord, encode_logs, logs_record_may_match
from chainindex.store.reader import ChainView
from chainindex.types import ChainLog, Header

__all__ = [
    "BlockLogs",
    "LogCandidates",
    "RecordMatcher",
    "Verified",
    "record_of",
    "verify_blocks",
    "verify_exact",
]


_SMALL = 32
"""Records of at most this many logs are matched with plain Python."""

_PREFILTER_VALUES = 16
"""Most addresses, and accepted topics per position, for which a raw record is searched
before it is parsed (one ``find`` each)."""

Anchor = tuple[int, Hash32]
"""A block number and the canonical hash it must still have."""


@dataclass(frozen=True, slots=True)
class BlockLogs:
    """The matching logs of one block: the block's record and the positions selected."""

    header: Header
    """The block."""
    record: LogsRecord
    """All of the block's logs, as columns."""
    indexes: Indexes
    """Positions (= ``logIndex``) of the matching logs, ascending; never empty."""

    def __len__(self) -> int:
        return len(self.indexes)

    def logs(self) -> list[ChainLog]:
        """The matching logs as :class:`ChainLog` objects."""
        every = self.record.logs(self.header)
        return [every[i] for i in self.indexes.tolist()]


class RecordMatcher:
    """:class:`LogCriteria` compiled for testing logs records (see the module docstring)."""

    def __init__(self, criteria: LogCriteria) -> None:
        self.criteria = criteria
        """What is matched."""
        self.addresses: frozenset[bytes] = frozenset(criteria.addresses)
        """Accepted addresses (empty: any)."""
        self.positions: tuple[tuple[int, frozenset[bytes]], ...] = tuple(
            (i, frozenset(values)) for i, values in enumerate(criteria.topics) if values
        )
        """Non-wildcard topic positions and their accepted values."""
        self.min_topics = len(criteria.topics)
        """Fewest topics a matching log has."""
        self.prefilter: Prefilter | None = None
        """A look at a raw record that turns away blocks holding none of the wanted values
        (:func:`~chainindex.store.codec.logs_record_may_match`); None when there is nothing to look
        for, or too much."""
        if (self.addresses or self.positions) and all(
            len(values) <= _PREFILTER_VALUES
            for values in (self.addresses, *(v for _, v in self.positions))
        ):
            self.prefilter = partial(
                logs_record_may_match,
                addresses=self.addresses,
                positions=[v for _, v in self.positions],
            )
        self.address_keys = _keys(self.addresses, 20) if self.addresses else None
        """:attr:`addresses` as a numpy array of 20-byte strings (None: any address)."""
        self.topic_keys = tuple((i, _keys(values, 32)) for i, values in self.positions)
        """:attr:`positions` with their values as numpy arrays of 32-byte strings."""

    def select(self, record: LogsRecord) -> Indexes:
        """Positions of the logs of ``record`` that match, ascending."""
        n = len(record)
        if not n:
            return np.zeros(0, dtype=np.intp)
        if n <= _SMALL:
            return self._select_small(record)
        return self._check(record, None)

    def confirm(self, record: LogsRecord, indexes: Indexes) -> Indexes:
        """Those of the logs ``indexes`` (ascending positions in ``record``, named by the
        exact index) that match: the values are compared (the index knows fingerprints), the
        topic count checked; only these logs are looked at. A position past the record's
        logs is :class:`CorruptDataError`."""
        if len(indexes) and int(indexes[-1]) >= len(record):
            raise CorruptDataError(
                f"the exact log index names log {int(indexes[-1])} of a block of {len(record)}"
            )
        if len(record) <= _SMALL:  # plain Python, as select does (numpy's calls cost more)
            named = set(indexes.tolist())
            kept = [i for i in self._select_small(record).tolist() if i in named]
            return np.array(kept, dtype=np.intp)
        return self._check(record, indexes)

    def _check(self, record: LogsRecord, selected: Indexes | None) -> Indexes:
        """The logs of ``selected`` (None: all of the record's) that match, with numpy over
        the record's columns and a comparison per distinct value used."""
        if self.address_keys is not None:
            refs = record.log_address if selected is None else record.log_address[selected]
            ok = _member(record.address_table, refs, self.address_keys)
            selected = np.flatnonzero(ok) if selected is None else selected[ok]
        if self.min_topics:
            counts = record.log_topic_count
            if selected is None:
                selected = np.flatnonzero(counts >= self.min_topics)
            else:
                selected = selected[counts[selected] >= self.min_topics]
            if self.topic_keys and len(selected):
                starts = record.topic_starts[selected]
                for position, keys in self.topic_keys:
                    ok = _member(record.topic_table, record.topic_refs[starts + position], keys)
                    selected, starts = selected[ok], starts[ok]
                    if not len(selected):
                        break
        if selected is None:
            return np.arange(len(record), dtype=np.intp)
        return selected

    def _select_small(self, record: LogsRecord) -> Indexes:
        """:meth:`select` for a small record, log by log over Python lists (numpy's cost
        per call is more than a short loop's)."""
        wanted, positions, least = self.addresses, self.positions, self.min_topics
        counts = record.log_topic_count.tolist()
        if wanted:
            known = [a in wanted for a in record.addresses]
            address_ok = [known[a] for a in record.log_address.tolist()]
        else:
            address_ok = [True] * len(counts)
        if not positions:
            out = [i for i, c in enumerate(counts) if c >= least and address_ok[i]]
            return np.array(out, dtype=np.intp)
        topics, refs = record.topics, record.topic_refs.tolist()
        out = []
        at = 0
        for i, count in enumerate(counts):
            if (
                count >= least
                and address_ok[i]
                and all(topics[refs[at + p]] in values for p, values in positions)
            ):
                out.append(i)
            at += count
        return np.array(out, dtype=np.intp)


def _keys(values: Iterable[bytes], width: int) -> npt.NDArray[np.bytes_]:
    """``values`` of ``width`` bytes as a sorted numpy array of fixed-width strings (others
    can match nothing). Fixed-width strings compare as their bytes: numpy's padding of
    trailing zero bytes is the same for every value of one width."""
    return np.array(sorted(v for v in values if len(v) == width), dtype=f"S{width}")


_MANY_KEYS = 8
"""Above this many accepted values, membership is tested with ``np.isin`` (a sort) instead
of one comparison per value."""


def _member(
    table: npt.NDArray[np.uint8], refs: npt.NDArray[np.uint32], keys: npt.NDArray[np.bytes_]
) -> npt.NDArray[np.bool_]:
    """Per reference: whether the row of ``table`` it names is one of ``keys``. The rows
    are compared once each (the whole table when the references outnumber its rows, else
    the rows referred to)."""
    width = table.shape[1]
    if len(refs) >= len(table):
        rows = table.view(f"S{width}").ravel()
        return _in(rows, keys)[refs]
    return _in(np.ascontiguousarray(table[refs]).view(f"S{width}").ravel(), keys)


def _in(rows: npt.NDArray[np.bytes_], keys: npt.NDArray[np.bytes_]) -> npt.NDArray[np.bool_]:
    if not len(keys):
        return np.zeros(len(rows), dtype=np.bool_)
    if len(keys) > _MANY_KEYS:
        return np.isin(rows, keys)
    ok: npt.NDArray[np.bool_] = rows == keys[0]
    for key in keys[1:]:
        ok |= rows == key
    return ok


@dataclass(slots=True)
class Verified:
    """What one verification call found."""

    found: list[BlockLogs] = field(default_factory=list)
    """Blocks with matching logs, ascending."""
    unstored: list[Header] = field(default_factory=list)
    """Candidate blocks whose logs are not stored (to be fetched), ascending."""
    checked: int = 0
    """Candidate blocks looked at."""


def check_anchor(view: ChainView, anchor: Anchor | None) -> None:
    """Raise :class:`ChainReorgedError` when the anchor block is no longer canonical."""
    if anchor is not None and view.canonical_hash(anchor[0]) != anchor[1]:
        raise ChainReorgedError(f"the chain was reorganised at or below block {anchor[0]}")


def verify_headers(
    view: ChainView,
    headers: Iterable[Header],
    matcher: RecordMatcher,
    out: Verified,
    records: RecordCache | None = None,
) -> None:
    """Verify blocks whose canonical headers are known (from the same snapshot), their
    records read through ``records`` if given."""
    for header in headers:
        record = (
            view.logs_record(header)
            if records is None
            else records.get(view, header, matcher.prefilter)
        )
        _verify_one(header, record, matcher, out)


def _verify_one(
    header: Header, record: LogsRecord | None, matcher: RecordMatcher, out: Verified
) -> None:
    """Add one candidate block to ``out``: unstored (no record), found, or only checked."""
    out.checked += 1
    if record is None:
        out.unstored.append(header)
        return
    indexes = matcher.select(record)
    if len(indexes):
        out.found.append(BlockLogs(header, record, indexes))


def verify_blocks(
    view: ChainView,
    numbers: Sequence[int] | npt.NDArray[np.int64],
    matcher: RecordMatcher,
    anchor: Anchor | None = None,
    records: RecordCache | None = None,
) -> Verified:
    """Verify the candidate blocks ``numbers`` (ascending) in the snapshot ``view``."""
    check_anchor(view, anchor)
    listed = numbers.tolist() if isinstance(numbers, np.ndarray) else numbers
    out = Verified()
    if records is None:
        headers = []
        for number in listed:
            header = view.header(number)
            if header is None:
                raise CorruptDataError(f"candidate block {number} is not stored")
            headers.append(header)
        verify_headers(view, headers, matcher, out)
        return out
    for number in listed:
        block = records.block(view, number, matcher.prefilter)
        if block is None:
            raise CorruptDataError(f"candidate block {number} is not stored")
        _verify_one(*block, matcher, out)
    return out


@dataclass(frozen=True, slots=True)
class LogCandidates:
    """Blocks named by the exact log index with, for each, the logs it named (ascending)."""

    blocks: npt.NDArray[np.int64]
    """The blocks, ascending, each once."""
    bounds: npt.NDArray[np.int64]
    """``logs[bounds[i]:bounds[i + 1]]`` are block ``i``'s logs (one more than blocks)."""
    logs: npt.NDArray[np.int64]
    """Log indexes within their blocks, block after block."""

    @classmethod
    def of(cls, blocks: npt.NDArray[np.int64], logs: npt.NDArray[np.int64]) -> LogCandidates:
        """From one (block, log index) pair per log, in ascending order."""
        starts = np.flatnonzero(np.concatenate([[True], blocks[1:] != blocks[:-1]]))
        if not len(blocks):
            starts = np.zeros(0, dtype=np.int64)
        bounds = np.append(starts, len(blocks)).astype(np.int64)
        return cls(blocks[starts], bounds, logs)

    def __len__(self) -> int:
        return len(self.blocks)

    def part(self, start: int, stop: int) -> LogCandidates:
        """Blocks ``start`` to ``stop`` (exclusive) of these."""
        stop = min(stop, len(self.blocks))
        start = min(start, stop)
        bounds = self.bounds[start : stop + 1]
        logs = self.logs[bounds[0] : bounds[-1]]
        return LogCandidates(self.blocks[start:stop], bounds - bounds[0], logs)


def verify_exact(
    view: ChainView,
    candidates: LogCandidates,
    matcher: RecordMatcher,
    anchor: Anchor | None = None,
    records: RecordCache | None = None,
) -> Verified:
    """Verify the exact index's candidate logs in the snapshot ``view``: each block's record
    read once (no prefilter: the index says it holds a match), only the logs the index named
    checked (:meth:`RecordMatcher.confirm`)."""
    check_anchor(view, anchor)
    out = Verified()
    bounds = candidates.bounds.tolist()
    logs = candidates.logs
    for at, number in enumerate(candidates.blocks.tolist()):
        if records is None:
            header = view.header(number)
            block = None if header is None else (header, view.logs_record(header))
        else:
            block = records.block(view, number)
        if block is None:
            raise CorruptDataError(f"candidate block {number} is not stored")
        header, record = block
        out.checked += 1
        if record is None:
            out.unstored.append(header)
            continue
        indexes = matcher.confirm(record, logs[bounds[at] : bounds[at + 1]])
        if len(indexes):
            out.found.append(BlockLogs(header, record, indexes))
    return out


def record_of(logs: Sequence[ChainLog]) -> LogsRecord:
    """The columnar record of logs fetched from the upstream (headers-only mode)."""
    return LogsRecord.parse(encode_logs(logs), "logs fetched from the upstream")
