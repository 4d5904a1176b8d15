"""Text search results on the client side: the typed hits of ``logfilter_search``.

:func:`decode_search_result` decodes an answer strictly into a :class:`SearchResult` (a
page: hits, total, cursor) of :class:`SearchHit`\\ s, each with its
:class:`~rpc.client.types.Log` and, when the server could decode it, its :class:`Event` whose
argument values are typed from their ABI type (:mod:`rpc.client.abitype`): integers as
``int``, addresses and bytes as ``bytes``, strings as ``str``, booleans as ``bool``, arrays
and tuples as tuples (an indexed argument of a dynamic type is only its topic: ``hashed`` is
set and the value is the 32-byte keccak256). Any departure from the answer's shape (the one
the server's ``rpc.server.codec.search_result`` writes) is a
:class:`~rpc.client.errors.ResponseError` naming the hit and the field.

The request side (parameters, paging, the client's methods) is :mod:`rpc.client.search`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rpc.client.abitype import AbiType, parse_abi_type
from rpc.client.errors import ResponseError
from rpc.client.hexcodec import HexFormatError, decode_data
from rpc.client.types import Log, decode_log

__all__ = ["Event", "EventArg", "SearchHit", "SearchResult", "decode_search_result"]


@dataclass(frozen=True, slots=True)
class EventArg:
    """One argument of a decoded event."""

    name: str
    """Its name in the ABI (``arg0``... when the ABI has none)."""
    type: str
    """Its ABI type (``string``, ``uint256``, ``address``, ``bytes32[]``...)."""
    indexed: bool
    """Whether it is a topic."""
    value: Any
    """The value, typed (module docstring)."""
    hashed: bool = False
    """An indexed argument of a dynamic type: ``value`` is its keccak256 topic."""


@dataclass(frozen=True, slots=True)
class Event:
    """A log decoded with its event's ABI."""

    name: str
    """The event's name (``NameRegistered``)."""
    signature: str
    """Its canonical signature (``NameRegistered(string,bytes32,address,...)``)."""
    args: tuple[EventArg, ...]
    """Its arguments in ABI order."""

    def __getitem__(self, name: str) -> Any:
        """The value of the argument ``name`` (KeyError when there is none)."""
        for arg in self.args:
            if arg.name == name:
                return arg.value
        raise KeyError(name)

    @property
    def values(self) -> dict[str, Any]:
        """Argument name → value."""
        return {arg.name: arg.value for arg in self.args}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching log."""

    score: float
    """Relevance (0 when sorted by block)."""
    log: Log
    """The log, as ``eth_getLogs`` returns it."""
    event: Event | None
    """The log decoded (None: no known ABI matched)."""
    highlights: dict[str, list[str]] = field(default_factory=dict)
    """Per string argument, its best fragments with matched words in ``<em>`` (HTML-escaped)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of hits."""

    hits: list[SearchHit]
    """In the requested order."""
    total: int
    """Matching logs in all, whatever the page."""
    cursor: str | None
    """Pass as ``after`` for the next page; None when this page is the last."""


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError(f"{what}: expected a JSON object, got {str(value)[:60]!r}")
    return value


def _typed(abi_type: AbiType, value: Any, what: str) -> Any:
    """A JSON argument value (as ``rpc.server.codec.search_result`` writes it) as its Python
    type."""
    if abi_type.dimensions:
        if not isinstance(value, list):
            raise ResponseError(f"{what}: expected an array")
        return tuple(_typed(abi_type.item_type, v, what) for v in value)
    components = abi_type.components
    if components is not None:
        if not isinstance(value, list) or len(value) != len(components):
            raise ResponseError(f"{what}: expected an array of {len(components)} components")
        return tuple(_typed(c, v, what) for c, v in zip(components, value, strict=True))
    base = abi_type.base
    if base in ("uint", "int", "fixed", "ufixed"):
        if not isinstance(value, str):
            raise ResponseError(f"{what}: expected a decimal string, got {value!r}")
        try:
            return int(value) if base in ("uint", "int") else value
        except ValueError:
            raise ResponseError(f"{what}: not a decimal integer: {value[:40]!r}") from None
    if base in ("address", "bytes", "function"):
        return _bytes(value, what)
    if base == "bool":
        if not isinstance(value, bool):
            raise ResponseError(f"{what}: expected true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ResponseError(f"{what}: expected a string, got {str(value)[:40]!r}")
    return value


def _bytes(value: object, what: str) -> bytes:
    try:
        return decode_data(value, what)
    except HexFormatError as err:
        raise ResponseError(str(err)) from None


def _event(value: object, what: str) -> Event | None:
    if value is None:
        return None
    obj = _object(value, what)
    name, signature, raw_args = obj.get("name"), obj.get("signature"), obj.get("args")
    if (
        not isinstance(name, str)
        or not isinstance(signature, str)
        or not isinstance(raw_args, list)
    ):
        raise ResponseError(f"{what}: expected name, signature and args")
    args = []
    for i, raw in enumerate(raw_args):
        entry = _object(raw, f"{what}: arg {i}")
        arg_name, arg_type = entry.get("name"), entry.get("type")
        indexed, hashed = entry.get("indexed"), entry.get("hashed", False)
        if not isinstance(arg_name, str) or not isinstance(arg_type, str):
            raise ResponseError(f"{what}: arg {i}: expected a name and a type")
        if not isinstance(indexed, bool) or not isinstance(hashed, bool):
            raise ResponseError(f"{what}: arg {i}: indexed and hashed are booleans")
        where = f"{what}: {arg_name}"
        if hashed:
            typed = _bytes(entry.get("value"), where)
        else:
            try:
                abi_type = parse_abi_type(arg_type)
            except Exception:
                raise ResponseError(f"{where}: unknown ABI type {arg_type[:40]!r}") from None
            typed = _typed(abi_type, entry.get("value"), where)
        args.append(EventArg(arg_name, arg_type, indexed, typed, hashed))
    return Event(name, signature, tuple(args))


def _highlights(value: object, what: str) -> dict[str, list[str]]:
    obj = _object(value if value is not None else {}, what)
    for key, fragments in obj.items():
        if not isinstance(fragments, list) or not all(isinstance(f, str) for f in fragments):
            raise ResponseError(f"{what}: {key}: expected a list of strings")
    return obj


def decode_search_result(value: object) -> SearchResult:
    """The ``logfilter_search`` answer, strictly (a :class:`ResponseError` names the fault)."""
    what = "logfilter_search"
    obj = _object(value, what)
    raw_hits, total, cursor = obj.get("hits"), obj.get("total"), obj.get("cursor")
    if not isinstance(raw_hits, list):
        raise ResponseError(f"{what}: hits: expected a list")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ResponseError(f"{what}: total: expected a count, got {total!r}")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseError(f"{what}: cursor: expected a string or null, got {cursor!r}")
    hits = []
    for i, raw in enumerate(raw_hits):
        where = f"{what}: hit {i}"
        hit = _object(raw, where)
        score = hit.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise ResponseError(f"{where}: score: expected a number, got {score!r}")
        hits.append(
            SearchHit(
                float(score),
                decode_log(hit.get("log"), f"{where}: log"),
                _event(hit.get("event"), f"{where}: event"),
                _highlights(hit.get("highlights"), f"{where}: highlights"),
            )
        )
    return SearchResult(hits, total, cursor)
