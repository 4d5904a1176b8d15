"""A Lucene-style inverted index over decoded logs, in Python with numpy.

The map, in Lucene's vocabulary (seed 002, 003, 004):

- :mod:`.analysis` (analyzers), :mod:`.document` (what is indexed);
- :mod:`.codec` (segment formats: terms dictionary, postings, positions, stored fields,
  points, norms, doc values, live docs, compound file), :mod:`.docset` (the iterator
  contract) and :mod:`.postingsenum`;
- :mod:`.buffer` (in-memory inversion), :mod:`.segmentwriter`, :mod:`.segmentreader`,
  :mod:`.fieldreader`;
- :mod:`.writer` (IndexWriter: add, delete, flush, commit), :mod:`.commit` (commit points),
  :mod:`.directory`, :mod:`.merge` (policies, merger, background scheduler);
- :mod:`.reader` (IndexReader snapshots), :mod:`.searcher` (IndexSearcher),
  :mod:`.query` (one module per query family), :mod:`.scoring` (BM25),
  :mod:`.collector` (top-k, sort, cursors), :mod:`.cache` (filter cache),
  :mod:`.highlight`, :mod:`.queryparser`;
- :mod:`.logindex`: :class:`~.logindex.TextIndex`, the log-level API the service uses
  (import it from there: it depends on :mod:`chainindex.logsearch.decode`, which depends on this
  package's document model).
"""

from chainindex.textindex.collector import RELEVANCE, ScoreDoc, Sort, SortField, TopDocs
from chainindex.textindex.document import Document
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig

__all__ = [
    "RELEVANCE",
    "Document",
    "IndexReader",
    "IndexSearcher",
    "IndexWriter",
    "ScoreDoc",
    "Sort",
    "SortField",
    "TopDocs",
    "WriterConfig",
]
