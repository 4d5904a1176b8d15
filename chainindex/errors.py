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


class SyntheticChainError(ChainIndexError, ValueError):
    """Bad parameters for the synthetic chain generator (:mod:`chainindex.synthetic`)."""
