"""The body of an HTTP JSON-RPC request: its media type checked, its content coding undone,
both bounded by the body limit.

* **Media type** (:func:`media_type_accepted`): go-ethereum's ``validateRequest``
  (``rpc/http.go``): the ``Content-Type`` is parsed as Go's ``mime.ParseMediaType`` does (type
  lower-cased, parameters well-formed, a trailing ``;`` ignored) and must be one of
  ``application/json``, ``application/json-rpc``, ``application/jsonrequest`` (the
  historical JSON-RPC over HTTP note, https://www.jsonrpc.org/historical/json-rpc-over-http.html);
  anything else, a missing header included, gets ``415 invalid content type, only
  application/json is supported``. This is what refuses a browser's cross-origin "simple"
  request (``text/plain``, form encodings), which CORS alone does not stop.
* **Content coding** (:func:`decode_body`): ``gzip`` (``x-gzip``) and ``deflate`` are
  undone here rather than by aiohttp (``auto_decompress=False``), so that the decoded size is
  bounded by the body limit too (a small compressed body cannot expand without limit), and a
  body that does not decode is a JSON-RPC parse error, not an HTTP 500 page. geth decodes no
  request coding at all; other codings get ``415`` (RFC 9110 section 15.5.16).
"""

from __future__ import annotations

import asyncio
import re
import zlib

from bloombits.errors import LogfilterError
from rpc.server.protocol import LIMIT_EXCEEDED, PARSE_ERROR, JsonRpcError

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "BAD_CONTENT_TYPE",
    "UnsupportedCodingError",
    "decode_body",
    "media_type_accepted",
]

ACCEPTED_MEDIA_TYPES = frozenset(
    {"application/json", "application/json-rpc", "application/jsonrequest"}
)
"""geth's ``acceptedContentTypes``."""

BAD_CONTENT_TYPE = "invalid content type, only application/json is supported"
"""geth's 415 message."""

# Go's mime package: a token is printable ASCII but space and the tspecials ()<>@,;:\"/[]?=
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_MEDIA_TYPE = re.compile(rf"{_TOKEN}(?:/{_TOKEN})?")
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*({_TOKEN}|{_QUOTED})\s*(?:;|$)")

_OFFLOAD_BYTES = 64 << 10
"""Compressed bodies at least this large are decoded on a worker thread (zlib drops the GIL)."""

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


_UNDECODABLE = "parse error: the request body does not decode as its Content-Encoding says"


class UnsupportedCodingError(LogfilterError):
    """A ``Content-Encoding`` the server does not decode (answered 415)."""

    def __init__(self, coding: str) -> None:
        super().__init__(f"unsupported content encoding {coding[:40]!r}")


def media_type_accepted(content_type: str | None) -> bool:
    """Whether ``content_type`` parses (as Go's ``mime.ParseMediaType``) to an accepted type."""
    if not content_type:
        return False
    base, _, rest = content_type.partition(";")
    media = base.strip().lower()
    if not _MEDIA_TYPE.fullmatch(media):
        return False
    names: set[str] = set()
    position = 0
    rest = rest.strip()
    while position < len(rest):
        found = _PARAM.match(rest, position)
        if found is None:
            return rest[position:].strip() == ";"  # Go ignores one trailing semicolon
        name = found.group(1).lower()
        if name in names:
            return False  # Go: duplicate parameter name
        names.add(name)
        position = found.end()
    return media in ACCEPTED_MEDIA_TYPES


def _inflate(raw: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    try:
        body = decoder.decompress(raw, limit + 1)
    except zlib.error:
        raise JsonRpcError(PARSE_ERROR, _UNDECODABLE) from None
    if len(body) > limit:
        raise JsonRpcError(
            LIMIT_EXCEEDED, f"request body too large: more than {limit} bytes decoded"
        )
    if not decoder.eof or decoder.unused_data:
        raise JsonRpcError(PARSE_ERROR, _UNDECODABLE)  # truncated, or trailing bytes
    return body


async def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """``raw`` with its content coding undone, at most ``limit`` bytes (a body that does not
    decode: parse error; larger: limit error; a coding not supported:
    :class:`UnsupportedCodingError`)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return raw
    if len(codings) > 1 or codings[0] not in _WBITS:
        raise UnsupportedCodingError(",".join(codings))
    wbits = _WBITS[codings[0]]
    if len(raw) >= _OFFLOAD_BYTES:
        return await asyncio.to_thread(_inflate, raw, wbits, limit)
    return _inflate(raw, wbits, limit)
