"""Request ids answered exactly as the request wrote them.

go-ethereum keeps a request's id as ``json.RawMessage`` and echoes its bytes. Here requests are
parsed by orjson, which reads a number with a fraction or an exponent, and an integer beyond
64 bits, as a double: ``18446744073709551616`` would come back as ``1.8446744073709552e+19``.
So a body whose ids include such a number (rare) is parsed again by the standard library's
``json``, which hands each number's text over: ids keep that text (:class:`JsonNumberText`,
written back by :func:`encode_id`), every other number becomes an int or a float as orjson
would make it. String ids are answered JSON-equal (re-encoded, escapes may differ), null as
null.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from rpc.server.protocol import PARSE_ERROR, JsonId, JsonNumberText, JsonRpcError

__all__ = ["encode_id", "parse_exact"]


def parse_exact(body: bytes, first: orjson.JSONDecodeError | None) -> Any:
    """``body`` parsed by the standard library, the rare way: every number is read from its
    own text (ids kept as that text, other numbers as int or float), so that an id such as
    ``18446744073709551616`` or ``1.50`` is answered as written (orjson reads both as a
    double, as go-ethereum's ``json.RawMessage`` id would not)."""

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        message = json.loads(
            body.decode(), parse_int=JsonNumberText, parse_float=JsonNumberText,
            parse_constant=constant,
        )  # fmt: skip
    except (ValueError, RecursionError) as err:
        raise JsonRpcError(PARSE_ERROR, f"parse error: {first or err}") from None
    messages = message if isinstance(message, list) else [message]
    for item in messages:
        if isinstance(item, dict):
            for key, value in item.items():
                if key != "id":
                    item[key] = _numbers(value)
    return message if isinstance(message, list) else messages[0]


def _numbers(value: Any) -> Any:
    """``value`` with its :class:`JsonNumberText` turned into int or float."""
    if isinstance(value, JsonNumberText):
        text = value.text
        return float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def encode_id(request_id: JsonId) -> bytes:
    """The JSON of a request id, as the request wrote it."""
    if isinstance(request_id, JsonNumberText):
        return request_id.text.encode()
    return orjson.dumps(request_id)
