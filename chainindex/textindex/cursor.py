"""Search cursors: the opaque ``after`` token that continues a search on the next page.

A cursor is the sort key of the last hit of a page (score, block, log index; or block and log
index alone when sorted by block) with the sort it belongs to, as URL-safe base64 of compact
JSON. It does not depend on document numbers, which change as segments merge, so it stays
valid while the index grows; scores may shift when statistics change, as with any search-after.
"""

from __future__ import annotations

import base64
import binascii
import math

import orjson

from chainindex.textindex.errors import QueryError

__all__ = ["decode_cursor", "encode_cursor"]

_VERSION = 1


def encode_cursor(sort: str, values: tuple[float | int, ...]) -> str:
    """The cursor after a hit with these sort values."""
    raw = orjson.dumps({"v": _VERSION, "s": sort, "k": list(values)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, size: int) -> tuple[float | int, ...]:
    """The sort values of a cursor made for ``sort`` (``size`` values); a clear error if not."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or data.get("v") != _VERSION:
            raise ValueError
        if data.get("s") != sort:
            raise QueryError(f"cursor was made for sort {data.get('s')!r}, not {sort!r}")
        values = data["k"]
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        out: list[float | int] = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError
            out.append(v)
        return tuple(out)
    except QueryError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error, orjson.JSONDecodeError):
        raise QueryError("invalid cursor: pass the cursor of a previous result unchanged") from None
