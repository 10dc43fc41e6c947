"""OAuth 2.0 protocol parsing: every server response is validated and normalised here, once. Pure.

RFC 8414 metadata, RFC 7591 registration, RFC 8628 device authorization, RFC 6749 token responses and
error bodies, OKX's ``{"code", "msg"}`` bodies, and the anti-phishing check of verification URIs.

Everything a server sends is bounded: texts by length and characters (a token is RFC 6750 ``b64token``
characters only: it goes into headers, form bodies, the state files and, for ``okx-auth-mcp token``, onto
the terminal), numbers by range (``expires_in`` of a token at most ``MAX_ACCESS_TTL``, a device login's at
most a day, its ``interval`` at most an hour), so that ``now + expires_in`` is always a time. Patterns end at
the end of the text, not at ``$``, which lets a trailing newline through. The nesting of the JSON is bounded
where it is decoded (``edges.http.decode_json``)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from pydantic import AfterValidator, Field, field_validator

from okx_auth_mcp.core.oauth_errors import (
    TOKEN_ERRORS,
    AccessDenied,
    BadResponse,
    ExpiredToken,
    InvalidGrant,
    OkxError,
    PhishingGuard,
    TokenError,
)
from okx_auth_mcp.core.records import B64TOKEN_RE, MAX_INTERVAL_SECONDS, USER_CODE_RE, Frozen, Unfit, validated

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
DEFAULT_ACCESS_TTL = 3600
MAX_ACCESS_TTL = 366 * 86400
"""The longest lifetime an access token's ``expires_in`` may claim (a year; OKX's last an hour). Beyond it
the number is damage, not a lifetime: ``10**400`` overflows a float, ``10**300`` never needs a refresh."""
MAX_DEVICE_TTL = 86400
MAX_INTERVAL = MAX_INTERVAL_SECONDS
_TEXT_LIMIT = 2048


_WORD_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
SCOPE_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}\Z")
_MARKUP = set("[]()<>\"'`{}|^*")
"""Characters a shown link must not carry: they could make the agent's markdown or HTML render another
link or markup next to the real one (``https://www.okx.com/?[Open](https://evil.example)``)."""


_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\Z")


@dataclass(frozen=True)
class Url:
    """An absolute http(s) URL as a browser would read it, or a ValueError: printable ASCII only (an IDN
    host must arrive in punycode), no backslash (browsers read it as a slash, Python does not), no
    userinfo, a plain DNS name or IP literal as host, a valid port (not 0: no server listens there)."""

    scheme: str
    host: str
    port: int | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port or (443 if self.scheme == "https" else 80)

    @classmethod
    def parse(cls, value: str) -> Url:
        if len(value) > _TEXT_LIMIT or not value.isascii() or any(not 32 < ord(ch) < 127 for ch in value):
            raise ValueError("must be printable ASCII without spaces")
        if "\\" in value:
            raise ValueError("must not contain a backslash")
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http"):
            raise ValueError("must be an absolute http(s) URL")
        if "@" in parts.netloc:
            raise ValueError("must not carry credentials before its host")
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
            literal = ipaddress.ip_address(host) if host and not _HOST_RE.match(host) else None
        except ValueError:
            raise ValueError("must have a valid host and port") from None
        if not host or (literal is None and not _HOST_RE.match(host)):
            raise ValueError("must have a plain host name")
        if port == 0:
            raise ValueError("must have a valid host and port")
        return cls(parts.scheme, host, port)

    @property
    def loopback(self) -> bool:
        return _is_loopback(self.host)


def _safe_url(value: str) -> str:
    """A URL we may send a request to: https, or plain http on loopback only."""
    url = Url.parse(value)
    if url.scheme != "https" and not url.loopback:
        raise ValueError("must be https (plain http only on loopback)")
    return value


def _shown_url(value: str) -> str:
    """A URL that will be shown to the user: a valid URL with no markup characters in it."""
    Url.parse(value)
    if _MARKUP & set(value):
        raise ValueError("must not contain markup characters")
    return value


_CODE_QUERY_RE = re.compile(r"^user_code=((?:[A-Za-z0-9-]|\+|%20){1,96})\Z")


def _squeezed(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def _plain_link(uri: str, *, query: bool, user_code: str | None = None) -> None:
    """A ValueError unless ``uri`` has no fragment (not even an empty ``#``) and, when ``query``, no query
    but one ``user_code=<code>`` (``user_code``'s own when given, then required), else none at all. A link
    that reads as another host (``https://www.okx.com#.evil.example``, ``https://www.okx.com?.evil.example``)
    still opens okx.com, but a reader may believe the host it shows."""
    if "#" in uri:
        raise ValueError("must not carry a fragment")
    _, asked, text = uri.partition("?")
    if not asked:
        if user_code is not None:
            raise ValueError("must carry the login's user_code")
        return
    found = _CODE_QUERY_RE.match(text) if query else None
    if found is None:
        raise ValueError("must carry no query but its user_code" if query else "must not carry a query")
    if user_code is not None and _squeezed(unquote_plus(found[1])) != _squeezed(user_code):
        raise ValueError("must carry the login's own user_code")


def _user_code(value: str) -> str:
    if not USER_CODE_RE.match(value):
        raise ValueError("must be a short code of letters, digits and dashes")
    return value


ShownUrl = Annotated[str, AfterValidator(_shown_url)]
"""A link the user will see and open."""
UserCode = Annotated[str, AfterValidator(_user_code)]
"""A device login's code, which the user types."""


def _word(value: object) -> str:
    """A server-supplied code (``invalid_grant``, ``53003``) if it is one plain word, else ``unrecognized``:
    nothing else the server wrote may reach text an agent relays."""
    text = str(value)
    return text if _WORD_RE.match(text) else "unrecognized"


_W = TypeVar("_W", bound=Frozen)


class ServerMetadata(Frozen):
    """RFC 8414 metadata: the device grant needs ``device_authorization_endpoint``, the redirect grants
    ``authorization_endpoint`` (``core.authorization_code``); each says so when its endpoint is missing."""

    issuer: str
    token_endpoint: str
    device_authorization_endpoint: str | None = None
    authorization_endpoint: str | None = None
    registration_endpoint: str | None = None
    revocation_endpoint: str | None = None
    code_challenge_methods_supported: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=16)
    token_endpoint_auth_methods_supported: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=16)
    authorization_response_iss_parameter_supported: bool = False

    @field_validator(
        "issuer",
        "token_endpoint",
        "device_authorization_endpoint",
        "authorization_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    )
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _safe_url(value)


class Registration(Frozen):
    client_id: str = Field(min_length=1, max_length=512)


class DeviceAuthorization(Frozen):
    device_code: str = Field(min_length=1, max_length=_TEXT_LIMIT)
    user_code: UserCode
    verification_uri: ShownUrl
    verification_uri_complete: str | None = None
    expires_in: int = Field(gt=0, le=MAX_DEVICE_TTL)
    interval: int = Field(default=DEFAULT_INTERVAL, ge=1, le=MAX_INTERVAL)


def check_device_links(device: DeviceAuthorization) -> None:
    """PhishingGuard unless the device answer's links are plain (RFC 8628 §3.2): ``verification_uri`` with no
    query and no fragment, ``verification_uri_complete`` (if any) with no fragment and a query of exactly
    ``user_code=`` this login's code. Where they may point is :class:`TrustPolicy`'s to say."""
    links: list[tuple[str, str | None]] = [(device.verification_uri, None)]
    if device.verification_uri_complete is not None:
        links.append((device.verification_uri_complete, device.user_code))
    for uri, code in links:
        try:
            _plain_link(uri, query=code is not None, user_code=code)
        except ValueError as exc:
            raise PhishingGuard(f"the verification URI is malformed ({exc})") from None


def _b64token(value: str | None) -> str | None:
    if value is not None and not B64TOKEN_RE.match(value):
        raise ValueError("must be RFC 6750 token characters (letters, digits, -._~+/ and trailing =)")
    return value


class TokenResponse(Frozen):
    access_token: Annotated[str, AfterValidator(_b64token)] = Field(min_length=1, max_length=16384, repr=False)
    token_type: str
    expires_in: int = Field(default=DEFAULT_ACCESS_TTL, gt=0, le=MAX_ACCESS_TTL)
    refresh_token: Annotated[str | None, AfterValidator(_b64token)] = Field(
        default=None, min_length=1, max_length=16384, repr=False
    )
    scope: str | None = Field(default=None, max_length=512)

    @field_validator("scope")
    @classmethod
    def _scopes(cls, value: str | None) -> str | None:
        """Scopes are shown to the user ("Scopes: read_only, trade"): plain words only, a handful of them."""
        if value is not None:
            words = value.split(" ")
            if len(words) > 16 or not all(SCOPE_RE.match(w) for w in words):
                raise ValueError("must be a few space-separated scope words")
        return value

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":
            raise ValueError("only Bearer tokens are supported")
        return value


def parse(model: type[_W], body: Any, what: str) -> _W:
    """``body`` (decoded JSON) as ``model``, or :class:`BadResponse` naming the bad fields (never values)."""
    if not isinstance(body, dict):
        raise BadResponse(f"{what}: expected a JSON object")
    try:
        return validated(model, body)
    except Unfit as exc:
        raise BadResponse(f"{what}: {exc.details}") from None


_CODE_RE = re.compile(r"^[0-9]{1,8}\Z")


def _code_field(body: Any) -> str | None:
    """The ``code`` of an OKX-style body, as text, when it is a string or a number."""
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    return None if isinstance(code, bool) or not isinstance(code, str | int) else str(code)


def okx_code(body: Any) -> str | None:
    """The body's OKX code when it carries one that is plain digits (``"0"`` included), else None."""
    code = _code_field(body)
    return code if code is not None and _CODE_RE.match(code) else None


def _okx_error(body: Any, status: int) -> OkxError | None:
    """OKX's ``{"code": "53xxx", "msg": ...}`` body, if that is what this is (code 0 means success)."""
    code = _code_field(body)
    if code is None or code in ("", "0"):
        return None
    assert isinstance(body, dict)
    msg = body.get("msg")
    return OkxError(_word(code), msg[:200] if isinstance(msg, str) else "", status)


def error_from_body(status: int, body: Any, what: str) -> Exception:
    """The error an unsuccessful response stands for: OKX code, RFC 6749 error, or BadResponse."""
    if status >= 500:
        return BadResponse(f"{what}: the server failed (HTTP {status})")
    okx = _okx_error(body, status)
    if okx is not None:
        return okx
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str) and error:
            description = body.get("error_description")
            described = description[:200] if isinstance(description, str) else None
            return TOKEN_ERRORS.get(error, TokenError)(_word(error), described)
    return BadResponse(f"{what}: unexpected HTTP {status}")


def okx_error_in_success(body: Any) -> OkxError | None:
    """OKX answers some failures with HTTP 200 and a non-zero ``code``."""
    if isinstance(body, dict) and "access_token" not in body and "device_code" not in body:
        return _okx_error(body, 200)
    return None


_OKX_TOKEN_ERRORS: dict[str, type[TokenError]] = {
    "53000": InvalidGrant,  # Invalid token
    "53002": InvalidGrant,  # Token expired
    "53003": InvalidGrant,  # Token revoked
    "53005": InvalidGrant,  # Wrong refresh token
    "53001": AccessDenied,  # Authorization canceled
    "53009": AccessDenied,  # Authorization failed
    "53012": ExpiredToken,  # Authorization code expired
}


def as_token_error(error: OkxError) -> Exception:
    """At the token endpoint, OKX codes that mean "this grant is over" act as their RFC 6749/8628 errors, so
    a revoked session ends and a cancelled login stops instead of being retried forever."""
    kind = _OKX_TOKEN_ERRORS.get(error.code)
    return error if kind is None else kind(f"okx_{error.code}", error.msg or None)


def scopes_of(token: TokenResponse, requested: str) -> list[str]:
    """Granted scopes: the response's ``scope`` (RFC 6749 §5.1), else what was requested."""
    return (token.scope if token.scope is not None else requested).split()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_safe_issuer(issuer: str) -> bool:
    """An issuer we may send tokens to: https, or plain http on loopback only; no query or fragment (not even
    an empty ``?`` or ``#``)."""
    try:
        _safe_url(issuer)
    except ValueError:
        return False
    return "?" not in issuer and "#" not in issuer


@dataclass(frozen=True)
class TrustPolicy:
    """Where a verification URI may point. Built-in sites: https on okx.com or a listed host. A custom
    issuer: the issuer's own origin, http allowed only on loopback. A refusal names no host: nothing from
    the rejected link may reach the user."""

    issuer: str
    custom_issuer: bool
    allowed_hosts: Collection[str] = ()

    def check(self, uri: str, user_code: str | None = None) -> None:
        """PhishingGuard unless ``uri`` is a link we may show: also no fragment, no port 0, and no query but
        one ``user_code=<code>`` (``user_code``'s own, required, when given: a ``verification_uri_complete``)."""
        try:
            url = Url.parse(_shown_url(uri))
            _plain_link(uri, query=True, user_code=user_code)
        except ValueError as exc:
            raise PhishingGuard(f"the verification URI is malformed ({exc})") from None
        if self.custom_issuer:
            if url.origin != Url.parse(self.issuer).origin:
                raise PhishingGuard("the verification URI is not on the issuer's origin")
            if url.scheme != "https" and not url.loopback:
                raise PhishingGuard("the verification URI uses plain http on a non-loopback host")
            return
        if url.scheme != "https":
            raise PhishingGuard("the verification URI is not https")
        allowed = {h.lower() for h in self.allowed_hosts}
        if not (url.host == "okx.com" or url.host.endswith(".okx.com") or url.host in allowed):
            raise PhishingGuard(
                "the verification URI is not on an okx.com host (OKX_AUTH_ALLOWED_HOSTS can list others that "
                "belong to OKX)"
            )


def well_known_urls(issuer: str) -> list[str]:
    """RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path; then the OpenID
    Connect location as a fallback."""
    base = issuer.rstrip("/")
    parts = urlsplit(base)
    return [
        urlunsplit((parts.scheme, parts.netloc, f"/.well-known/oauth-authorization-server{parts.path}", "", "")),
        f"{base}/.well-known/openid-configuration",
    ]
