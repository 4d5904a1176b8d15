"""HTTP conventions around the JSON-RPC endpoint: virtual hosts and CORS, and where gzip
(:mod:`rpc.server.compression`) and the access log (:mod:`rpc.server.access`) are plugged in.

Follows go-ethereum's ``node/rpcstack.go`` (``NewHTTPHandlerStack``: ``newVHostHandler``
around ``newCorsHandler``, all inside ``newGzipHandler``), with these differences:

* **Virtual hosts** (``--vhosts``): as geth, a request without a ``Host`` header or whose
  host is an IP literal is served (DNS rebinding needs a name), ``*`` accepts any, and any
  other name not listed gets ``403 invalid host specified``. Here the check covers the
  WebSocket upgrade too (geth checks only ``Origin`` there), and paths in
  :attr:`HttpPolicy.exempt_paths` (``/metrics``, ``/health``, ``/ready``) are never checked,
  so that Prometheus and container health checks can use any name.
* **CORS** (``--cors-origins``): the behaviour geth gets from ``github.com/rs/cors`` with
  ``AllowedMethods: POST, GET``, ``AllowedHeaders: *``, ``MaxAge: 600``: a preflight
  (``OPTIONS``) is answered 204, with ``Access-Control-Allow-*`` headers only when its origin
  is listed (``*``: any; one ``*`` inside a pattern matches any run of characters, as
  ``http://*.example.com``); an actual response carries ``Access-Control-Allow-Origin``
  likewise. An origin not listed gets no CORS headers, and the browser refuses the answer.
  Headers are added in ``on_response_prepare``, so streamed answers carry them too. geth
  answers ``OPTIONS`` only when CORS is configured; here always (204, no CORS headers).
* **No** ``Server`` **header** (:mod:`rpc.server.headers`).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from chainindex.errors import ConfigError
from rpc.server.access import access_middleware
from rpc.server.compression import gzip_middleware
from rpc.server.headers import hide_server
from rpc.server.monitoring import PATHS as MONITORING_PATHS

__all__ = ["HttpPolicy", "host_of", "install"]

_LOCAL_ORIGINS = ("localhost",)
_ALLOWED_METHODS = "POST, GET, OPTIONS"
_MAX_AGE = "600"


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """How the HTTP edge treats requests (see the module docstring)."""

    vhosts: frozenset[str] = frozenset(_LOCAL_ORIGINS)
    """Host names accepted in ``Host`` (lower case; ``*``: any). IP literals always are."""
    cors_origins: tuple[str, ...] = ()
    """Origins given CORS headers (lower case; ``*``: any; empty: none)."""
    gzip_min_bytes: int | None = 1024
    """Smallest answer compressed for a client that accepts gzip (None: never)."""
    access_log: bool = False
    """Log one line per request on ``rpc.server.access``."""
    exempt_paths: frozenset[str] = frozenset(MONITORING_PATHS)
    """Paths served whatever the ``Host`` (monitoring)."""

    @classmethod
    def from_flags(
        cls, vhosts: str, cors_origins: str, gzip_min_bytes: int | None, access: bool
    ) -> HttpPolicy:
        """The policy of comma-separated ``--vhosts`` and ``--cors-origins`` (a bad entry:
        :class:`ConfigError`)."""
        hosts = [host.lower() for host in _items(vhosts)]
        for host in hosts:
            if "/" in host or host.count(":") == 1:
                raise ConfigError(f"--vhosts: {host!r} is not a host name (no scheme or port)")
        origins = [origin.lower().rstrip("/") for origin in _items(cors_origins)]
        for origin in origins:
            if origin != "*" and ("://" not in origin or origin.count("*") > 1):
                raise ConfigError(
                    f"--cors-origins: {origin!r} is not an origin like https://app.example.com"
                )
        return cls(frozenset(hosts), tuple(origins), gzip_min_bytes, access)

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header may reach JSON-RPC."""
        if not host_header:
            return True
        host = host_of(host_header)
        return _is_ip_literal(host) or "*" in self.vhosts or host in self.vhosts

    def allowed_origin(self, origin: str | None) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin`` (None: no CORS headers)."""
        if not origin or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return "*"
        wanted = origin.lower()
        for pattern in self.cors_origins:
            head, star, tail = pattern.partition("*")
            if wanted == pattern or (
                star and len(wanted) >= len(head) + len(tail)
                and wanted.startswith(head) and wanted.endswith(tail)
            ):  # fmt: skip
                return origin
        return None


@functools.lru_cache(maxsize=256)
def _is_ip_literal(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 address (cached: every request asks)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_of(header: str) -> str:
    """The host of a ``Host`` header: port stripped, IPv6 brackets removed, lower case; a
    malformed one (``[::1``, ``[::1]x``) is kept whole, so it matches nothing."""
    header = header.strip().lower()
    if header.startswith("["):
        inside, bracket, port = header[1:].partition("]")
        if bracket and (not port or (port[0] == ":" and port[1:].isdigit())):
            return inside
        return header
    if header.count(":") == 1:
        return header.partition(":")[0]
    return header  # a name, or a bare IPv6 literal (too many colons: geth keeps it whole)


def install(app: web.Application, policy: HttpPolicy) -> None:
    """Add the policy's middlewares, CORS headers and ``OPTIONS /`` to ``app`` (before it
    starts; routes of the JSON-RPC endpoint are added by the caller)."""
    middlewares: list[Middleware] = []
    if policy.access_log:
        middlewares.append(access_middleware())
    middlewares.append(_vhost_middleware(policy))
    if policy.gzip_min_bytes is not None:
        middlewares.append(gzip_middleware(policy.gzip_min_bytes))
    app.middlewares.extend(middlewares)
    app.on_response_prepare.append(_cors_headers(policy))
    hide_server(app)

    async def preflight(request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    app.router.add_route("OPTIONS", "/", preflight)


def _vhost_middleware(policy: HttpPolicy) -> Middleware:
    @web.middleware
    async def vhosts(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in policy.exempt_paths or policy.host_allowed(
            request.headers.get(hdrs.HOST)
        ):
            return await handler(request)
        return web.Response(status=403, text="invalid host specified\n")

    return vhosts


def _cors_headers(
    policy: HttpPolicy,
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    async def add(request: web.Request, response: web.StreamResponse) -> None:
        if not policy.cors_origins or request.path in policy.exempt_paths:
            return
        preflight = request.method == hdrs.METH_OPTIONS
        vary = ["Origin"]
        if preflight:
            vary += ["Access-Control-Request-Method", "Access-Control-Request-Headers"]
        response.headers.add(hdrs.VARY, ", ".join(vary))
        allowed = policy.allowed_origin(request.headers.get(hdrs.ORIGIN))
        method = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD, "POST").upper()
        if allowed is None or (preflight and method not in _ALLOWED_METHODS.split(", ")):
            return
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = allowed
        if preflight:
            asked = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS)
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = _ALLOWED_METHODS
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = asked or "Content-Type"
            response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = _MAX_AGE

    return add
