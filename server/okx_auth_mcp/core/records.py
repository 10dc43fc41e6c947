"""What the state directory's JSON files hold, and the one base for every model validated from outside.

Every wire answer, every state file read back and every line of OKX's CLI output is a :class:`Frozen` model
checked by :func:`validated`: extra fields ignored, nothing mutable, validators built on first use (not at
start-up). :class:`Unfit` names the fields that did not fit, never their values; each layer turns it into
its own error (``BadResponse``, ``StoreCorrupt``, ``OkxCliBadOutput``)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from okx_auth_mcp.core.sites import SiteId

OAuthStatus = Literal["logged_in", "pending", "not_logged_in"]
LoginEndReason = Literal["expired", "denied", "session_expired"]
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


class Endpoints(Frozen):
    issuer: str
    client_id: str
    token_endpoint: str
    revocation_endpoint: str | None = None


class PendingLogin(Frozen):
    """A device authorization waiting for the user; ``outcome`` is set once it ended without tokens."""

    site: SiteId
    endpoints: Endpoints
    device_code: str
    user_code: str
    verification_uri: str
    expires_at: float
    interval: int
    last_poll_at: float | None = None
    scope: str
    outcome: Literal["expired", "denied"] | None = None

    def live(self, now: float) -> bool:
        return self.outcome is None and now < self.expires_at


class Session(Frozen):
    site: SiteId
    endpoints: Endpoints
    access_token: str
    access_expires_at: float
    refresh_token: str | None = None
    scopes: list[str]


class Registrations(Frozen):
    clients: dict[str, str] = {}
    """issuer → client_id."""


class StartedLogin(Frozen):
    """The login the okx-cli backend started: its link and code, to show them again while it is pending
    (``okx auth status`` does not repeat them)."""

    site: SiteId
    verification_uri: str
    user_code: str
    expires_at: float
