"""OAuth 2.0 protocol parsing: every server response is validated and normalised here, once. Pure.

RFC 8414 metadata, RFC 7591 registration, RFC 8628 device authorization, RFC 6749 token responses and
error bodies, OKX's ``{"code", "msg"}`` bodies, and the anti-phishing check of verification URIs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from okx_auth_mcp.oauth_errors import TOKEN_ERRORS, BadResponse, OkxError, PhishingGuard, TokenError

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
DEFAULT_ACCESS_TTL = 3600
_USER_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{2,30}[A-Za-z0-9]$")
_TEXT_LIMIT = 2048


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if any(ch.isspace() or ord(ch) < 32 for ch in value) or len(value) > _TEXT_LIMIT:
        raise ValueError("must not contain whitespace or control characters")
    return value


_W = TypeVar("_W", bound=_Wire)


class ServerMetadata(_Wire):
    issuer: str
    token_endpoint: str
    device_authorization_endpoint: str
    registration_endpoint: str | None = None
    revocation_endpoint: str | None = None

    @field_validator(
        "issuer",
        "token_endpoint",
        "device_authorization_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
    )
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)


class Registration(_Wire):
    client_id: str = Field(min_length=1, max_length=512)


class DeviceAuthorization(_Wire):
    device_code: str = Field(min_length=1, max_length=_TEXT_LIMIT)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None = None
    expires_in: int = Field(gt=0, le=86400)
    interval: int = Field(default=DEFAULT_INTERVAL, ge=1, le=3600)

    @field_validator("user_code")
    @classmethod
    def _user_code(cls, value: str) -> str:
        if not _USER_CODE_RE.match(value):
            raise ValueError("must be a short code of letters, digits and dashes")
        return value

    @field_validator("verification_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return _http_url(value)


class TokenResponse(_Wire):
    access_token: str = Field(min_length=1, max_length=16384)
    token_type: str
    expires_in: int = Field(default=DEFAULT_ACCESS_TTL, gt=0)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=16384)
    scope: str | None = None

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":
            raise ValueError("only Bearer tokens are supported")
        return value


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())


def parse(model: type[_W], body: Any, what: str) -> _W:
    """``body`` (decoded JSON) as ``model``, or :class:`BadResponse` naming the bad fields (never values)."""
    if not isinstance(body, dict):
        raise BadResponse(f"{what}: expected a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadResponse(f"{what}: {_describe(exc)}") from None


def error_from_body(status: int, body: Any, what: str) -> Exception:
    """The error an unsuccessful response stands for: OKX code, RFC 6749 error, or BadResponse."""
    if status >= 500:
        return BadResponse(f"{what}: the server failed (HTTP {status})")
    if isinstance(body, dict):
        code, msg = body.get("code"), body.get("msg")
        if isinstance(code, str | int) and str(code) not in ("", "0"):
            return OkxError(str(code), str(msg or "")[:200], status)
        error = body.get("error")
        if isinstance(error, str) and error:
            description = body.get("error_description")
            described = description[:300] if isinstance(description, str) else None
            return TOKEN_ERRORS.get(error, TokenError)(error[:100], described)
    return BadResponse(f"{what}: unexpected HTTP {status}")


def okx_error_in_success(body: Any) -> OkxError | None:
    """OKX answers some failures with HTTP 200 and a non-zero ``code``."""
    if isinstance(body, dict) and "code" in body and "access_token" not in body and "device_code" not in body:
        code = body.get("code")
        if isinstance(code, str | int) and str(code) not in ("", "0"):
            return OkxError(str(code), str(body.get("msg") or "")[:200], 200)
    return None


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
    """An issuer we may send tokens to: https, or plain http on loopback only."""
    parts = urlsplit(issuer)
    if not parts.hostname or parts.username is not None or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))


@dataclass(frozen=True)
class TrustPolicy:
    """Where a verification URI may point. Built-in sites: https on okx.com or a listed host. A custom
    issuer: the issuer's own origin, http allowed only on loopback."""

    issuer: str
    custom_issuer: bool
    allowed_hosts: Collection[str] = ()

    def check(self, uri: str) -> None:
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        if parts.username is not None or parts.password is not None:
            raise PhishingGuard(f"the verification URI carries credentials in its host part ({host})")
        if self.custom_issuer:
            issuer = urlsplit(self.issuer)
            same = (parts.scheme, host, parts.port) == (
                issuer.scheme,
                (issuer.hostname or "").lower(),
                issuer.port,
            )
            if not same:
                raise PhishingGuard(
                    f"the verification URI is on {parts.scheme}://{parts.netloc}, not the issuer's origin"
                )
            if parts.scheme != "https" and not _is_loopback(host):
                raise PhishingGuard("the verification URI uses plain http on a non-loopback host")
            return
        if parts.scheme != "https":
            raise PhishingGuard(f"the verification URI is not https ({parts.scheme}://{host})")
        allowed = {h.lower() for h in self.allowed_hosts}
        if not (host == "okx.com" or host.endswith(".okx.com") or host in allowed):
            raise PhishingGuard(
                f"the verification URI is on {host}, not an okx.com host; add it to OKX_AUTH_ALLOWED_HOSTS "
                "only if you know it belongs to OKX"
            )
