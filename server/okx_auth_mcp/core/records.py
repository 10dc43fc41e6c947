"""What the state directory's JSON files hold, validated on every read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from okx_auth_mcp.core.sites import SiteId


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # built on first use, not at start-up


class Endpoints(_Record):
    issuer: str
    client_id: str
    token_endpoint: str
    revocation_endpoint: str | None = None


class PendingLogin(_Record):
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


class Session(_Record):
    site: SiteId
    endpoints: Endpoints
    access_token: str
    access_expires_at: float
    refresh_token: str | None = None
    scopes: list[str]


class Registrations(_Record):
    clients: dict[str, str] = {}
    """issuer → client_id."""
