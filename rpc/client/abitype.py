"""ABI type strings as the client reads them: the shape of a decoded event argument's value.

A search hit's event arguments come with their ABI type (``uint256``, ``address[]``,
``(address,uint256)[2]``...); :mod:`rpc.client.searchresult` types each value by it. This
module parses such a string with the grammar of eth-abi's ``eth_abi/grammar.py``, word for
word::

    type           = tuple_type / basic_type
    tuple_type     = "(" type ("," type)* ")" arrlist?
    basic_type     = alphas sub? arrlist?
    sub            = digits "x" digits / digits
    arrlist        = ("[" digits "]" / "[]")+
    alphas         = [A-Za-z]+
    digits         = [1-9][0-9]*

What differs: the result is the small :class:`AbiType` (base, components, dimensions), not
eth-abi's ``ABIType`` classes, and like ``eth_abi.grammar.parse`` it only parses — a type
such as ``uint7`` is accepted (nothing here encodes or decodes ABI bytes). The client keeps
its own parser so that it stands alone: importing eth-abi costs a third of a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = ["AbiType", "parse_abi_type"]

_BASIC: Final = re.compile(r"([A-Za-z]+)(?:[1-9][0-9]*(?:x[1-9][0-9]*)?)?")
"""A basic type without its array dimensions: the base and its size (``bytes32``)."""
_DIMENSION: Final = re.compile(r"\[([1-9][0-9]*)?\]")
"""One array dimension: ``[k]`` or ``[]``."""


@dataclass(frozen=True, slots=True)
class AbiType:
    """A parsed ABI type: a basic type or a tuple, with its array dimensions."""

    base: str | None
    """The basic type's name without its size (``uint``, ``bytes``, ``address``,
    ``string``...); None for a tuple."""
    components: tuple[AbiType, ...] | None = None
    """A tuple's component types (None for a basic type)."""
    dimensions: tuple[int | None, ...] = ()
    """Array dimensions, innermost first: a length, or None for ``[]``."""

    @property
    def item_type(self) -> AbiType:
        """The type of an array's items (this type without its outermost dimension)."""
        if not self.dimensions:
            raise ValueError("not an array type")
        return AbiType(self.base, self.components, self.dimensions[:-1])


def _type(text: str, pos: int) -> tuple[AbiType, int]:
    """The type starting at ``pos``, and where it ends; ValueError when there is none."""
    if text.startswith("(", pos):
        components = []
        pos += 1
        while True:
            component, pos = _type(text, pos)
            components.append(component)
            if text.startswith(",", pos):
                pos += 1
            elif text.startswith(")", pos):
                pos += 1
                break
            else:
                raise ValueError(f"bad ABI type {text!r} at {pos}")
        base, parts = None, tuple(components)
    else:
        match = _BASIC.match(text, pos)
        if match is None:
            raise ValueError(f"bad ABI type {text!r} at {pos}")
        base, parts, pos = match.group(1), None, match.end()
    dimensions: list[int | None] = []
    while (dimension := _DIMENSION.match(text, pos)) is not None:
        size = dimension.group(1)
        dimensions.append(None if size is None else int(size))
        pos = dimension.end()
    return AbiType(base, parts, tuple(dimensions)), pos


@lru_cache(maxsize=4096)
def parse_abi_type(text: str) -> AbiType:
    """The parsed type of an ABI type string (cached); ValueError when it is not one."""
    if not isinstance(text, str):
        raise TypeError(f"an ABI type is a string, got {type(text).__name__}")
    abi_type, end = _type(text, 0)
    if end != len(text):
        raise ValueError(f"bad ABI type {text!r} at {end}")
    return abi_type
