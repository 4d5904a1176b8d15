"""TextIndex: the text index of logs, as the chain indexer and the RPC layer use it.

Feeding (the indexer)::

    index = TextIndex.open(datadir / "textindex", registry=registry)
    start = (index.committed_block() or -1) + 1      # replay from here after a restart
    index.add_logs(logs)                             # any number of calls
    index.delete_from_block(ancestor)                # a reorg: drop every log above it
    index.commit(head_number, head_hash)             # durable, atomically, with the head

Everything added since the last :meth:`TextIndex.commit` is lost on a crash (and on
:meth:`TextIndex.close` without a commit); after a restart the index holds exactly the logs
of its last commit, through :meth:`TextIndex.committed_block`. If the chain was reorganised
while the service was down, the indexer compares :meth:`TextIndex.committed_head` with its
canonical chain and calls :meth:`TextIndex.delete_from_block` with the common ancestor before
replaying.

Searching (the RPC method ``logfilter_search`` maps onto :meth:`TextIndex.search` one to
one)::

    result = index.search("name:vitalik*", from_block=..., to_block=..., address=[...],
                          topics=[...], limit=20, after=None, highlight=True,
                          sort="relevance")
    result.hits[0].log, result.hits[0].event, result.hits[0].highlights, result.cursor

The structural parameters keep ``eth_getLogs`` semantics: ``address`` is one address or any
of several; ``topics`` has up to four positions, each ``None`` (any), one topic or a list of
alternatives, and a log with fewer topics than positions does not match. They are filter
clauses (cached by the filter cache, not scored). Added logs become searchable at the next
search (the buffer is flushed into a new segment then, near real time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eth_typing import Address, Hash32

from chainindex.logsearch.decode.decoder import DecodedEvent, decode_log
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.logsearch.document import (
    TEXT_FIELD,
    decode_log_record,
    log_document,
)
from chainindex.logsearch.hits import decode_hit, highlights
from chainindex.textindex.cache import FilterCache, FilterCacheStats
from chainindex.textindex.collector import Sort, SortField
from chainindex.textindex.commit import commit_generations
from chainindex.textindex.cursor import decode_cursor, encode_cursor
from chainindex.textindex.directory import Directory
from chainindex.textindex.errors import QueryError, TextIndexError
from chainindex.textindex.highlight import HighlightOptions
from chainindex.textindex.query.base import Query
from chainindex.textindex.query.boolean import BooleanClause, BooleanQuery, Occur
from chainindex.textindex.query.multiterm import TermInSetQuery
from chainindex.textindex.query.pointrange import PointRangeQuery
from chainindex.textindex.queryparser import FieldKind, QueryParser
from chainindex.textindex.reader import IndexReader
from chainindex.textindex.searcher import IndexSearcher
from chainindex.textindex.writer import IndexWriter, WriterConfig
from chainindex.types import ChainLog

__all__ = ["SORTS", "TEXT_INDEX_DIR", "IndexStats", "LogSearchHit", "LogSearchResult", "TextIndex"]

TEXT_INDEX_DIR = "textindex"
"""The text index's folder inside a data directory (beside the LevelDB files)."""

SortName = Literal["relevance", "block_asc", "block_desc"]
SORTS: dict[str, Sort] = {
    "relevance": Sort((SortField("block"), SortField("logIndex")), by_score=True),
    "block_asc": Sort((SortField("block"), SortField("logIndex")), by_score=False),
    "block_desc": Sort(
        (SortField("block", reverse=True), SortField("logIndex", reverse=True)), by_score=False
    ),
}
"""The orders a search can return: relevance (ties in chain order), chain order, newest first."""

MAX_LIMIT = 1000
"""Most hits one search returns."""
MAX_TOPIC_POSITIONS = 4
_KEYWORD = FieldKind(tokenized=False)
_POINT = FieldKind(terms=False, points=True)
_RESERVED_KINDS = {
    **dict.fromkeys(["address", "topic0", "topic1", "topic2", "topic3", "event"], _KEYWORD),
    **dict.fromkeys(["signature", "tx"], _KEYWORD),
    **dict.fromkeys(["block", "timestamp", "logIndex", "topicCount"], _POINT),
    TEXT_FIELD: FieldKind(),
}


@dataclass(frozen=True, slots=True)
class LogSearchHit:
    """One matching log."""

    score: float
    """Relevance (BM25 and boosts); 0 when the search is sorted by block."""
    log: ChainLog
    """The log, as stored."""
    event: DecodedEvent | None
    """The log decoded with the ABI it was indexed with (``None``: not decoded)."""
    highlights: dict[str, list[str]] = field(default_factory=dict)
    """Per string argument (by field name): best fragments with matches marked."""


@dataclass(frozen=True, slots=True)
class LogSearchResult:
    """A page of hits."""

    hits: list[LogSearchHit]
    """Best first (in the requested order)."""
    total: int
    """Matching logs in all (whatever the page)."""
    cursor: str | None
    """Pass as ``after`` for the next page; ``None`` when this page is the last."""


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Size and state of the text index."""

    docs: int
    deleted: int
    segments: int
    size_bytes: int
    committed_block: int | None
    cache: FilterCacheStats


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _as_list(value: bytes | Sequence[bytes] | None) -> list[bytes] | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return [bytes(value)]
    return [bytes(v) for v in value]


class TextIndex:
    """The text index of one data directory (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        registry: AbiRegistry,
        writer: IndexWriter | None,
        executor: Executor | None,
    ) -> None:
        self.path = path
        """The index folder."""
        self.registry = registry
        """Decodes logs as they are added and hits as they are returned."""
        self._writer = writer
        self._executor = executor
        self._cache = FilterCache()
        self._lock = threading.Lock()
        self._reader: IndexReader | None = None
        self._reader_version = -1
        if writer is not None:
            writer.dropped_segment_listeners.append(self._cache.drop_segment)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        registry: AbiRegistry | None = None,
        readonly: bool = False,
        config: WriterConfig | None = None,
        executor: Executor | None = None,
    ) -> TextIndex:
        """Open (or create) the text index in ``path``.

        ``readonly`` opens the last commit without taking the writer lock (another process,
        such as the running service, may be writing); ``executor`` searches segments in
        parallel.
        """
        folder = Path(path)
        writer = None if readonly else IndexWriter(folder, config)
        return cls(folder, registry or AbiRegistry(), writer, executor)

    @classmethod
    def in_datadir(cls, datadir: str | Path, **options: Any) -> TextIndex:
        """:meth:`open` the text index of a data directory (``DATADIR/textindex``)."""
        return cls.open(Path(datadir) / TEXT_INDEX_DIR, **options)

    # -- feeding ----------------------------------------------------------------------

    def _require_writer(self) -> IndexWriter:
        if self._writer is None:
            raise TextIndexError(f"text index {self.path} is open read-only")
        return self._writer

    def add_logs(self, logs: Iterable[ChainLog]) -> int:
        """Decode and index logs; returns how many."""
        registry = self.registry
        docs = (log_document(log, decode_log(log, registry)) for log in logs)
        return self._require_writer().add_documents(docs)

    def delete_from_block(self, block: int) -> int:
        """Delete every log of a block above ``block`` (a reorg rollback); returns how many."""
        return self._require_writer().delete_documents(PointRangeQuery("block", block + 1, None))

    def commit(self, block: int, block_hash: bytes | None = None) -> None:
        """Make everything added durable, recording that logs through ``block`` are in."""
        data = {"block": str(block)}
        if block_hash is not None:
            data["hash"] = _hex(block_hash)
        self._require_writer().commit(data)

    def _commit_data(self) -> dict[str, str]:
        if self._writer is not None:
            return self._writer.committed.user_data
        commit = self._current_reader().commit
        return {} if commit is None else commit.user_data

    def committed_block(self) -> int | None:
        """The last block whose logs are durably indexed (``None``: nothing committed)."""
        raw = self._commit_data().get("block")
        return None if raw is None else int(raw)

    def committed_head(self) -> tuple[int, Hash32 | None] | None:
        """``(block, hash)`` recorded by the last commit, if any."""
        data = self._commit_data()
        if "block" not in data:
            return None
        raw_hash = data.get("hash")
        return int(data["block"]), None if raw_hash is None else Hash32(bytes.fromhex(raw_hash[2:]))

    # -- reading ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Make every added log searchable (flushes the buffer into a segment)."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        writer = self._writer
        if writer is None:
            # Read-only: reopen only when a newer commit point has appeared (a listing).
            current = self._reader
            generations = (
                commit_generations(Directory(self.path, create=False))
                if (self.path.is_dir())
                else []
            )
            newest = generations[-1] if generations else 0
            known = 0 if current is None or current.commit is None else current.commit.generation
            if current is None or newest != known:
                self._reader = IndexReader.open(self.path) if generations else IndexReader([])
            return
        if writer.buffered_docs:
            writer.flush()
        if self._reader is None or writer.version != self._reader_version:
            self._reader = writer.reader()
            self._reader_version = writer.version

    def _current_reader(self) -> IndexReader:
        with self._lock:
            writer = self._writer
            stale = (
                self._reader is None
                or writer is None
                or writer.buffered_docs > 0
                or writer.version != self._reader_version
            )
            if stale:
                self._refresh_locked()
            assert self._reader is not None
            return self._reader

    def field_kind(self, name: str, reader: IndexReader | None = None) -> FieldKind:
        """How the query parser reads a field."""
        kind = _RESERVED_KINDS.get(name)
        if kind is not None:
            return kind
        reader = reader or self._current_reader()
        terms = name in reader.term_fields()
        points = name in reader.point_fields()
        if not terms and not points:
            return FieldKind()
        return FieldKind(terms=terms, tokenized=terms and reader.tokenized(name), points=points)

    def parse(self, query: str, reader: IndexReader | None = None) -> Query:
        """The query a query string describes, for this index's fields."""
        return QueryParser(TEXT_FIELD, lambda f: self.field_kind(f, reader)).parse(query)

    def _filters(
        self,
        from_block: int | None,
        to_block: int | None,
        address: bytes | Sequence[bytes] | None,
        topics: Sequence[bytes | Sequence[bytes] | None] | None,
    ) -> list[Query]:
        filters: list[Query] = []
        if from_block is not None or to_block is not None:
            if from_block is not None and to_block is not None and from_block > to_block:
                raise QueryError(f"fromBlock {from_block} is after toBlock {to_block}")
            filters.append(PointRangeQuery("block", from_block, to_block))
        addresses = _as_list(address)
        if addresses is not None:
            if any(len(a) != 20 for a in addresses):
                raise QueryError("an address must be 20 bytes")
            filters.append(TermInSetQuery("address", frozenset(_hex(a) for a in addresses)))
        if topics:
            if len(topics) > MAX_TOPIC_POSITIONS:
                raise QueryError(f"at most {MAX_TOPIC_POSITIONS} topic positions")
            for i, position in enumerate(topics):
                alternatives = _as_list(position)
                if alternatives is None or not alternatives:
                    continue
                if any(len(t) != 32 for t in alternatives):
                    raise QueryError("a topic must be 32 bytes")
                filters.append(
                    TermInSetQuery(f"topic{i}", frozenset(_hex(t) for t in alternatives))
                )
            filters.append(PointRangeQuery("topicCount", len(topics), None))
        return filters

    def search(
        self,
        query: str = "",
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        address: Address | bytes | Sequence[bytes] | None = None,
        topics: Sequence[bytes | Sequence[bytes] | None] | None = None,
        limit: int = 20,
        after: str | None = None,
        highlight: bool | HighlightOptions = False,
        sort: SortName = "relevance",
    ) -> LogSearchResult:
        """Search the logs (parameters in the module docstring)."""
        if sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}")
        order = SORTS[sort]
        cursor = None if after is None else decode_cursor(after, sort, order.key_size())
        reader = self._current_reader()
        parsed = self.parse(query, reader)
        clauses = [BooleanClause(Occur.MUST, parsed)]
        clauses += [
            BooleanClause(Occur.FILTER, f)
            for f in self._filters(from_block, to_block, address, topics)
        ]
        full = parsed if len(clauses) == 1 else BooleanQuery(tuple(clauses))
        searcher = IndexSearcher(reader, executor=self._executor, cache=self._cache)
        top = searcher.search(full, limit, order, cursor)
        options = highlight if isinstance(highlight, HighlightOptions) else HighlightOptions()
        matchers = parsed.term_matchers() if highlight else {}
        hits = []
        for scored in top.hits:
            log, abi = decode_log_record(searcher.stored(scored.leaf, scored.doc))
            event = decode_hit(self.registry, log, abi)
            marks = highlights(event, matchers, options) if highlight and event else {}
            hits.append(LogSearchHit(scored.score, log, event, marks))
        next_cursor = None
        if len(top.hits) == limit and top.total > limit:
            next_cursor = encode_cursor(sort, top.hits[-1].sort_values)
        return LogSearchResult(hits, top.total, next_cursor)

    def stats(self) -> IndexStats:
        """Documents, segments, size on disk and cache counters."""
        reader = self._current_reader()
        size = sum(leaf.segment.size_bytes() for leaf in reader.leaves)
        return IndexStats(
            reader.num_docs,
            reader.max_doc - reader.num_docs,
            len(reader.leaves),
            size,
            self.committed_block(),
            self._cache.stats(),
        )

    # -- lifetime ---------------------------------------------------------------------

    def wait_for_merges(self, timeout: float | None = None) -> bool:
        """Wait for background merges to finish (tests, benchmarks)."""
        return True if self._writer is None else self._writer.wait_for_merges(timeout)

    def close(self) -> None:
        """Stop merging and release the index; uncommitted changes are discarded."""
        if self._writer is not None:
            self._writer.close()

    def __enter__(self) -> TextIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
