"""A hit's log decoded with the ABI it was indexed with, and its highlights."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eth_abi.grammar import BasicType

from chainindex.errors import AbiError
from chainindex.logsearch.decode.abi import abi_type_of
from chainindex.logsearch.decode.decoder import DecodedEvent, decode_event
from chainindex.logsearch.decode.registry import AbiRegistry
from chainindex.logsearch.document import TEXT_FIELD, arg_field_name
from chainindex.textindex.highlight import HighlightOptions, best_fragments
from chainindex.types import ChainLog

__all__ = ["decode_hit", "highlights"]


def decode_hit(registry: AbiRegistry, log: ChainLog, abi: str) -> DecodedEvent | None:
    """Decode a stored log with the ABI stored beside it (``None`` when it has none)."""
    if not abi:
        return None
    try:
        event = registry.by_human(abi)
    except AbiError:
        return None
    return decode_event(event, log.topics, log.data)


def _strings(value: Any, abi_type: Any) -> Iterable[str]:
    """Every string inside a decoded value of a type (arrays and tuples walked)."""
    if abi_type.arrlist:
        for item in value:
            yield from _strings(item, abi_type.item_type)
    elif isinstance(abi_type, BasicType):
        if abi_type.base == "string":
            yield value
    else:
        for component, item in zip(abi_type.components, value, strict=True):
            yield from _strings(item, component)


def highlights(
    event: DecodedEvent,
    matchers: dict[str, list[Callable[[str], bool]]],
    options: HighlightOptions,
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    shared = matchers.get(TEXT_FIELD, [])
    for index, arg in enumerate(event.args):
        if arg.hashed:
            continue
        name = arg_field_name(arg.param, index)
        field_matchers = [*matchers.get(name, []), *shared]
        if not field_matchers:
            continue
        fragments = []
        for text in _strings(arg.value, abi_type_of(arg.param.type)):
            fragments.extend(best_fragments(text, field_matchers, options))
        if fragments:
            out[name] = fragments[: options.max_fragments]
    return out
