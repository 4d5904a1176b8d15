"""Errors of the chain index, all under :class:`bloombits.errors.LogfilterError`."""

from __future__ import annotations

from collections.abc import Sequence

from bloombits.errors import LogfilterError
from chainindex.types import Block


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


class BackupError(StoreError):
    """A backup cannot be made where asked (the target exists, another backup is writing it)
    or was stopped before it completed; nothing is left at the target."""


class StorageFaultError(StoreError):
    """The disk under the data directory (or an output file) failed: full, read-only,
    permission denied, removed while in use, or an I/O error. Raised instead of the raw
    ``OSError`` or LevelDB status so that every command ends with one line naming what could
    not be written (see :mod:`chainindex.store.faults`); nothing is left half-written."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno
        """The ``errno`` of the fault (``ENOSPC``, ``EROFS``...), None when not known."""


class ConfigError(ChainIndexError):
    """What was asked for cannot work as given: a bad combination of flags or settings, a
    value out of range, a data directory or upstream missing for what was asked. Raised
    before anything is written (the store and the upstream are not at fault)."""


class ConfigMismatchError(ConfigError):
    """The data directory was built with other settings (chain, section size, tail, logs or
    headers only) than asked for."""


class ChainMismatchError(ConfigMismatchError):
    """The upstream serves another chain than the one the data directory indexes."""


class CheckpointMismatchError(ChainMismatchError):
    """A chain (the upstream's or the data directory's) does not contain the ``--checkpoint``
    block."""


class HexError(ChainIndexError, ValueError):
    """A malformed hex quantity or data string (see :mod:`chainindex.hexutil`)."""


class SourceError(ChainIndexError):
    """The upstream node or chain archive could not give what was asked."""


class UpstreamError(SourceError):
    """The upstream failed to answer: unreachable, HTTP error, timeout, malformed JSON, or a
    JSON-RPC error answer. Usually transient: retried before it is raised."""


class RpcCallError(UpstreamError):
    """The upstream answered a call with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: upstream error {code}: {message}")
        self.method = method
        """The method called."""
        self.code = code
        """The JSON-RPC error code."""
        self.rpc_message = message
        """The error message, as the upstream gave it."""


class MissingBlockError(SourceError):
    """The upstream has no block at that height (yet, or any more after a reorg)."""

    def __init__(self, number: int) -> None:
        super().__init__(f"block {number}: the upstream does not have this block")
        self.number = number
        """The height asked for."""


class InvalidBlockError(SourceError):
    """An answer about a block failed validation (broken links, bloom not matching the logs,
    inconsistent receipts...). Nothing of it is stored."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"block {number}: {reason}")
        self.number = number
        """The block whose answer was rejected."""
        self.reason = reason
        """What was wrong with it."""


class ArchiveError(SourceError):
    """A chain archive file is unreadable or holds a malformed record."""

    def __init__(self, message: str, good: Sequence[Block] = ()) -> None:
        super().__init__(message)
        self.good: tuple[Block, ...] = tuple(good)
        """The valid blocks of the requested run that come before the bad record, in order:
        the indexer commits them before it stops."""


class Era1Error(ArchiveError):
    """An era1 file (go-ethereum's ``internal/era``: e2store records of pre-merge blocks) is
    unreadable or fails its checks: framing, snappy, block index, accumulator root."""


class RlpDecodingError(SourceError, ValueError):
    """Bytes that are not canonical RLP (go-ethereum's ``rlp`` decoder errors: a length
    beyond the input, a non-minimal length or single byte, trailing bytes)."""


class LogsUnavailableError(SourceError):
    """The logs of a block are neither stored nor obtainable from the upstream."""


class SyncError(ChainIndexError):
    """Sync cannot go on without guessing."""


class ReorgTooDeepError(SyncError):
    """A reorg reaches deeper than the configured bound (or below the first synced block)."""


class SegmentError(ChainIndexError):
    """A history segment (``logfilter backfill``) that cannot be built, sealed, linked or
    opened: the message names the segment and what is wrong."""


class ExactIndexError(ChainIndexError):
    """The exact log index cannot hold what it is given (a block with more logs than its
    positions can count)."""


class EventsLaggedError(ChainIndexError):
    """A chain-event subscriber fell so far behind that its buffer overflowed; it was dropped
    and must catch up from the store (see :mod:`chainindex.sync.events`)."""


class SyntheticChainError(ChainIndexError, ValueError):
    """Bad parameters for the synthetic chain generator (:mod:`chainindex.synthetic`)."""


class AbiError(ChainIndexError, ValueError):
    """An ABI (built in, or from a user's ``--abi`` file) is malformed."""


class FilterError(ChainIndexError):
    """A log query (``eth_getLogs``-style filter) that cannot be answered as asked. The
    messages of the subclasses are go-ethereum's, word for word, where geth has one."""


class InvalidBlockRangeError(FilterError):
    """The range is reversed (after resolving tags)."""

    def __init__(self) -> None:
        super().__init__("invalid block range params")


class BlockRangeBeyondHeadError(FilterError):
    """The range ends above the synced head."""

    def __init__(self) -> None:
        super().__init__("block range extends beyond current head block")


class PendingLogsError(FilterError):
    """A bound is ``pending``, which geth no longer supports."""

    def __init__(self) -> None:
        super().__init__("pending logs are not supported")


class TooManyFilterValuesError(FilterError):
    """More addresses, or more alternatives in one topic position, than the limit."""

    def __init__(self) -> None:
        super().__init__("exceed max addresses or topics per search position")


class UnknownBlockError(FilterError):
    """A ``blockHash`` query names a block that is not in the synced canonical chain."""

    def __init__(self) -> None:
        super().__init__("unknown block")


class PrunedHistoryError(FilterError):
    """The range starts below the first synced block (geth's answer for pruned history)."""

    def __init__(self) -> None:
        super().__init__("pruned history unavailable")


class HeaderNotFoundError(FilterError):
    """A tag (``safe``, ``finalized``) or the head itself cannot be resolved: e.g. nothing is
    synced yet, or the upstream has no finalized block."""


class QueryLimitError(FilterError):
    """A configured limit was exceeded; carries a narrower range that would succeed."""

    limit: str = ""
    """Which limit: ``"blockRange"`` or ``"results"``."""

    def __init__(self, message: str, maximum: int, first: int, last: int) -> None:
        super().__init__(f"{message}; try with this block range [{first:#x}, {last:#x}]")
        self.maximum = maximum
        """The configured limit."""
        self.first = first
        """First block of the suggested range (always the query's own first block)."""
        self.last = last
        """Last block of the suggested range."""


class BlockRangeLimitError(QueryLimitError):
    """The range spans more blocks than allowed."""

    limit = "blockRange"

    def __init__(self, maximum: int, first: int) -> None:
        super().__init__(
            f"query exceeds max block range {maximum}", maximum, first, first + maximum - 1
        )


class ResultLimitError(QueryLimitError):
    """The query matched more logs than allowed: ``last`` is the last block before the one
    where the count went over (at least the first block)."""

    limit = "results"

    def __init__(self, maximum: int, first: int, last: int) -> None:
        super().__init__(f"query returned more than {maximum} results", maximum, first, last)


class ChainReorgedError(FilterError):
    """The chain was reorganised under a running query (its answer would mix two chains)."""


class FilterNotFoundError(FilterError):
    """No installed filter has that id (never installed, uninstalled or expired)."""

    def __init__(self) -> None:
        super().__init__("filter not found")


class FilterLaggedError(FilterError):
    """An installed filter gathered more changes than it may buffer between two polls; it
    was removed (install it again and catch up with a range query)."""


class DataDamagedError(CorruptDataError):
    """A part of the data directory is damaged (a LevelDB block failing its checksum, a
    record that does not decode, a text-index file cut short): names the ``component``
    (``headers``, ``logs``, ``bloom sections``, ``exact index``, ``text index``, ``metadata``)
    and, where it can be known, the blocks affected. ``logfilter check`` says what is wrong
    in detail; ``logfilter repair`` rebuilds the derived components."""

    def __init__(self, component: str, first: int | None, last: int | None, detail: str) -> None:
        where = (
            component if first is None or last is None else f"{component} of blocks {first}-{last}"
        )
        super().__init__(f"data directory damaged ({where}): run logfilter check")
        self.component = component
        """Which part of the directory."""
        self.first = first
        """First block affected (None: not known)."""
        self.last = last
        """Last block affected (None: not known)."""
        self.detail = detail
        """What was found, for the log (never a file path)."""
