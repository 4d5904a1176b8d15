"""Errors of the text engine, all under :class:`TextIndexError`.

The engine stands alone: its root derives from the project's root error
(:class:`bloombits.errors.LogfilterError`) and from nothing on the chain side, so callers
that catch :class:`~bloombits.errors.LogfilterError` still catch these. Lucene throws
``LockObtainFailedException``, ``CorruptIndexException`` and ``ParseException`` for the
same three failures; here they share one root.
"""

from __future__ import annotations

from bloombits.errors import LogfilterError


class TextIndexError(LogfilterError):
    """Root of the errors raised by :mod:`chainindex.textindex` (and the log-level API over it,
    :mod:`chainindex.logsearch`)."""


class IndexLockedError(TextIndexError):
    """Another writer holds the text index (Lucene's ``LockObtainFailedException``)."""


class IndexCorruptError(TextIndexError):
    """A text index file is damaged, truncated or of an unknown format (Lucene's
    ``CorruptIndexException``)."""


class QueryError(TextIndexError, ValueError):
    """A query cannot be run as given (bad field type, too many clauses, bad cursor...)."""


class QueryParseError(QueryError):
    """A query string is malformed; the message says what and where (Lucene's
    ``ParseException``)."""

    def __init__(self, message: str, query: str, position: int) -> None:
        super().__init__(f"bad query: {message} at position {position} in {query!r}")
        self.query = query
        """The query string that failed to parse."""
        self.position = position
        """Offset (in characters) of the offending token."""
        self.reason = message
        """The message without the position."""
