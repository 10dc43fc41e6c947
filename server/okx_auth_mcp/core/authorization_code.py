"""The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636), as OKX-Connect's two app modes use it: PKCE
for an app on the user's device (no secret), authorization code for an app server (a client secret), both
redirecting to a loopback URI this server listens on (RFC 8252 §7.3). Pure: the random values, the time and
the listener are the caller's.

- :func:`challenge`: S256 only (RFC 9700 §2.1.1: never ``plain``).
- :func:`authorization_url`: the link the user opens, on the server's ``authorization_endpoint``.
- :func:`callback_outcome`: what the browser brought back to the redirect: the code, once ``state`` matches
  (constant time) and ``iss`` is the issuer's (RFC 9207: required where the server says it sends one), or
  why the login ended (``access_denied``, OKX's 53009/53012/53016), or nothing at all (a request that is
  not this login's: never an outcome, so a stray request cannot end the login).
- :func:`redirect_uri`: ``OKX_OAUTH_REDIRECT_URI`` checked: ``http`` on 127.0.0.1 or [::1] only (the process
  listens there; a name could resolve elsewhere), a path, no query or fragment; port 0 or none: any free one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

from okx_auth_mcp.core.diagnosis.urls import bracketed

Grant = Literal["device", "pkce", "code"]
GRANTS: tuple[Grant, ...] = ("device", "pkce", "code")
DEFAULT_REDIRECT_PATH = "/callback"
_PATH_RE = re.compile(r"^(?:/[A-Za-z0-9._~-]*)+\Z")
"""A redirect path the listener matches literally: unreserved characters and slashes, no %-encoding."""
AUTHORIZATION_TTL_SECONDS = 600
"""How long a redirect login waits for the browser: as long as a device code lives."""

EndReason = Literal["denied", "expired", "failed"]
_ENDING_ERRORS: dict[str, EndReason] = {
    "access_denied": "denied",
    "53001": "denied",  # authorization canceled
    "53009": "failed",  # authorization failed
    "53012": "expired",  # authorization code expired
    "53016": "failed",  # redirect URI mismatch
}
"""The errors a redirect may carry that end the login, and how (RFC 6749 §4.1.2.1 and OKX's codes)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` of ``verifier`` (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def verifier_from(random_bytes: bytes) -> str:
    """A ``code_verifier`` of 43+ unreserved characters from at least 32 random bytes (RFC 7636 §4.1)."""
    if len(random_bytes) < 32:
        raise ValueError("a code verifier needs at least 32 random bytes")
    return b64url(random_bytes)


@dataclass(frozen=True)
class RedirectUri:
    """Where the browser comes back: the loopback address and port to listen on, and the path."""

    host: str
    port: int
    """0: any free port (the URI sent is then the one bound)."""
    path: str

    def with_port(self, port: int) -> str:
        return f"http://{bracketed(self.host)}:{port}{self.path}"

    def registered(self) -> str:
        """The URI as the app registers it at the server: without a port when any free one is taken (a loopback
        redirect matches at any port, RFC 8252 §7.3)."""
        return self.with_port(self.port) if self.port else f"http://{bracketed(self.host)}{self.path}"


def redirect_uri(value: str | None) -> RedirectUri:
    """``OKX_OAUTH_REDIRECT_URI`` (None: ``http://127.0.0.1:<any free port>/callback``), or ValueError saying
    what it must be."""
    if not value:
        return RedirectUri("127.0.0.1", 0, DEFAULT_REDIRECT_PATH)
    must = "must be http://127.0.0.1:PORT/PATH or http://[::1]:PORT/PATH (a loopback address this process listens on)"
    parts = urlsplit(value)
    try:
        host = parts.hostname or ""
        loopback = ipaddress.ip_address(host).is_loopback
        port = parts.port or 0
    except ValueError:
        raise ValueError(must) from None
    if parts.scheme != "http" or not loopback or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(must)
    if not _PATH_RE.match(parts.path):
        raise ValueError(must + ", its path letters, digits and . _ ~ - /")
    return RedirectUri(host, port, parts.path)


def authorization_url(endpoint: str, *, client_id: str, redirect: str, scope: str, state: str, verifier: str) -> str:
    """The link the user opens: the authorization request with ``state`` and the S256 challenge."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": scope,
        "state": state,
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    joiner = "&" if urlsplit(endpoint).query else "?"
    return f"{endpoint}{joiner}{urlencode(query)}"


@dataclass(frozen=True)
class Authorized:
    code: str


@dataclass(frozen=True)
class Ended:
    reason: EndReason
    error: str
    """The error the redirect carried (``access_denied``, ``53012``...): a word, never the server's prose."""


def callback_outcome(
    pairs: Sequence[tuple[str, str]], *, state: str, issuer: str, iss_required: bool
) -> Authorized | Ended | None:
    """What a request to the redirect URI means for the login whose ``state`` it must carry: the code, the end,
    or None (not this login's answer: a parameter twice (RFC 6749 §3.1), a wrong or missing ``state``, an
    ``iss`` that is not exactly the issuer (RFC 9207 §2.4), no code and no error)."""
    query = dict(pairs)
    if len(query) != len(pairs):
        return None
    sent_state = query.get("state", "")
    if not hmac.compare_digest(sent_state.encode("utf-8", "replace"), state.encode("ascii")):
        return None
    iss = query.get("iss")
    if (iss is None and iss_required) or (iss is not None and iss != issuer):
        return None  # a mix-up (RFC 9207 §2.4): another server's answer
    error = query.get("error")
    if error is not None:
        word = error if error.isascii() and error.replace("_", "").isalnum() and len(error) <= 64 else "invalid"
        return Ended(_ENDING_ERRORS.get(word, "failed"), word)
    code = query.get("code", "")
    if not code or len(code) > 2048 or not code.isascii() or not code.isprintable():
        return None
    return Authorized(code)


AuthMethod = Literal["none", "client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class ClientAuth:
    """How this client authenticates at the token endpoint (RFC 6749 §2.3.1): a public client (PKCE, the device
    flow) sends its ``client_id``; a confidential one its secret too, in HTTP Basic or in the form."""

    client_id: str
    secret: str | None = field(default=None, repr=False)
    method: AuthMethod = "none"

    def applied(self, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """The form and the headers of a token-endpoint request with this client's authentication."""
        if self.method == "client_secret_basic" and self.secret is not None:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.secret, safe='')}"
            basic = base64.b64encode(pair.encode("ascii")).decode("ascii")
            return {k: v for k, v in form.items() if k != "client_id"}, {"Authorization": f"Basic {basic}"}
        if self.method == "client_secret_post" and self.secret is not None:
            return {**form, "client_id": self.client_id, "client_secret": self.secret}, {}
        return {**form, "client_id": self.client_id}, {}


def client_auth(client_id: str, secret: str | None, supported: list[str]) -> ClientAuth:
    """The client's authentication as the server's metadata allows it: none without a secret; with one,
    ``client_secret_basic`` (RFC 8414's default when the metadata lists none), else ``client_secret_post``;
    ValueError when the server takes neither."""
    if secret is None:
        return ClientAuth(client_id)
    if not supported or "client_secret_basic" in supported:
        return ClientAuth(client_id, secret, "client_secret_basic")
    if "client_secret_post" in supported:
        return ClientAuth(client_id, secret, "client_secret_post")
    raise ValueError("the server's metadata lists neither client_secret_basic nor client_secret_post")
