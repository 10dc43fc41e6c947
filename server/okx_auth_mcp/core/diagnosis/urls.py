"""URLs as ``diagnose`` reads and shows them: leniently, and never with their credentials. Pure.

These are not :class:`okx_auth_mcp.core.oauth_wire.Url`, and cannot be: ``Url`` decides whether a URL may be
trusted (it refuses userinfo, backslashes, non-printable characters, anything but http(s), and host names
that are not strict DNS names), while the checklist must describe whatever the user wrote, proxies
included (``socks5://user:pw@[::1]:1080``, a bare ``host:port``, a host with an underscore) and show it
with the credentials dropped instead of refusing it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

NOT_A_URL = "(not a URL)"
_HOST_RE = re.compile(r"^[A-Za-z0-9._-]{1,253}$")
"""A host worth showing: letters, digits, dots, dashes, underscores (wider than a DNS name on purpose)."""


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def bracketed(host: str) -> str:
    """An IPv6 literal in brackets, as it is written next to a port."""
    return f"[{host}]" if ":" in host else host


def host_port(url: str) -> tuple[str, int]:
    """The host and port a connection to ``url`` goes to (the scheme's default port when none is given)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def display(url: str) -> str:
    """``host:port`` (``[v6]:port``) of ``url``: how a host is named in the checklist."""
    host, port = host_port(url)
    return f"{bracketed(host)}:{port}"


def _origin_and_path(value: str, schemes: tuple[str, ...]) -> tuple[str, str] | None:
    """(``scheme://host[:port]``, path) of an absolute URL with one of ``schemes``, without its credentials,
    query or fragment; None when ``value`` is not one."""
    try:
        parts = urlsplit(value.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in schemes or not host or not (is_ip(host) or _HOST_RE.match(host)):
        return None
    netloc = bracketed(host) if port is None else f"{bracketed(host)}:{port}"
    return f"{parts.scheme}://{netloc}", parts.path.rstrip("/")


def clean_url(value: str) -> tuple[str, bool]:
    """``value`` without credentials, query or fragment, and whether it is an absolute http(s) URL. One that
    is not is never shown (``NOT_A_URL``): a password pasted into the field, or after a host as its port,
    reads like any other text."""
    found = _origin_and_path(value, ("http", "https"))
    return (NOT_A_URL, False) if found is None else (found[0] + found[1], True)


def redact_proxy(value: str) -> str:
    """A proxy URL as it may be shown: scheme, host and port; never its credentials, path or query. A bare
    ``host:port`` means http, as the HTTP client reads it."""
    text = value.strip()
    found = _origin_and_path(text if "://" in text else f"http://{text}", ("http", "https", "socks5", "socks5h"))
    return NOT_A_URL if found is None else found[0]
