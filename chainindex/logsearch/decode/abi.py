"""Event ABIs: parameters, canonical signatures, topic 0, and the two ways to write them.

An event is read either from a JSON ABI entry (``{"type": "event", "name": ..., "inputs":
[...]}``, as solc emits) or from a human-readable signature (``"event Transfer(address indexed
from, address indexed to, uint256 value)"``, as ethers writes them). Both give an
:class:`EventAbi`, whose :meth:`~EventAbi.human` form parses back to the same event: the text
index stores that form with each decoded log so that a hit is decoded with the very ABI it was
indexed with.

Types are normalized with eth-abi's grammar (``uint`` → ``uint256``, tuples as ``(t1,t2)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_abi.exceptions import ParseError as EthAbiParseError
from eth_abi.grammar import ABIType, normalize, parse

from bloombits.keccak import keccak256
from chainindex.errors import AbiError

__all__ = [
    "AbiParam",
    "EventAbi",
    "abi_type_of",
    "event_from_json",
    "parse_event_signature",
    "type_str_of",
]


@dataclass(frozen=True, slots=True)
class AbiParam:
    """One event parameter (or one component of a tuple parameter)."""

    name: str
    """Declared name; may be empty."""
    type: str
    """Canonical ABI type (``uint256``, ``address[]``, ``(address,uint256)[2]``)."""
    indexed: bool = False
    """True when the value travels in a topic rather than in the data."""
    components: tuple[AbiParam, ...] = ()
    """For tuple types (and arrays of tuples): the named components."""

    def human(self, *, top: bool = True) -> str:
        """``type [indexed] [name]`` with tuple components written out with their names."""
        text = self._human_type()
        if top and self.indexed:
            text += " indexed"
        if self.name:
            text += " " + self.name
        return text

    def _human_type(self) -> str:
        if not self.components:
            return self.type
        inner = ",".join(c.human(top=False) for c in self.components)
        suffix = self.type[self.type.rindex(")") + 1 :]
        return f"({inner}){suffix}"


@dataclass(frozen=True, slots=True)
class EventAbi:
    """An event declaration."""

    name: str
    """Event name (``Transfer``)."""
    inputs: tuple[AbiParam, ...]
    """Parameters in declaration order."""
    anonymous: bool = False
    """Anonymous events have no signature topic and cannot be recognized by topic 0."""
    signature: str = field(init=False)
    """Canonical signature, ``Transfer(address,address,uint256)``."""
    topic0: bytes = field(init=False)
    """keccak256 of the signature: the first topic of every (non-anonymous) such log."""

    def __post_init__(self) -> None:
        signature = f"{self.name}({','.join(p.type for p in self.inputs)})"
        object.__setattr__(self, "signature", signature)
        object.__setattr__(self, "topic0", keccak256(signature.encode()))

    @property
    def indexed_count(self) -> int:
        """Number of indexed parameters (topics after topic 0)."""
        return sum(1 for p in self.inputs if p.indexed)

    def human(self) -> str:
        """The human-readable form, which :func:`parse_event_signature` reads back."""
        params = ",".join(p.human() for p in self.inputs)
        return f"{self.name}({params}){' anonymous' if self.anonymous else ''}"


@lru_cache(maxsize=4096)
def abi_type_of(type_str: str) -> ABIType:
    """The parsed eth-abi type of a canonical type string (cached)."""
    abi_type: ABIType = parse(type_str)
    return abi_type


def type_str_of(abi_type: ABIType) -> str:
    """The canonical type string of a parsed type."""
    text: str = abi_type.to_type_str()  # type: ignore[no-untyped-call]
    return text


def _normalize_type(type_str: str, where: str) -> str:
    """The canonical form of a type as written in an ABI; a clear error if it is not one."""
    try:
        abi_type: ABIType = parse(normalize(type_str))  # type: ignore[no-untyped-call]
        abi_type.validate()  # type: ignore[no-untyped-call]
    except (EthAbiParseError, ValueError, TypeError) as err:
        raise AbiError(f"{where}: bad ABI type {type_str!r}: {err}") from None
    return type_str_of(abi_type)


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not (name == "" or name.isidentifier()):
        raise AbiError(f"{where}: bad parameter name {name!r}")
    return name


def _param_from_json(entry: Mapping[str, Any], where: str, *, top: bool) -> AbiParam:
    if not isinstance(entry, Mapping):
        raise AbiError(f"{where}: a parameter must be an object, not {type(entry).__name__}")
    name = _check_name(entry.get("name", ""), where)
    raw_type = entry.get("type")
    if not isinstance(raw_type, str):
        raise AbiError(f"{where}: parameter {name!r} has no type")
    indexed = entry.get("indexed", False)
    if not isinstance(indexed, bool) or (indexed and not top):
        raise AbiError(f"{where}: bad 'indexed' on parameter {name!r}")
    components: tuple[AbiParam, ...] = ()
    if raw_type.startswith("tuple"):
        raw_components = entry.get("components")
        if not isinstance(raw_components, Sequence) or not raw_components:
            raise AbiError(f"{where}: tuple parameter {name!r} has no components")
        components = tuple(_param_from_json(c, where, top=False) for c in raw_components)
        raw_type = "(" + ",".join(c.type for c in components) + ")" + raw_type[len("tuple") :]
    canonical = _normalize_type(raw_type, where)
    return AbiParam(name, canonical, indexed, components)


def event_from_json(entry: Mapping[str, Any]) -> EventAbi:
    """An event from a JSON ABI entry (``type`` must be ``event``)."""
    name = entry.get("name")
    where = f"event {name!r}"
    if entry.get("type") != "event" or not isinstance(name, str) or not name.isidentifier():
        raise AbiError(f"{where}: not an event ABI entry")
    inputs = entry.get("inputs", [])
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        raise AbiError(f"{where}: 'inputs' must be a list")
    anonymous = entry.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise AbiError(f"{where}: 'anonymous' must be true or false")
    event = EventAbi(name, tuple(_param_from_json(p, where, top=True) for p in inputs), anonymous)
    _check_topic_count(event, where)
    return event


def _check_topic_count(event: EventAbi, where: str) -> None:
    limit = 4 if event.anonymous else 3
    if event.indexed_count > limit:
        raise AbiError(f"{where}: {event.indexed_count} indexed parameters (at most {limit})")


def _split_top_level(text: str, where: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise AbiError(f"{where}: unbalanced ')'")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise AbiError(f"{where}: unbalanced '('")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _parse_param(text: str, where: str, *, top: bool) -> AbiParam:
    components: tuple[AbiParam, ...] = ()
    if text.startswith("tuple("):
        text = text[len("tuple") :]
    if text.startswith("("):
        close = _matching_paren(text, where)
        inner = text[1:close]
        components = tuple(
            _parse_param(p, where, top=False) for p in _split_top_level(inner, where) if p
        )
        rest = text[close + 1 :]
        suffix_end = 0
        while suffix_end < len(rest) and rest[suffix_end] not in " \t":
            suffix_end += 1
        type_str = "(" + ",".join(c.type for c in components) + ")" + rest[:suffix_end]
        words = rest[suffix_end:].split()
    else:
        words = text.split()
        if not words:
            raise AbiError(f"{where}: empty parameter")
        type_str, words = words[0], words[1:]
    indexed = False
    if words and words[0] == "indexed":
        if not top:
            raise AbiError(f"{where}: a tuple component cannot be indexed")
        indexed, words = True, words[1:]
    if len(words) > 1:
        raise AbiError(f"{where}: cannot read parameter {text!r}")
    name = _check_name(words[0] if words else "", where)
    canonical = _normalize_type(type_str, where)
    return AbiParam(name, canonical, indexed, components)


def _matching_paren(text: str, where: str) -> int:
    depth = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    raise AbiError(f"{where}: unbalanced '('")


def parse_event_signature(text: str) -> EventAbi:
    """An event from its human-readable form.

    ``[event] Name(type [indexed] [name], ...) [anonymous]``; tuple parameters are written
    ``(type name, ...)`` or ``tuple(type name, ...)``, optionally followed by array brackets.
    """
    where = f"event signature {text!r}"
    body = text.strip()
    if body.startswith("event "):
        body = body[len("event ") :].strip()
    anonymous = False
    if body.endswith(" anonymous"):
        anonymous, body = True, body[: -len(" anonymous")].rstrip()
    open_at = body.find("(")
    if open_at <= 0 or not body.endswith(")"):
        raise AbiError(f"{where}: expected Name(parameters)")
    name = body[:open_at].strip()
    if not name.isidentifier():
        raise AbiError(f"{where}: bad event name {name!r}")
    inner = body[open_at + 1 : -1]
    if _matching_paren(body[open_at:], where) != len(body) - open_at - 1:
        raise AbiError(f"{where}: text after the parameter list")
    params = [p for p in _split_top_level(inner, where) if p] if inner.strip() else []
    event = EventAbi(name, tuple(_parse_param(p, where, top=True) for p in params), anonymous)
    _check_topic_count(event, where)
    return event
