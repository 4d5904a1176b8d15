"""The project's error hierarchy.

Every error the project raises on purpose derives from :class:`LogfilterError`, so a caller
can tell "the input or the data was bad, and we said so" from a bug. The root lives in the
lowest package (``bloombits``) because dependencies point one way: ``chainindex`` and ``rpc``
subclass it for their own failures.
"""

from __future__ import annotations


class LogfilterError(Exception):
    """Root of every deliberate error raised by logfilter."""


class BloombitsArgumentError(LogfilterError, ValueError):
    """An argument outside its domain given to a :mod:`bloombits` function or constructor: an
    array of the wrong shape, a bloom of the wrong length, a capacity or budget out of range,
    a batch of sections that crosses a chunk boundary.

    Also a :class:`ValueError`, the error such a call raised before the hierarchy existed.
    """


class CompressionError(LogfilterError, ValueError):
    """Malformed input to :func:`bloombits.bitutil.decompress_bytes`.

    The subclasses mirror go-ethereum's ``common/bitutil`` error values one to one, so a
    vector that geth rejects is rejected here for the same reason.
    """


class MissingDataError(CompressionError):
    """A byte referenced by the bitset header lies past the end of the input."""

    def __init__(self) -> None:
        super().__init__("missing bytes on input")


class UnreferencedDataError(CompressionError):
    """Decompression finished before consuming all of the input."""

    def __init__(self) -> None:
        super().__init__("extra bytes on input")


class ExceededTargetError(CompressionError):
    """The input describes more bytes than the target size allows."""

    def __init__(self) -> None:
        super().__init__("target data size exceeded")


class ZeroContentError(CompressionError):
    """A data byte referenced by the bitset header is zero (a non-canonical encoding)."""

    def __init__(self) -> None:
        super().__init__("zero byte in input content")


class GeneratorError(LogfilterError, ValueError):
    """Misuse of :class:`bloombits.generator.Generator` (bad size, index or bit)."""


class MatcherError(LogfilterError, ValueError):
    """Misuse of :class:`bloombits.matcher.Matcher`: a bad section size, filter or range."""


class EndOfStreamError(LogfilterError):
    """A :class:`bloombits.channel.Channel` is closed (and, for ``get``, drained).

    The matcher pipeline's end-of-stream signal, the ``ok == false`` of a receive from a closed
    Go channel; its stages catch it, it does not reach a caller of the matcher.
    """


class RetrievalError(LogfilterError):
    """A retriever answered a bloom-bit retrieval with data of the wrong shape (a count of
    vectors other than the sections asked for, or a vector of the wrong size)."""
