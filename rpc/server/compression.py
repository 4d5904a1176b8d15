"""gzip for HTTP answers, whole and streamed, as go-ethereum's ``newGzipHandler``
(``node/rpcstack.go``), with these differences: geth compresses every answer to a client
that mentions gzip; here only answers of at least a threshold (``--gzip-min-bytes``: small
ones are not worth the CPU), at level 1 (fast), to clients whose ``Accept-Encoding`` accepts
gzip (RFC 9110 section 12.5.3: ``q=0`` refuses), with ``Vary: Accept-Encoding``.

A whole answer is compressed in one go (on a worker thread when large: zlib releases the
GIL). A streamed answer (:class:`StreamedBody`) is compressed as it is written, with one
``zlib.compressobj`` per response and a sync flush every :data:`FLUSH_EVERY` bytes of input,
never gathered; only its first threshold bytes are held back to decide, and a stream that
fails midway still cuts the connection. WebSocket messages are untouched (aiohttp
negotiates permessage-deflate there).
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

__all__ = ["FLUSH_EVERY", "STREAM", "StreamedBody", "accepts_gzip", "gzip_middleware"]

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
    """A chunked answer written part by part, gzip-compressed on the way when the client
    accepts it and the answer reaches the threshold (see the module docstring)."""

    def __init__(self, request: web.Request, gzip_min_bytes: int | None) -> None:
        self.request = request
        """The request answered."""
        self.response = web.StreamResponse(headers={hdrs.CONTENT_TYPE: "application/json"})
        """The response (prepared on the first write that goes out)."""
        self._threshold = (
            gzip_min_bytes if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")) else None
        )
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._compressor: zlib._Compress | None = None
        self._since_flush = 0
        self.sent = 0
        """Body bytes written (compressed when compressed)."""
        self.aborted = False
        """Whether the connection was cut midway."""
        request[STREAM] = self

    async def _start(self, compressed: bool) -> None:
        self.response.enable_chunked_encoding()
        if compressed:
            self.response.headers[hdrs.CONTENT_ENCODING] = "gzip"
            self._compressor = _compressor()
        if self._threshold is not None:
            self.response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
        await self.response.prepare(self.request)

    async def write(self, part: bytes) -> None:
        """Send ``part`` (compressed, or held back while too little is known)."""
        if self.response.prepared:
            await self._send(part)
        elif self._threshold is None:
            await self._start(compressed=False)
            await self._out(part)
        else:
            self._held.append(part)
            self._held_bytes += len(part)
            if self._held_bytes >= self._threshold:
                await self._start(compressed=True)
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

    async def finish(self) -> None:
        """End the answer (a short held-back one goes out whole, uncompressed)."""
        if not self.response.prepared:
            body = self._take_held()
            self.response.content_length = len(body)
            if self._threshold is not None:
                self.response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
            await self.response.prepare(self.request)
            await self._out(body)
        elif self._compressor is not None:
            await self._out(self._compressor.flush())
        await self.response.write_eof()

    def abort(self) -> None:
        """Cut the connection: the client must not take a partial answer for a whole one."""
        self.aborted = True
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
