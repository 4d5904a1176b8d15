"""The query path: log filters answered from the exact log index, the bloom sections and
the stored logs.

* :mod:`~chainindex.filters.criteria`: what a query asks (:class:`LogCriteria`,
  :class:`LogQuery`, :class:`BlockTag`), typed, bytes and ints;
* :mod:`~chainindex.filters.planning`: bounds resolved against the synced chain as geth
  does, limits, and the planner's rule: the split between the exact index, the head index,
  the bloom matcher and the header-bloom scan;
* :mod:`~chainindex.filters.exact`: the exact path, a filter's matching blocks from the
  exact log index (stored records and the head index), the result limit from its counts;
* :mod:`~chainindex.filters.candidates`: the header-bloom scan of the unindexed part;
* :mod:`~chainindex.filters.direct`: candidates of short indexed stretches from the vectors;
* :mod:`~chainindex.filters.verify`: exact, vectorised matching of candidate blocks' logs;
* :mod:`~chainindex.filters.records`: the cache of recent blocks' parsed logs records;
* :mod:`~chainindex.filters.firstcall`: a range query's first worker call, which plans it
  and answers it there when it is small;
* :mod:`~chainindex.filters.engine`: :class:`LogQueryEngine`, which runs it all
  (:mod:`~chainindex.filters.config`: its settings and counters;
  :mod:`~chainindex.filters.stretches`: the verification of each stretch, counted per path);
* :mod:`~chainindex.filters.installed`: installed polling filters (:class:`FilterTable`).
"""

from __future__ import annotations

from chainindex.filters.config import Finality, QueryConfig, QueryStats
from chainindex.filters.criteria import BlockRef, BlockTag, LogCriteria, LogQuery
from chainindex.filters.engine import LogQueryEngine
from chainindex.filters.installed import FilterKind, FilterTable, InstalledFilter, event_logs
from chainindex.filters.verify import BlockLogs, RecordMatcher

__all__ = [
    "BlockLogs",
    "BlockRef",
    "BlockTag",
    "FilterKind",
    "FilterTable",
    "Finality",
    "InstalledFilter",
    "LogCriteria",
    "LogQuery",
    "LogQueryEngine",
    "QueryConfig",
    "QueryStats",
    "RecordMatcher",
    "event_logs",
]
