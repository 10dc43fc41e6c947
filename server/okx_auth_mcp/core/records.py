"""What the state directory's JSON files hold, and the one base for every model validated from outside.

Every wire answer, every state file read back and every line of OKX's CLI output is a :class:`Frozen` model
checked by :func:`validated`: extra fields ignored, nothing mutable, validators built on first use (not at
start-up). :class:`Unfit` names the fields that did not fit, never their values; each layer turns it into
its own error (``BadResponse``, ``StoreCorrupt``, ``OkxCliBadOutput``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from okx_auth_mcp.core.sites import SiteId

OAuthStatus = Literal["logged_in", "pending", "not_logged_in"]
LoginEndReason = Literal["expired", "denied", "session_expired", "failed", "interrupted"]
REFRESH_MARGIN_SECONDS = 60
"""Refresh when the access token has less than this left, so no request carries a dying token."""


class Frozen(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built on first use, not at start-up


_M = TypeVar("_M", bound=BaseModel)


class Unfit(ValueError):
    """Data that does not fit a model: the fields at fault (``fields``) and pydantic's reasons (``details``),
    neither of which carries a value."""

    def __init__(self, fields: tuple[str, ...], details: str) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields
        self.details = details


def validated(model: type[_M], data: Any) -> _M:
    """``data`` as ``model``, or :class:`Unfit`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        fields = tuple(dict.fromkeys(".".join(map(str, e["loc"])) for e in errors))
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errors)
        raise Unfit(fields, details) from None


B64TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/-]+=*\Z")
r"""RFC 6750 §2.1 ``b64token``, ``1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="``: all a Bearer
token may hold. Nothing else reaches a header, a form body, the terminal (``okx-auth-mcp token``) or a state
file. (``\Z``, not ``$``, which would let a trailing newline through.)"""
USER_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{2,30}[A-Za-z0-9]\Z")
"""A device login's code, which the user types: letters, digits, dashes and spaces, 4 to 32 of them."""
MAX_TOKEN_LENGTH = 16384
MAX_INTERVAL_SECONDS = 3600
"""The longest wait between two polls of a device login."""
LATEST_TIME = 2.0**33
"""No time this program stores lies past the year 2242: a larger one (``1e308``, ``inf``) is damage, not a
date (an access token that never expires would never be refreshed)."""


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


Time = Annotated[float, Field(ge=0, le=LATEST_TIME, allow_inf_nan=False)]
"""Seconds since the epoch, finite and bounded."""
Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH), _matching(B64TOKEN_RE, "a b64token")]
"""An access or refresh token (RFC 6750 characters only)."""
UserCode = Annotated[str, _matching(USER_CODE_RE, "a short code of letters, digits and dashes")]
Text = Annotated[str, Field(min_length=1, max_length=2048)]


class Endpoints(Frozen):
    issuer: Text
    client_id: Annotated[str, Field(min_length=1, max_length=512)]
    token_endpoint: Text
    revocation_endpoint: Text | None = None
    grant: Literal["device", "pkce", "code"] = "device"
    """How the session was granted: API calls send ``TERMID`` for device and PKCE sessions, not for ``code``
    (an app server's); a ``code`` session authenticates its refreshes with the client secret."""
    auth_method: Literal["none", "client_secret_basic", "client_secret_post"] = "none"


class Listener(Frozen):
    """The process that listens on a redirect login's loopback URI: while it lives, the login can finish."""

    pid: int = Field(ge=1, le=2**31)
    started_at: Time
    """The process's start time, so that a pid used again by another process is not taken for it."""


class PendingLogin(Frozen):
    """A login waiting for the user; ``outcome`` is set once it ended without tokens. A device login has its
    device and user codes; a redirect login (PKCE, code) its ``listener`` instead, and no secret on disk (its
    ``state`` and verifier live in the listening process only)."""

    site: SiteId
    endpoints: Endpoints
    device_code: Text | None = None
    user_code: UserCode | None = None
    verification_uri: Annotated[str, Field(min_length=1, max_length=4096)]
    verification_uri_complete: Text | None = None
    """A device login's link with its code in it (RFC 8628 §3.3.1), for ``login --open``: checked as on receipt."""
    expires_at: Time
    interval: int = Field(default=5, ge=1, le=MAX_INTERVAL_SECONDS)
    last_poll_at: Time | None = None
    scope: Annotated[str, Field(max_length=512)]
    outcome: Literal["expired", "denied", "failed", "interrupted"] | None = None
    listener: Listener | None = None

    def live(self, now: float) -> bool:
        return self.outcome is None and now < self.expires_at


class Session(Frozen):
    site: SiteId
    endpoints: Endpoints
    access_token: Token
    access_expires_at: Time
    refresh_token: Token | None = None
    scopes: list[Annotated[str, Field(max_length=64)]] = Field(max_length=16)


MAX_USED_TICKETS = 1024
"""At most this many are kept (the newest): more than a thousand logins in ten minutes is no user."""


class UsedTickets(Frozen):
    """The site tickets that started a login (their ids, with their expiry), kept until they expire."""

    used: dict[Annotated[str, Field(max_length=128)], int] = Field(default={}, max_length=MAX_USED_TICKETS)


class Registrations(Frozen):
    clients: dict[str, str] = {}
    """issuer → client_id."""


class StartedLogin(Frozen):
    """The login the okx-cli backend started: its link and code, to show them again while it is pending
    (``okx auth status`` does not repeat them)."""

    site: SiteId
    verification_uri: Text
    user_code: UserCode
    expires_at: Time
