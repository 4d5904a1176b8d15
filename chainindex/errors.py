"""Errors of the chain index, all under :class:`bloombits.errors.LogfilterError`."""

from __future__ import annotations

from bloombits.errors import LogfilterError


class ChainIndexError(LogfilterError):
    """Root of the errors raised by :mod:`chainindex`."""


class StoreError(ChainIndexError):
    """The data directory cannot be used."""


class DataDirLockedError(StoreError):
    """Another process has the data directory open."""


class CorruptDataError(StoreError):
    """The database or a record in it is damaged."""


class ForeignDataError(StoreError):
    """The directory holds a database that logfilter did not write."""


class IncompatibleSchemaError(StoreError):
    """The data directory was written by another, incompatible schema version."""


class ConfigMismatchError(StoreError):
    """The data directory was built with other settings (chain, section size) than asked for."""


class AbiError(ChainIndexError, ValueError):
    """An ABI (built in, or from a user's ``--abi`` file) is malformed."""


class TextIndexError(ChainIndexError):
    """Root of the errors raised by :mod:`chainindex.textindex`."""


class IndexLockedError(TextIndexError):
    """Another writer holds the text index."""


class IndexCorruptError(TextIndexError):
    """A text index file is damaged, truncated or of an unknown format."""


class QueryError(TextIndexError, ValueError):
    """A query cannot be run as given (bad field type, too many clauses, bad cursor...)."""


class QueryParseError(QueryError):
    """A query string is malformed; the message says what and where."""

    def __init__(self, message: str, query: str, position: int) -> None:
        super().__init__(f"bad query: {message} at position {position} in {query!r}")
        self.query = query
        """The query string that failed to parse."""
        self.position = position
        """Offset (in characters) of the offending token."""
        self.reason = message
        """The message without the position."""
