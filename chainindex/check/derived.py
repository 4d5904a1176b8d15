"""The derived data of a data directory against the primary data it is built from.

* **Bloom sections**: every stored section's 2048 vectors (under ``B`` records or inside
  ``R`` rows, read as the query path reads them, :meth:`SectionStore.read_vectors`) are
  rebuilt from its headers' blooms with :class:`~bloombits.generator.Generator` and compared;
  its head record names its last block (go-ethereum's ``ChainIndexer`` keeps the same
  section head, ``core/chain_indexer.go``, and rebuilds a section whose head no longer
  matches).
* **Exact index**: for every section with records, the positions the index returns for each
  value the section's logs carry (their address, each topic at its position) are compared
  with the positions of the logs that carry it, read off the logs records here. The index is
  read only through its query API (:func:`~chainindex.filters.exact.index_groups`,
  :func:`~chainindex.store.exact.stored_positions`), never by its keys, so its layout may
  change under this check. A record under a value no log carries is not seen.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
from eth_typing import Address, Hash32

from bloombits.bloom import BLOOM_BIT_LENGTH
from bloombits.generator import Generator
from chainindex.check.problems import Problems
from chainindex.errors import CorruptDataError
from chainindex.filters.criteria import LogCriteria
from chainindex.filters.exact import index_groups
from chainindex.store.damage import EXACT_INDEX, SECTIONS, section_blocks
from chainindex.store.exact import PositionLayout, stored_positions
from chainindex.store.reader import ChainState, ChainView
from chainindex.store.sections import SectionStore

__all__ = ["CHUNK_SECTIONS", "check_exact_index", "check_sections"]

CHUNK_SECTIONS = 16
"""Sections compared at a time (their expected vectors: 16 MiB for sections of 4096)."""

U8 = npt.NDArray[np.uint8]


def _expected(
    view: ChainView, state: ChainState, section: int, problems: Problems
) -> tuple[bytes, U8] | None:
    """The head and vectors ``section`` should have, from its headers (None when they cannot
    be read: the chain check reports that)."""
    size = state.section_size
    first, last = section_blocks(size, section, section)
    tail = state.tail or 0
    try:
        run = view.blooms(max(first, tail), last)
    except CorruptDataError:
        return None
    if len(run) != last - max(first, tail) + 1:
        return None
    generator = Generator(size)
    offset = run.first - first
    if offset:
        generator.add_blooms(0, [bytes(256)] * offset)
    generator.add_blooms(offset, run.blooms)
    return bytes(run.hashes[-1]), generator.vectors()


def check_sections(
    view: ChainView, sections: SectionStore, state: ChainState, problems: Problems, lo: int
) -> int:
    """Check sections ``lo .. state.sections - 1``; returns how many were compared."""
    compared = 0
    for start in range(lo, state.sections, CHUNK_SECTIONS):
        stop = min(state.sections, start + CHUNK_SECTIONS) - 1
        blocks = section_blocks(state.section_size, start, stop)
        try:
            heads = sections.heads(start, stop, view.reader)
        except CorruptDataError as err:
            problems.add(SECTIONS, *blocks, f"unreadable: {err}", storage=True)
            continue
        wanted: dict[int, U8] = {}
        bad: dict[int, str] = {}
        for section in range(start, stop + 1):
            expected = _expected(view, state, section, problems)
            if expected is None:
                continue
            head = heads[section - start]
            if head is None:
                bad[section] = "no section head record"
            elif head != expected[0]:
                bad[section] = "section head record names another block"
            else:
                wanted[section] = expected[1]
        compared += _compare_vectors(view, sections, start, stop, heads, wanted, bad, problems)
        for section in sorted(bad):
            problems.add(SECTIONS, *section_blocks(state.section_size, section, section),
                         bad[section])  # fmt: skip
    return compared


def _compare_vectors(
    view: ChainView,
    sections: SectionStore,
    start: int,
    stop: int,
    heads: list[Hash32 | None],
    wanted: dict[int, U8],
    bad: dict[int, str],
    problems: Problems,
) -> int:
    """Compare the stored vectors of ``wanted``'s sections with it, noting the bad ones."""
    if not wanted:
        return 0
    order = sorted(wanted)
    offsets = np.array(order, dtype=np.int64) - start
    expected = np.stack([wanted[s] for s in order])  # (n, 2048, width)
    missing = np.zeros(len(order), dtype=np.bool_)
    differ = np.zeros(len(order), dtype=np.bool_)
    for bit in range(BLOOM_BIT_LENGTH):
        try:
            vectors, found = sections.read_vectors(bit, start, stop, view.reader, heads=heads)
        except CorruptDataError as err:
            blocks = section_blocks(sections.section_size, start, stop)
            problems.add(SECTIONS, *blocks, f"unreadable: {err}", storage=True)
            return 0
        missing |= ~found[offsets]
        differ |= (vectors[offsets] != expected[:, bit]).any(axis=1)
    for section, gone, wrong in zip(order, missing.tolist(), differ.tolist(), strict=True):
        if gone:
            bad[section] = "bloom vectors missing"
        elif wrong:
            bad[section] = "bloom vectors differ from the headers' blooms"
    return len(order)


def _section_values(
    view: ChainView, layout: PositionLayout, first: int, last: int
) -> dict[tuple[int, bytes], list[int]] | None:
    """Each (kind, value) the logs of blocks ``first..last`` carry → the absolute positions
    of those logs, ascending (None when the logs cannot be read: the chain check says so)."""
    values: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    try:
        headers = view.headers(first, last)
        for header in headers:
            record = view.logs_record(header)
            if record is None:
                return None
            base = header.number << layout.log_bits
            refs = record.topic_refs.tolist()
            at = 0
            for index, (address, count) in enumerate(
                zip(record.log_address.tolist(), record.log_topic_count.tolist(), strict=True)
            ):
                values[(0, record.addresses[address])].append(base + index)
                for position in range(count):
                    topic = record.topics[refs[at + position]]
                    values[(position + 1, topic)].append(base + index)
                at += count
    except CorruptDataError:
        return None
    if len(headers) != last - first + 1:
        return None
    return values


def _criteria(kind: int, value: bytes) -> LogCriteria:
    if kind == 0:
        return LogCriteria(addresses=(Address(value),))
    topics: list[tuple[Hash32, ...]] = [() for _ in range(kind - 1)]
    return LogCriteria(topics=(*topics, (Hash32(value),)))


def check_exact_index(
    view: ChainView,
    state: ChainState,
    exact_first: int,
    problems: Problems,
    lo: int,
    *,
    from_block: int = 0,
) -> int:
    """Check the exact index of sections ``max(lo, exact_first) .. state.sections - 1``
    (their blocks from ``from_block`` on); returns how many were compared."""
    size = state.section_size
    layout = PositionLayout(size)
    compared = 0
    for section in range(max(lo, exact_first, state.first_section), state.sections):
        first, last = section_blocks(size, section, section)
        first = max(first, state.tail or 0, from_block)
        values = _section_values(view, layout, first, last)
        if values is None:
            continue
        compared += 1
        wrong: list[int] = []
        try:
            for (kind, value), want in values.items():
                groups = index_groups(_criteria(kind, value))
                got = stored_positions(view.reader, layout, groups, first, last)
                expected = np.array(want, dtype=np.uint64)
                if len(got) != len(expected) or (got != expected).any():
                    both = np.setxor1d(got, expected)
                    wrong.extend(layout.split(both)[0].tolist())
        except CorruptDataError as err:
            problems.add(EXACT_INDEX, first, last, f"unreadable: {err}", storage=True)
            continue
        if wrong:
            problems.add(EXACT_INDEX, min(wrong), max(wrong), "records differ from the logs")
    return compared
