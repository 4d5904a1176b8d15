"""The pure parts of the HTTP conventions against simple references: the host of a ``Host``
header (urllib's parser), the virtual-host rule (geth's ``newVHostHandler``), origin
patterns (``fnmatch`` with ``*`` only), ``Accept-Encoding`` (RFC 9110 12.5.3 written out)."""

from __future__ import annotations

import fnmatch
import ipaddress
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainindex.errors import ConfigError
from rpc.server.compression import accepts_gzip
from rpc.server.http import HttpPolicy, host_of

labels = st.text("abcXYZ019-", min_size=1, max_size=6)
names = st.lists(labels, min_size=1, max_size=3).map(".".join)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
ports = st.none() | st.integers(0, 65535)


@st.composite
def host_headers(draw: st.DrawFn) -> tuple[str, str]:
    """A well-formed Host header and its host."""
    kind = draw(st.sampled_from(["name", "v4", "v6"]))
    host = draw({"name": names, "v4": ipv4, "v6": ipv6}[kind])
    text = f"[{host}]" if kind == "v6" else host
    port = draw(ports)
    return (text if port is None else f"{text}:{port}"), host


@given(host_headers())
def test_host_of_matches_urllib(case: tuple[str, str]) -> None:
    header, host = case
    expected = urllib.parse.urlsplit(f"http://{header}").hostname
    assert host_of(header) == expected == host.lower()


@given(host_headers(), st.lists(names | st.just("*"), max_size=3))
def test_virtual_hosts_as_geth(case: tuple[str, str], vhosts: list[str]) -> None:
    header, host = case
    policy = HttpPolicy.from_flags(",".join(vhosts), "", None, access=False)
    try:
        ipaddress.ip_address(host)
        expected = True  # an IP literal: no DNS rebinding possible
    except ValueError:
        expected = "*" in vhosts or host.lower() in {v.lower() for v in vhosts}
    assert policy.host_allowed(header) is expected
    assert policy.host_allowed("") is True  # no Host header at all (HTTP/1.0)


@pytest.mark.parametrize("header", ["[::1", "[::1]x", "[::1]:", "[::1]:8a"])
def test_malformed_brackets_match_nothing(header: str) -> None:
    assert not HttpPolicy.from_flags("localhost", "", None, access=False).host_allowed(header)


schemes = st.sampled_from(["http://", "https://", "HTTP://"])
origins = st.builds(lambda s, n, p: s + n + p, schemes, names, st.sampled_from(["", ":8080"]))
patterns = st.one_of(
    origins,
    st.builds(lambda s, n: s + "*." + n, schemes, names),
    st.builds(lambda s, n: s + n + ":*", schemes, names),
)


@given(origins, st.lists(patterns, max_size=3), st.booleans())
def test_origins_match_like_fnmatch(origin: str, listed: list[str], any_origin: bool) -> None:
    listed = [*listed, "*"] if any_origin else listed
    policy = HttpPolicy.from_flags("localhost", ",".join(listed), None, access=False)
    if any_origin:
        assert policy.allowed_origin(origin) == "*"
        return
    lowered = [p.lower() for p in listed]
    expected = any(fnmatch.fnmatchcase(origin.lower(), p) for p in lowered)
    assert policy.allowed_origin(origin) == (origin if expected else None)
    assert policy.allowed_origin(None) is None


weights = st.sampled_from(["", ";q=0", ";q=0.0", ";q=0.5", ";q=1", "; Q=0", ";q=x", ";level=1"])
codings = st.sampled_from(["gzip", "GZIP", "x-gzip", "*", "br", "deflate", "identity"])


def weight(params: str) -> float:
    for param in params.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


@given(st.lists(st.tuples(codings, weights), max_size=5))
def test_accept_encoding(items: list[tuple[str, str]]) -> None:
    header = ", ".join(coding + params for coding, params in items)
    explicit = [w for c, w in items if c.lower() in ("gzip", "x-gzip")]
    star = [w for c, w in items if c == "*"]
    expected = weight(explicit[0]) > 0 if explicit else any(weight(w) > 0 for w in star)
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    ("vhosts", "origins"),
    [("http://a", ""), ("a:80", ""), ("a/b", ""), ("", "a.example"), ("", "http://*.*.a")],
)
def test_bad_lists_are_config_errors(vhosts: str, origins: str) -> None:
    with pytest.raises(ConfigError):
        HttpPolicy.from_flags(vhosts, origins, None, access=False)
