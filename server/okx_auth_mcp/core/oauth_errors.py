"""The OAuth layer's errors, named after the wire.

::

    OAuthError
    ├── DiscoveryFailed          no metadata at any well-known location
    ├── NetworkError             connect/read failure or timeout
    ├── BadResponse              non-JSON, oversized, wrong shape, unexpected HTTP status
    ├── OkxError                 OKX's own {"code": "53xxx", "msg": ...} body
    ├── PhishingGuard            a verification URI we refuse to show
    └── TokenError               an RFC 6749 §5.2 / RFC 8628 §3.5 error response
        ├── AuthorizationPending     retriable
        ├── SlowDown                 retriable, interval += 5 s
        ├── ExpiredToken             final
        ├── AccessDenied             final
        └── InvalidGrant             final (refresh token revoked, expired or reused)
"""

from __future__ import annotations

from okx_auth_mcp.core.okx_codes import describe_okx_code


class OAuthError(Exception):
    """Talking to the authorization server failed."""


class DiscoveryFailed(OAuthError):
    def __init__(self, issuer: str, tried: list[str], why: str) -> None:
        super().__init__(
            f"No OAuth metadata found for issuer {issuer}: tried {', '.join(tried)} ({why}). "
            "Set OKX_OAUTH_ISSUER to the authorization server's issuer URL if it lives elsewhere."
        )
        self.issuer = issuer
        self.tried = tried


class NetworkError(OAuthError):
    """The request did not complete: connection refused, DNS, TLS, or timeout."""


class BadResponse(OAuthError):
    """The server answered, but not with something we can use."""


class OkxError(OAuthError):
    def __init__(self, code: str, msg: str, status: int) -> None:
        super().__init__(f"OKX error {code}: {describe_okx_code(code)} (HTTP {status})")
        self.code = code
        self.msg = msg
        self.status = status


class PhishingGuard(OAuthError):
    """The verification URI is not on a host we trust for this issuer; nothing was shown to the user."""


class TokenError(OAuthError):
    """An error response from the token endpoint. Its text is the error code alone: the server's
    ``error_description`` is kept for logs, never shown."""

    error = "token_error"
    retriable = False

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"the authorization server answered {error}")
        self.error = error
        self.description = description


class AuthorizationPending(TokenError):
    """The authorization request is still pending as the end user hasn't yet completed the user-interaction
    steps (RFC 8628 §3.5)."""

    retriable = True


class SlowDown(TokenError):
    """A variant of "authorization_pending": polling should continue, but the interval MUST be increased by
    5 seconds for this and all subsequent requests (RFC 8628 §3.5)."""

    retriable = True


class ExpiredToken(TokenError):
    """The "device_code" has expired, and the device authorization session has concluded (RFC 8628 §3.5)."""


class AccessDenied(TokenError):
    """The authorization request was denied (RFC 8628 §3.5)."""


class InvalidGrant(TokenError):
    """The provided authorization grant or refresh token is invalid, expired, revoked, or was issued to
    another client (RFC 6749 §5.2)."""


TOKEN_ERRORS: dict[str, type[TokenError]] = {
    "authorization_pending": AuthorizationPending,
    "slow_down": SlowDown,
    "expired_token": ExpiredToken,
    "access_denied": AccessDenied,
    "invalid_grant": InvalidGrant,
}
