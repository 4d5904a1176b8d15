"""Escaping terms for the query syntax (shared by ``Query.to_string`` and the parser)."""

from __future__ import annotations

__all__ = ["SPECIAL", "escape", "field_prefix", "quote"]

SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/ \t\n\r')
"""Characters that must be escaped with a backslash inside a bare term."""


def escape(text: str) -> str:
    """A bare term of the query syntax that reads back as ``text``."""
    if text == "":
        return '""'
    out = "".join("\\" + c if c in SPECIAL else c for c in text)
    if out in ("AND", "OR", "NOT", "TO"):
        return "\\" + out
    return out


def quote(text: str) -> str:
    """A quoted string of the query syntax that reads back as ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def field_prefix(field: str, default_field: str) -> str:
    """``field:`` unless ``field`` is the default field."""
    return "" if field == default_field else escape(field) + ":"
