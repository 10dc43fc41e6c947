"""The sandbox's OAuth clients: those registered ahead of time, as OKX registers an institution's application
(a ``client_id``, for a confidential client a ``client_secret``, and its redirect URIs), and those a device-flow
client registers itself (RFC 7591, public, no redirect URI). Also the redirect URI rule and the command line's
``--client ID[:SECRET]=REDIRECT``.

The redirect URI of an authorization request must equal a registered one exactly, with one exception
(RFC 8252 §7.3): a registered ``http://127.0.0.1/...`` or ``http://[::1]/...`` matches the same URI with any
port, because an app on the user's device listens on whatever port is free. ``localhost`` gets no such
exception (RFC 8252 §8.3), nor does any other host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import SplitResult, urlsplit

LOOPBACK_REDIRECT_HOSTS = frozenset({"127.0.0.1", "::1"})
"""The hosts whose redirect URIs match at any port (``urlsplit`` gives ``[::1]`` as ``::1``)."""
_PLAIN_HTTP_HOSTS = LOOPBACK_REDIRECT_HOSTS | {"localhost"}


@dataclass(frozen=True)
class SandboxClient:
    """A client the sandbox knows. ``secret`` None: a public client (PKCE, authentication method ``none``)."""

    client_id: str
    name: str = ""
    """What the consent pages call the application (its ``client_id`` when empty)."""
    secret: str | None = field(default=None, repr=False)
    redirect_uris: tuple[str, ...] = ()
    self_registered: bool = False
    """Registered through RFC 7591 by the client itself: its name is its own claim, unverified."""

    @property
    def confidential(self) -> bool:
        return self.secret is not None

    @property
    def title(self) -> str:
        return self.name or self.client_id

    def redirect_allowed(self, asked: str) -> bool:
        return any(redirect_matches(registered, asked) for registered in self.redirect_uris)


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError:
        return None
    return parts


def redirect_matches(registered: str, asked: str) -> bool:
    """``asked`` equals ``registered``, or both are the same loopback IP redirect but for the port (module
    docstring). Never with a fragment, user info, or a port that is not a number."""
    if "#" in asked:
        return False
    if asked == registered:
        return True
    mine, theirs = _split(registered), _split(asked)
    if mine is None or theirs is None or theirs.username is not None or theirs.password is not None:
        return False
    return (
        mine.scheme == theirs.scheme == "http"
        and mine.hostname in LOOPBACK_REDIRECT_HOSTS
        and theirs.hostname == mine.hostname
        and (theirs.path, theirs.query) == (mine.path, mine.query)
    )


def checked_redirect(uri: str) -> str:
    """``uri`` if it may be registered as a redirect URI, else ValueError saying why: absolute, no fragment, no
    user info, and plain ``http`` only on loopback (RFC 9700 §4.1)."""
    parts = _split(uri)
    if parts is None or not parts.scheme or not (parts.netloc or parts.path):
        raise ValueError(f"{uri!r} is not an absolute URI")
    if "#" in uri:
        raise ValueError(f"{uri!r} has a fragment (RFC 6749 §3.1.2)")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{uri!r} has user information")
    if parts.scheme == "http" and parts.hostname not in _PLAIN_HTTP_HOSTS:
        raise ValueError(f"{uri!r}: plain http only on loopback (127.0.0.1, [::1], localhost); use https")
    return uri


def parse_client_option(option: str) -> SandboxClient:
    """One ``--client ID[:SECRET]=REDIRECT``: the client's id, its secret if any (a confidential client), and one
    redirect URI. ValueError names what does not fit."""
    who, equals, redirect = option.partition("=")
    client_id, colon, secret = who.partition(":")
    if not equals or not redirect:
        raise ValueError(f"{option!r}: expected ID[:SECRET]=REDIRECT_URI")
    if not client_id or not client_id.isprintable() or " " in client_id:
        raise ValueError(f"{option!r}: the client ID must be printable, with no space")
    if colon and not secret:
        raise ValueError(f"{option!r}: an empty secret (leave out the colon for a public client)")
    return SandboxClient(client_id, secret=secret if colon else None, redirect_uris=(checked_redirect(redirect),))


def merged_clients(options: Iterable[SandboxClient], names: dict[str, str] | None = None) -> tuple[SandboxClient, ...]:
    """Options naming the same client as one client with all their redirect URIs (each once), and each client's
    name from ``names``. ValueError when two options give one client different secrets, or a name has no client."""
    merged: dict[str, SandboxClient] = {}
    for client in options:
        known = merged.get(client.client_id)
        if known is None:
            merged[client.client_id] = client
            continue
        if known.secret != client.secret:
            raise ValueError(f"client {client.client_id!r} is given two different secrets (or one and none)")
        uris = known.redirect_uris + tuple(u for u in client.redirect_uris if u not in known.redirect_uris)
        merged[client.client_id] = replace(known, redirect_uris=uris)
    for client_id, name in (names or {}).items():
        if client_id not in merged:
            raise ValueError(f"--client-name {client_id}: no --client {client_id}[:SECRET]=REDIRECT")
        merged[client_id] = replace(merged[client_id], name=name)
    return tuple(merged.values())
