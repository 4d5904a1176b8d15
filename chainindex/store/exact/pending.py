"""``PendingEntries``: the index entries of the blocks the writer appended since the last
stored section, kept so that building a section does not read its logs back.

The writer (:class:`~chainindex.store.writer.ChainWriter`) hands every appended block's
encoded logs record here after its batch is written; the entries go into the
:class:`~chainindex.store.exact.extract.SectionEntries` of the block's section (about 12
bytes an entry: its value's id, its position, the distinct values once). When the section is
built, :meth:`PendingEntries.take` gives them whole, if they cover every block of the section
from its first (or the tail) in order; otherwise (the writer started in the middle of the
section, a reorg went through it, blocks beyond the cap were dropped) it gives None and the
section is built from its stored logs, as ``build-index`` and migrations do. A reorg drops
the entries of every section it touches (:meth:`PendingEntries.drop_from`). At most
:data:`SLACK_BLOCKS` blocks beyond one section are kept: more (a section held back by many
confirmations) and the oldest section's entries are dropped.

go-ethereum's bloombits ``ChainIndexer`` likewise feeds each new header to the section's
``Generator`` as it arrives, rather than reading the section back when it completes.
"""

from __future__ import annotations

from chainindex.store.codec import logs_columns
from chainindex.store.exact.extract import SectionEntries
from chainindex.store.exact.positions import PositionLayout

__all__ = ["SLACK_BLOCKS", "PendingEntries"]

SLACK_BLOCKS = 512
"""Blocks kept beyond one section (the confirmations a section waits for, typically)."""


class PendingEntries:
    """Entries of the appended blocks of the sections not stored yet (see the module)."""

    def __init__(self, layout: PositionLayout) -> None:
        self.layout = layout
        """The directory's position layout."""
        self._sections: dict[int, tuple[SectionEntries, int, int]] = {}
        """Section → (its entries, first block added, next block expected)."""

    @property
    def blocks(self) -> int:
        """Blocks whose entries are kept."""
        return sum(nxt - first for _, first, nxt in self._sections.values())

    def add(self, number: int, record: bytes) -> None:
        """Add block ``number``'s encoded logs record (appended in order)."""
        section = number // self.layout.section_size
        held = self._sections.get(section)
        if held is None:
            held = (SectionEntries(self.layout, section), number, number)
        entries, first, nxt = held
        if nxt != number:  # a gap: these entries cannot be whole any more
            self._sections.pop(section, None)
            return
        entries.add(number, logs_columns(record, f"logs of block {number}"))
        self._sections[section] = (entries, first, number + 1)
        while self.blocks > self.layout.section_size + SLACK_BLOCKS:
            del self._sections[min(self._sections)]

    def take(self, section: int, first: int, last: int) -> SectionEntries | None:
        """The entries of ``section`` if they hold exactly its blocks ``first..last``
        (forgotten here either way, with those of older sections)."""
        held = self._sections.pop(section, None)
        for older in [s for s in self._sections if s < section]:
            del self._sections[older]
        if held is None:
            return None
        entries, got_first, nxt = held
        return entries if (got_first, nxt) == (first, last + 1) else None

    def drop_from(self, block: int) -> None:
        """Forget the sections holding ``block`` and above (a reorg rewrites them)."""
        limit = block // self.layout.section_size
        for section in [s for s in self._sections if s >= limit]:
            del self._sections[section]
