"""gzip for HTTP answers, whole and streamed, as go-ethereum's ``newGzipHandler``
(``node/rpcstack.go``), with these differences: geth compresses every answer to a client
that mentions gzip; here only answers of at least a threshold (``--gzip-min-bytes``: small
ones are not worth the CPU), at level 1 (fast), to clients whose ``Accept-Encoding`` accepts
gzip (RFC 9110 section 12.5.3: ``q=0`` refuses), with ``Vary: Accept-Encoding``.

A whole answer is compressed in one go (on a worker thread when large: zlib releases the
GIL). A streamed answer (:class:`StreamedBody`) is held back until it reaches
:data:`HOLD_BYTES` (or the gzip threshold, if larger): one that ends before goes out whole,
with ``Content-Length``, in one write with its headers, and is compressed as whole answers
are. A longer one is sent with chunked encoding, compressed as it is written, with one
``zlib.compressobj`` per response and a sync flush every :data:`FLUSH_EVERY` bytes of input,
never gathered; a stream that fails midway still cuts the connection. WebSocket messages
are untouched (aiohttp negotiates permessage-deflate there).
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "FLUSH_EVERY", "HOLD_BYTES", "STREAM", "StreamedBody", "accepts_gzip", "gzip_middleware",
]  # fmt: skip

HOLD_BYTES = 64 << 10
"""A streamed answer is held back up to this size, and sent whole if it ends within it: a
small answer then costs one write (headers and body) instead of three (headers, a chunk, the
last chunk), and the client gets its length."""

FLUSH_EVERY = 256 << 10
"""Input bytes of a streamed answer between gzip sync flushes (the client sees progress)."""

_OFFLOAD_BYTES = 256 << 10
"""Whole answers at least this large are compressed on a worker thread (zlib drops the GIL)."""


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip: ``gzip`` (or ``x-gzip``) if listed
    decides, else ``*``; a weight ``q=0`` (or an unreadable one) refuses (RFC 9110 12.5.3)."""
    star = False
    for item in accept_encoding.split(","):
        coding, *params = item.split(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip", "*"):
            accepted = _weight(params) > 0
            if coding != "*":
                return accepted
            star = star or accepted
    return star


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def _compressor() -> zlib._Compress:
    return zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # level 1, gzip framing


def _gzip(body: bytes) -> bytes:
    compressor = _compressor()
    return compressor.compress(body) + compressor.flush()


class StreamedBody:
    """An answer written part by part: held back while short, then sent with chunked
    encoding, gzip-compressed on the way when the client accepts it and the answer reaches
    the threshold (see the module docstring)."""

    def __init__(self, request: web.Request, gzip_min_bytes: int | None) -> None:
        self.request = request
        """The request answered."""
        self.response = web.StreamResponse(headers={hdrs.CONTENT_TYPE: "application/json"})
        """The response when streamed (prepared once the held parts reach the hold size)."""
        self._threshold = (
            gzip_min_bytes if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")) else None
        )
        self._hold = max(HOLD_BYTES, self._threshold or 0)
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._compressor: zlib._Compress | None = None
        self._since_flush = 0
        self.sent = 0
        """Body bytes written (compressed when compressed)."""
        self.aborted = False
        """Whether the connection was cut midway."""

    async def _start(self, compressed: bool) -> None:
        self.request[STREAM] = self
        self.response.enable_chunked_encoding()
        if compressed:
            self.response.headers[hdrs.CONTENT_ENCODING] = "gzip"
            self._compressor = _compressor()
        if self._threshold is not None:
            self.response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
        await self.response.prepare(self.request)

    async def write(self, part: bytes) -> None:
        """Send ``part`` (compressed), or hold it back while the answer is short."""
        if self.response.prepared:
            await self._send(part)
            return
        self._held.append(part)
        self._held_bytes += len(part)
        if self._held_bytes >= self._hold:
            await self._start(compressed=self._threshold is not None)
            await self._send(self._take_held())

    def _take_held(self) -> bytes:
        held = b"".join(self._held)
        self._held.clear()
        return held

    async def _send(self, part: bytes) -> None:
        if self._compressor is None:
            await self._out(part)
            return
        out = self._compressor.compress(part)
        self._since_flush += len(part)
        if self._since_flush >= FLUSH_EVERY:
            out += self._compressor.flush(zlib.Z_SYNC_FLUSH)
            self._since_flush = 0
        if out:
            await self._out(out)

    async def _out(self, data: bytes) -> None:
        self.sent += len(data)
        await self.response.write(data)

    async def finish(self) -> web.StreamResponse:
        """End the answer; the response to return (a short answer: a whole one, which the
        gzip middleware compresses like any other)."""
        if not self.response.prepared:
            return web.Response(body=self._take_held(), content_type="application/json")
        if self._compressor is not None:
            await self._out(self._compressor.flush())
        await self.response.write_eof()
        return self.response

    def abort(self) -> None:
        """Cut the connection: the client must not take a partial answer for a whole one."""
        self.aborted = True
        self.request[STREAM] = self
        if self.request.transport is not None:
            self.request.transport.abort()


STREAM = web.RequestKey("rpc.stream", StreamedBody)
"""The streamed answer of the request, if any (its bytes sent and whether it was cut)."""


def gzip_middleware(least: int) -> Middleware:
    """Compress whole answers of at least ``least`` bytes for clients that accept gzip."""

    @web.middleware
    async def gzip(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if (
            type(response) is not web.Response
            or response.status != 200
            or hdrs.CONTENT_ENCODING in response.headers
            or not accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
        ):
            return response
        body = response.body
        if not isinstance(body, bytes):
            return response
        response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
        if len(body) < least:
            return response
        if len(body) >= _OFFLOAD_BYTES:
            response.body = await asyncio.to_thread(_gzip, body)
        else:
            response.body = _gzip(body)
        response.headers[hdrs.CONTENT_ENCODING] = "gzip"
        return response

    return gzip
