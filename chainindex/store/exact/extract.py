"""From logs records to index entries: every (value, log) pair of a run of blocks, grouped
by value, with numpy over the columnar :class:`~chainindex.store.codec.LogsRecord`.

A log has one address entry (kind 0) and one entry per topic (kind ``1 + position``), read
from the record's columns (:func:`~chainindex.store.codec.logs_columns`: numpy views, no
object per value). Entries refer to rows of the blocks' own tables of distinct addresses and
topics; every :data:`COMPACT_ROWS` rows those are matched with the section's distinct values
so far (by a 64-bit hash of each row, checked against the row itself, so equal hashes of
different values are told apart exactly), which keeps memory at about 9 bytes per entry plus
the distinct values. The values come out grouped with a stable sort by value id: the entries
of a value are appended block by block in log order, so its positions come out ascending.

Erigon's ``LogAddressIndex``/``LogTopicIndex`` collect the same pairs per block range
(``core/state/db_state_writer.go``), with a map per value; here there is no per-entry Python.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from chainindex.errors import ExactIndexError
from chainindex.store.codec import LogsColumns
from chainindex.store.exact.keys import ValueKey
from chainindex.store.exact.positions import PositionLayout

__all__ = ["COMPACT_ROWS", "SectionEntries", "row_hashes", "value_fingerprints"]

COMPACT_ROWS = 1 << 18
"""Table rows gathered before they are deduplicated."""
_KEYS_AT_ONCE = 1 << 16
"""Value ids turned into Python ints at a time."""
_DENSE_AT_ONCE = 1 << 20
"""Positions made dense at a time."""

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_MUL = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def row_hashes(rows: U8, kinds: U64 | None = None) -> U64:
    """A 64-bit hash of each row of a ``(n, width)`` byte matrix (splitmix64's finaliser over
    the row's 8-byte words), with each row's kind mixed in when given."""
    n, width = rows.shape
    padded = -width % 8
    if padded:
        rows = np.concatenate([rows, np.zeros((n, padded), dtype=np.uint8)], axis=1)
    words = np.ascontiguousarray(rows).view("<u8")
    h = np.zeros(n, dtype=np.uint64) if kinds is None else kinds * _MIX2
    with np.errstate(over="ignore"):
        for i in range(words.shape[1]):
            h = (h ^ words[:, i]) * _MUL
            h ^= h >> np.uint64(31)
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    return h


def value_fingerprints(values: list[ValueKey]) -> U64:
    """The fingerprints the head index files ``values`` under (as :meth:`SectionEntries.
    fingerprints` computes them for entries)."""
    out = np.zeros(len(values), dtype=np.uint64)
    for width in (20, 32):
        picked = [i for i, v in enumerate(values) if len(v) == width + 1]
        if picked:
            rows = np.frombuffer(b"".join(values[i][1:] for i in picked), dtype=np.uint8)
            kinds = np.array([values[i][0] for i in picked], dtype=np.uint64)
            out[picked] = row_hashes(rows.reshape(-1, width), kinds)
    return out


class _Table:
    """Distinct rows of one width (addresses or topics) gathered from blocks. A block's rows
    are pending until :meth:`compact` gives each its distinct row's id: ids never change,
    new distinct rows take the next ones. Rows are matched by a 64-bit hash checked against
    the rows themselves; a hash shared by different rows (crafted, or very bad luck) turns
    the table to matching whole rows through a dict, slower but as exact."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.table: U8 = np.zeros((0, width), dtype=np.uint8)
        """The distinct rows, by id."""
        self._hashes: U64 = np.zeros(0, dtype=np.uint64)
        """Hashes of the distinct rows, ascending."""
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        """The id of each of ``_hashes``."""
        self._exact: dict[bytes, int] | None = None
        self.parts: list[U8] = []
        self.pending = 0

    def add(self, rows: U8) -> int:
        """Make a block's rows pending; returns the pending index of the first."""
        base = self.pending
        if len(rows):
            # A copy: ``rows`` is a view into the block's whole logs record (its data too),
            # which the view would keep alive until the next compaction: about 20 MiB of
            # saturated records over the 500 blocks between two.
            self.parts.append(rows.copy())
            self.pending += len(rows)
        return base

    def compact(self) -> I64:
        """The id of each pending row (by pending index); no row is pending after."""
        pending = np.concatenate(self.parts) if self.parts else self.table[:0]
        self.parts, self.pending = [], 0
        if not len(pending):
            return np.zeros(0, dtype=np.int64)
        if self._exact is None:
            found = self._by_hash(pending)
            if found is not None:
                return found
            self._exact = {row.tobytes(): i for i, row in enumerate(self.table)}
        return self._by_bytes(pending)

    def _by_hash(self, pending: U8) -> I64 | None:
        hashes = row_hashes(pending)
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        if not (pending[first[inverse]] == pending).all():
            return None
        at = np.searchsorted(self._hashes, distinct)
        known = at < len(self._hashes)
        known[known] = self._hashes[at[known]] == distinct[known]
        ids = np.empty(len(distinct), dtype=np.int64)
        ids[known] = self._ids[at[known]]
        if not (self.table[ids[known]] == pending[first[known]]).all():
            return None
        new = np.flatnonzero(~known)
        ids[new] = len(self.table) + np.arange(len(new))
        self.table = np.concatenate([self.table, pending[first[new]]])
        merged = np.concatenate([self._hashes, distinct[new]])
        order = np.argsort(merged, kind="stable")
        self._hashes = merged[order]
        self._ids = np.concatenate([self._ids, ids[new]])[order]
        out: I64 = ids[inverse.reshape(-1)]
        return out

    def _by_bytes(self, pending: U8) -> I64:
        exact = self._exact
        assert exact is not None
        ids = np.empty(len(pending), dtype=np.int64)
        new: list[U8] = []
        for index, row in enumerate(pending):
            key = row.tobytes()
            found = exact.get(key)
            if found is None:
                found = exact[key] = len(self.table) + len(new)
                new.append(row)
            ids[index] = found
        if new:
            self.table = np.concatenate([self.table, np.stack(new)])
        return ids


class SectionEntries:
    """The entries of blocks of one section, added one logs record at a time."""

    def __init__(self, layout: PositionLayout, section: int) -> None:
        self.layout = layout
        """Position layout of the directory."""
        self.section = section
        """The section the blocks belong to."""
        self._addresses = _Table(20)
        self._topics = _Table(32)
        self._pending: list[tuple[npt.NDArray[np.uint8], U32, U32]] = []
        self._done: list[tuple[npt.NDArray[np.uint8], U32, U32]] = []
        self.entries = 0
        """Entries added so far."""
        self.counts: U32 = np.zeros(layout.section_size, dtype=np.uint32)
        """Logs of each block added, by offset in the section (what the ``X`` record keeps)."""

    def add(self, number: int, columns: LogsColumns) -> None:
        """Add the logs of block ``number`` (in this section)."""
        n = len(columns)
        if not n:
            return
        layout = self.layout
        layout.check_logs(number, n)
        offset = number - self.section * layout.section_size
        if not 0 <= offset < layout.section_size:
            raise ValueError(f"block {number} is not in section {self.section}")
        positions = np.arange(n, dtype=np.uint32) | np.uint32(offset << layout.log_bits)
        self.counts[offset] = n
        a_base = self._addresses.add(columns.addresses)
        t_base = self._topics.add(columns.topics)
        counts = columns.log_topic_count
        total = len(columns.topic_refs)
        self._pending.append(
            (np.zeros(n, dtype=np.uint8), columns.log_address + np.uint32(a_base), positions)
        )
        if total:
            owner = np.repeat(np.arange(n), counts)
            starts = np.cumsum(counts, dtype=np.int64) - counts
            slot = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
            kinds = (slot + 1).astype(np.uint8)
            self._pending.append((kinds, columns.topic_refs + np.uint32(t_base), positions[owner]))
        self.entries += n + total
        if self._addresses.pending + self._topics.pending >= COMPACT_ROWS:
            self._compact()

    def _compact(self) -> None:
        """Give the pending entries the ids of their values."""
        a_map, t_map = self._addresses.compact(), self._topics.compact()
        if not self._pending:
            return
        kinds = np.concatenate([k for k, _, _ in self._pending])
        rows = np.concatenate([r for _, r, _ in self._pending])
        positions = np.concatenate([p for _, _, p in self._pending])
        self._pending = []
        is_address = kinds == 0
        mapped = np.empty_like(rows)
        mapped[is_address] = a_map[rows[is_address]]
        mapped[~is_address] = t_map[rows[~is_address]]
        self._done.append((kinds, mapped, positions))

    def _entries(self) -> tuple[npt.NDArray[np.uint8], U32, U32]:
        """Every entry (kind, id of its value, position), in the order added; consumed."""
        self._compact()
        done, self._done = self._done, []
        if not done:
            return np.zeros(0, np.uint8), np.zeros(0, np.uint32), np.zeros(0, np.uint32)
        kinds = np.concatenate([k for k, _, _ in done])
        rows = np.concatenate([r for _, r, _ in done])
        positions = np.concatenate([p for _, _, p in done])
        return kinds, rows, positions

    def _sorted_keys(self) -> U64:
        """Every entry as one little-endian u64: the id of its value in the high half (an
        address's row; a topic's kind and row after the addresses: fewer than 5 ids an
        entry), its position in the low half; ascending, which is the entries grouped by
        value with each value's positions ascending (a value has a position at most once).
        Consumes the compacted entries, each part freed as soon as it is written, and sorts
        in place: about 8 bytes an entry where grouping them through an argsort took 24."""
        n_addresses, n_topics = len(self._addresses.table), len(self._topics.table)
        done, self._done = self._done, []
        packed = np.empty(sum(len(kinds) for kinds, _, _ in done), dtype="<u8")
        halves = packed.view("<u4").reshape(-1, 2)
        at = 0
        while done:
            kinds, rows, positions = done.pop()
            part = halves[at : at + len(kinds)]
            at += len(kinds)
            part[:, 0] = positions
            ids = part[:, 1]
            ids[:] = kinds
            ids -= np.uint32(1)  # wraps for addresses, which are overwritten below
            ids *= np.uint32(n_topics)
            ids += np.uint32(n_addresses)
            ids += rows
            is_address = kinds == 0
            ids[is_address] = rows[is_address]
            del kinds, rows, positions, part, ids, is_address
        packed.sort()
        return packed

    def _groups(self) -> tuple[U32, U32, I64]:
        """The value id of each group, every position (grouped, ascending within a group)
        and the groups' bounds. Consumes the entries."""
        self._compact()  # the tables grow: the ids need their final sizes
        packed = self._sorted_keys()
        halves = packed.view("<u4").reshape(-1, 2)
        positions = halves[:, 0].copy()
        if not len(packed):
            return np.zeros(0, dtype=np.uint32), positions, np.zeros(1, dtype=np.int64)
        ids = halves[:, 1]
        starts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        bounds = np.concatenate([[0], starts, [len(ids)]]).astype(np.int64)
        return ids[bounds[:-1]], positions, bounds

    def _value_keys(self, ids: U32) -> Iterator[ValueKey]:
        """The value of each of ``ids``, made one at a time."""
        n_addresses, n_topics = len(self._addresses.table), len(self._topics.table)
        addresses = self._addresses.table.tobytes()
        topics = self._topics.table.tobytes()
        for at in range(0, len(ids), _KEYS_AT_ONCE):
            for value_id in ids[at : at + _KEYS_AT_ONCE].tolist():
                if value_id < n_addresses:
                    yield b"\x00" + addresses[value_id * 20 : value_id * 20 + 20]
                else:
                    kind, row = divmod(value_id - n_addresses, n_topics)
                    yield bytes([kind + 1]) + topics[row * 32 : row * 32 + 32]

    def value_stream(self) -> tuple[Iterator[ValueKey], U32, I64]:
        """:meth:`value_groups` with the values made as they are iterated (a saturated
        section has about 400k: some 25 MiB as a list of ``bytes``)."""
        ids, positions, bounds = self._groups()
        return self._value_keys(ids), positions, bounds

    def value_groups(self) -> tuple[list[ValueKey], U32, I64]:
        """Every value of the blocks added (in no particular order), the positions of all of
        them (value ``i``'s are ``positions[bounds[i] : bounds[i + 1]]``, ascending) and the
        bounds. Consumes the entries."""
        keys, positions, bounds = self.value_stream()
        return list(keys), positions, bounds

    def grouped(self) -> Iterator[tuple[ValueKey, U32]]:
        """Every value of the blocks added with its positions (ascending), values in no
        particular order (see :meth:`value_groups`; consumes the entries)."""
        keys, positions, bounds = self.value_groups()
        edges = bounds.tolist()
        for index, key in enumerate(keys):
            yield key, positions[edges[index] : edges[index + 1]]

    def dense(self, positions: U32) -> U32:
        """Positions of the blocks added as dense positions within the section (the i-th log
        of the section is ``i``; see :mod:`~chainindex.store.exact.counts`), in place: the
        array given is overwritten and returned."""
        total = int(self.counts.sum(dtype=np.uint64))
        if total > 0xFFFFFFFF:
            raise ExactIndexError(
                f"section {self.section} holds {total} logs, more than the exact log index "
                "counts per section: sync into a new data directory with a smaller "
                "--section-size"
            )
        starts = np.zeros(len(self.counts), dtype=np.uint32)
        np.cumsum(self.counts[:-1], out=starts[1:])
        shift, mask = np.uint32(self.layout.log_bits), np.uint32(self.layout.max_logs - 1)
        for at in range(0, len(positions), _DENSE_AT_ONCE):  # bounded temporaries
            part = positions[at : at + _DENSE_AT_ONCE]
            first_logs = starts[part >> shift]
            part &= mask
            part += first_logs
        return positions

    def fingerprints(self) -> tuple[U64, U32]:
        """Every entry as ``(fingerprint of its value, position)``, sorted by fingerprint
        then position (what the head index keeps)."""
        kinds, rows, positions = self._entries()
        fps = np.zeros(len(kinds), dtype=np.uint64)
        is_address = kinds == 0
        if is_address.any():
            fps[is_address] = row_hashes(self._addresses.table)[rows[is_address]]
        if not is_address.all():
            picked = ~is_address
            slots = rows[picked].astype(np.int64) * 4 + kinds[picked] - 1
            distinct, inverse = np.unique(slots, return_inverse=True)
            hashes = row_hashes(
                self._topics.table[distinct // 4], (distinct % 4 + 1).astype(np.uint64)
            )
            fps[picked] = hashes[inverse.reshape(-1)]
        order = np.lexsort((positions, fps))
        return fps[order], positions[order]
