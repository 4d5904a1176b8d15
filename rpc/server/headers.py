"""What every HTTP answer of the service's ports (JSON-RPC and metrics) loses: the
``Server`` header, which aiohttp fills with itself and the Python and aiohttp versions
(``Python/3.11 aiohttp/3.x``), telling an attacker what to try.

go-ethereum, on Go's ``net/http``, sends no ``Server`` header, and neither does an answer of
the application here: it is removed in ``on_response_prepare``, which aiohttp runs after
setting its own headers, so streamed answers and aiohttp's 404 and 405 pages lose it too. The
one answer that never reaches the application is aiohttp's ``400`` page for a request it cannot
parse as HTTP; aiohttp always names a server there, and :func:`hide_server` makes that name
``logfilter``, without versions (aiohttp reads it from ``aiohttp.web_response.SERVER_SOFTWARE``
for every answer; the client's ``User-Agent`` has its own copy and is untouched).
"""

from __future__ import annotations

from aiohttp import hdrs, web, web_response

__all__ = ["PROTOCOL_ERROR_SERVER", "hide_server"]

PROTOCOL_ERROR_SERVER = "logfilter"
"""The ``Server`` of aiohttp's pages for unparsable requests (no versions)."""


async def _drop_server_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.popall(hdrs.SERVER, None)


def hide_server(app: web.Application) -> None:
    """Remove the ``Server`` header from every answer of ``app`` (before it starts), and the
    versions from aiohttp's protocol error pages."""
    setattr(web_response, "SERVER_SOFTWARE", PROTOCOL_ERROR_SERVER)  # noqa: B010 (not exported)
    app.on_response_prepare.append(_drop_server_header)
