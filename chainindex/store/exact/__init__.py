"""The exact log index: for every stored log, its address, and each topic together with its
position, mapped to the logs that carry it, as roaring bitmaps beside the bloom sections.

At bloom saturation (recent mainnet sets about half of a block's 2048 bloom bits) the blooms
cannot tell a rare address from noise; this index answers a filter with exactly the logs that
match, so a query reads only the logs records of blocks that hold an answer, including ANDs
of common values and position-specific topics (``[[A], null, [H]]``).

**Format 4** (:mod:`~chainindex.store.exact.keys`, :mod:`~chainindex.store.exact.chunks`,
:mod:`~chainindex.store.exact.counts`): a record per (value fingerprint, section), the key 13
bytes (``x`` · the first 8 bytes of keccak256 of the value's kind and bytes · section u32);
its positions are **dense** within the section (the i-th log of the section), as LEB128
varint gaps or, for a value with 64 logs or more, a portable roaring bitmap when shorter; a
per-section ``X`` record of log counts per block turns positions back into blocks and log
indexes. Format 3 spelt the value in the key and put the block offset in a position's high
bits (27% of the stored logs at saturation); dense positions make a common value's gaps
small and a rare value's record a few bytes. A section's records never change once written
(a reorg above them cannot renumber them). Two values sharing a fingerprint share a record,
the union of their logs: a collision only ever adds candidates, which verification turns
away.

**Modules.** :mod:`~chainindex.store.exact.keys` (the key layout),
:mod:`~chainindex.store.exact.positions` (log positions), :mod:`~chainindex.store.exact.extract`
(logs records → entries grouped by value, numpy), :mod:`~chainindex.store.exact.chunks` (a
record's bitmap), :mod:`~chainindex.store.exact.index` (:class:`ExactIndexStore`: coverage,
a section's records, truncation), :mod:`~chainindex.store.exact.reader` (a filter's positions
from the records), :mod:`~chainindex.store.exact.head` (:class:`HeadIndex`: the blocks above
the sections, in memory) and :mod:`~chainindex.store.exact.build` (building the sections of
a migrated directory).

Compared with Erigon's ``LogAddressIndex``/``LogTopicIndex`` (bitmaps of block numbers per
address and per topic, any position, chunked by block range): positions are of logs, not
blocks, and topics are keyed with their position, which is what makes ANDs exact. Compared
with go-ethereum's FilterMaps (EIP-7745): exact values instead of hashed rows with 1/256 false
matches, and no history window.
"""

from chainindex.store.exact.cache import ExactBitmapCache, ExactCacheStats
from chainindex.store.exact.head import HeadCoverage, HeadIndex
from chainindex.store.exact.index import ExactIndexStore
from chainindex.store.exact.keys import ADDRESS, ValueKey, value_key
from chainindex.store.exact.positions import PositionLayout
from chainindex.store.exact.reader import stored_positions

__all__ = [
    "ADDRESS",
    "ExactBitmapCache",
    "ExactCacheStats",
    "ExactIndexStore",
    "HeadCoverage",
    "HeadIndex",
    "PositionLayout",
    "ValueKey",
    "stored_positions",
    "value_key",
]
