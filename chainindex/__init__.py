"""Chain indexing: sources, the LevelDB store, the section indexer and the query path.

The packages follow the data from the upstream to an answer:

* :mod:`~chainindex.source`: where blocks come from (a node over JSON-RPC, a chain archive);
* :mod:`~chainindex.store`: the LevelDB data directory (key layouts, records, sections);
* :mod:`~chainindex.sync`: the indexer that follows a source into the store;
* :mod:`~chainindex.filters`: the query path (``eth_getLogs`` filters, installed filters);
* :mod:`~chainindex.logsearch`: decoded logs in the text index, and its feed;
* :mod:`~chainindex.textindex`: the text-search engine (Lucene's model), standing alone;
* :mod:`~chainindex.synthetic`: a deterministic, mainnet-like synthetic chain.

And four root modules: :mod:`~chainindex.types` (the chain's data in bytes and ints:
``Header``, ``ChainLog``, ``Block``), :mod:`~chainindex.errors` (every error, under
:class:`bloombits.errors.LogfilterError`), :mod:`~chainindex.hexutil` (strict hex at the
JSON-RPC edges) and :mod:`~chainindex.aio` (asyncio helpers).
"""
