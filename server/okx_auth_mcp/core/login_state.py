"""What the login procedure tells its callers: the OAuth status as the state directory says it, the
pre-flight's finding, a site choice, a started or skipped login. Plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.gate import Gate
from okx_auth_mcp.core.records import LoginEndReason, OAuthStatus, PendingLogin, StartedLogin
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang


@dataclass(frozen=True)
class LoginPending:
    site: SiteId
    verification_uri: str
    user_code: str | None
    """None for a redirect login (PKCE, code): the user only opens the link."""
    expires_in: int
    link_to_open: str | None = None
    """What a browser opened for the user gets: the link with the code in it, where the server offered one."""


@dataclass(frozen=True)
class AuthState:
    """What the state directory says, without any network request."""

    status: OAuthStatus
    site: SiteId | None = None
    scopes: list[str] = field(default_factory=list)
    reason: LoginEndReason | None = None
    pending: PendingLogin | None = None
    """The native backend's pending-login record (its polling schedule)."""
    login: LoginPending | None = None
    """A pending login's link and code, when known, so they can be shown again."""


@dataclass(frozen=True)
class Preflight:
    gate: Gate
    next: Literal["choose_site", "api_key_configured", "logged_in", "pending"]
    menu_ticket: str | None = None
    profile: str | None = None
    site: SiteId | None = None
    scopes: list[str] = field(default_factory=list)
    login: LoginPending | None = None
    """The live login's link and code (``pending``), so a new conversation can show them again."""


@dataclass(frozen=True)
class SiteChoice:
    site: SiteId
    site_ticket: str
    next: Literal["login", "api_key_configured"]
    profile: str | None = None


@dataclass(frozen=True)
class LoginSkipped:
    profile: str


def pending_view(pending: PendingLogin | StartedLogin, now: float) -> LoginPending:
    """A recorded login's link and code, with the seconds its code has left at ``now``."""
    return LoginPending(
        pending.site,
        pending.verification_uri,
        pending.user_code,
        int(pending.expires_at - now),
        (pending.verification_uri_complete if isinstance(pending, PendingLogin) else None) or pending.verification_uri,
    )


BackendNoteReason = Literal["okx_auth_bin_is_ours", "okx_cli_too_old", "okx_cli_error"]


@dataclass(frozen=True)
class BackendNote:
    """Why ``OKX_AUTH_BACKEND=auto`` runs the native backend although an okx CLI may be on PATH:
    ``OKX_AUTH_BIN`` names ``okx-auth-mcp-bin`` (okx's ``auth`` commands would call back into this server's own
    session), the okx found has no ``okx auth`` (``version``: what it printed), or ``okx auth status`` failed
    otherwise (``code``: the failure's code). ``diagnose`` also notes an okx-cli backend's okx that is too old."""

    reason: BackendNoteReason
    version: str | None = None
    code: str | None = None

    def text(self, lang: Lang) -> str:
        return texts.backend_note(lang, self.reason, self.version, self.code)

    def next_step(self, lang: Lang) -> str | None:
        return texts.backend_note_next(lang, self.reason)

    def view(self, lang: Lang) -> str:
        """The note and what the user can do about it, as one text (preflight's ``backend_note``)."""
        return " ".join(part for part in (self.text(lang), self.next_step(lang)) if part)
