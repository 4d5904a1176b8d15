"""A Lucene-style inverted index over decoded logs, in Python with numpy.

The engine stands alone: it imports nothing from the chain side (only the project's root
error, :class:`bloombits.errors.LogfilterError`). The log-level API the service uses,
:class:`chainindex.logsearch.index.TextIndex`, is built on it in :mod:`chainindex.logsearch`.

The map, one module a line, in Lucene's vocabulary (tantivy's where it is closer):

- :mod:`.arrays`: the numpy array aliases of the engine;
- :mod:`.errors`: the engine's errors (``TextIndexError`` and below);
- :mod:`.document`: what is indexed (Lucene's ``Document``: keyword, text, point fields);
- :mod:`.analysis`: analyzers (``StandardAnalyzer``, ``KeywordAnalyzer``) and their tokens;
- :mod:`.docids`: set algebra on sorted arrays of document ids;
- :mod:`.packed`: byte-aligned packed integers and ragged ranges (the codec's primitives);
- :mod:`.codec.compound`: the compound segment file (Lucene's ``.cfs``);
- :mod:`.codec.termdict`: the terms dictionary (``BlockTreeTermsWriter``);
- :mod:`.codec.postings`: doc ids and frequencies in blocks (``Lucene90PostingsFormat``);
- :mod:`.codec.positions`: the positions stream (``.pos``);
- :mod:`.codec.storedfields`: compressed stored records (``.fdt``/``.fdx``);
- :mod:`.codec.points`: sorted integer points for range queries (the points format);
- :mod:`.codec.norms`: field lengths per document (norms, for BM25);
- :mod:`.codec.docvalues`: one integer per document, column-wise (numeric doc values);
- :mod:`.codec.livedocs`: deletions as a bitset per generation (``.liv``);
- :mod:`.segmentdata`: what a segment is written from (the inverted inputs);
- :mod:`.buffer`: in-memory inversion of added documents (``DocumentsWriterPerThread``);
- :mod:`.segmentwriter`: writing one segment file;
- :mod:`.segmentreader`: opening one segment file (``SegmentReader``);
- :mod:`.fieldreader`: one field of one segment: terms, postings, positions;
- :mod:`.directory`: the index folder, its file names and the writer lock (``Directory``);
- :mod:`.commit`: commit points (``segments_N``, ``SegmentInfos``);
- :mod:`.segmentstate`: the writer's state of one segment and of one registered merge;
- :mod:`.segmentset`: the writer's segments, shared with the merges (tantivy's
  ``SegmentManager``);
- :mod:`.writer`: ``IndexWriter``: add, delete, flush, commit;
- :mod:`.merge.policy`: which segments to merge (``TieredMergePolicy``, ``LogMergePolicy``);
- :mod:`.merge.merger`: merging segments into one (``SegmentMerger``);
- :mod:`.merge.scheduler`: the background merge thread (``ConcurrentMergeScheduler``);
- :mod:`.merge.updater`: registering, running and swapping in merges (tantivy's
  ``SegmentUpdater``);
- :mod:`.reader`: point-in-time snapshots (``IndexReader``, ``LeafReader``);
- :mod:`.searcher`: ``IndexSearcher``: rewrite, weight, score each segment, merge top hits;
- :mod:`.scoring`: ``BM25Similarity``;
- :mod:`.collector`: top-k by relevance or sort fields (``TopFieldCollector``, ``TopDocs``);
- :mod:`.cursor`: the opaque ``after`` token of the next page (``searchAfter``);
- :mod:`.cache`: the filter cache (``LRUQueryCache``, ``UsageTrackingQueryCachingPolicy``);
- :mod:`.highlight`: best fragments with the matched terms marked (``Highlighter``);
- :mod:`.query.base`: ``Query`` → ``Weight`` → ``Scorer``, set-at-a-time (``BulkScorer``);
- :mod:`.query.syntax`: escaping terms for the query syntax;
- :mod:`.query.term`: ``TermQuery``;
- :mod:`.query.boolean`: ``BooleanQuery`` (MUST, SHOULD, MUST_NOT, FILTER);
- :mod:`.query.matchall`: ``MatchAllDocsQuery``, ``MatchNoDocsQuery``, ``ExistsQuery``,
  ``ConstantScoreQuery``, ``BoostQuery``;
- :mod:`.query.phrase`: ``PhraseQuery`` (exact and sloppy);
- :mod:`.query.multiterm`: ``MultiTermQuery`` (constant-score rewrite), ``TermInSetQuery``;
- :mod:`.query.prefix`: ``PrefixQuery``;
- :mod:`.query.wildcard`: ``WildcardQuery``;
- :mod:`.query.regexp`: ``RegexpQuery``;
- :mod:`.query.termrange`: ``TermRangeQuery``;
- :mod:`.query.pointrange`: ``PointRangeQuery``;
- :mod:`.query.levenshtein`: Levenshtein automata for fuzzy expansion (``LevenshteinAutomata``);
- :mod:`.query.fuzzy`: ``FuzzyQuery``;
- :mod:`.queryparser.lexer`: tokens of the query syntax (``QueryToken``);
- :mod:`.queryparser.build`: field kinds, numbers and clause combination for the parser;
- :mod:`.queryparser.parser`: ``QueryParser`` (Lucene's classic syntax).

Search is set-at-a-time: a scorer returns every matching document of a segment at once, and
a conjunction restricts each clause to the documents the previous ones left, decoding only
the postings blocks that can hold them (:meth:`.fieldreader.TermPostings.restrict`, the bulk
form of Lucene's ``DocIdSetIterator.advance`` over skip data). The one-document-at-a-time
iterator contract (Lucene's ``DocIdSetIterator``/``PostingsEnum``, tantivy's ``DocSet``)
was deleted: no scorer used it, only its own tests did, and walking documents one by one in
Python costs a function call per document.
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
