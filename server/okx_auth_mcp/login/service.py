"""The login procedure: the gate, the OKX config, the state store and the OAuth client put together.

Synchronous and clock-injected; the MCP tools call it from a worker thread. It raises its own
:class:`FlowError` family for refusals and lets the lower layers' errors (``ConfigError``, ``StoreError``,
``TicketError``, ``OAuthError``) through; the tool boundary translates all of them.

::

    FlowError
    ├── SiteNotConfirmed     a login without a site ticket fresh from choose_site
    ├── SiteMismatch         a site ticket for another site
    ├── ReplyNotUnderstood   a menu reply that chooses nothing
    ├── ReplyMissing         no menu reply, from a client that cannot ask the user itself
    ├── SiteNotChosen        the user declined the client's own site question
    ├── PendingElsewhere     a login for another site is pending
    ├── AlreadyLoggedIn      a login while a session is logged in
    └── NotLoggedIn          an access token asked for without a session
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args

from pydantic import BaseModel, ValidationError

from okx_auth_mcp.core import tickets
from okx_auth_mcp.core.gate import Event, Gate, State, preflight_event
from okx_auth_mcp.core.oauth_errors import (
    AccessDenied,
    ExpiredToken,
    InvalidGrant,
    OAuthError,
    SlowDown,
    TokenError,
)
from okx_auth_mcp.core.oauth_wire import SLOW_DOWN_STEP, TokenResponse, TrustPolicy, is_safe_issuer, scopes_of
from okx_auth_mcp.core.records import Endpoints, PendingLogin, Registrations, Session
from okx_auth_mcp.core.sites import SITES, SiteId, parse_site_reply
from okx_auth_mcp.core.texts import LoginEndReason
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.edges.oauth_client import DEFAULT_TIMEOUT_SECONDS, OAuthHttp, request_worst_case
from okx_auth_mcp.edges.okx_config import ConfigError
from okx_auth_mcp.edges.state_store import RECOVER, StateStore, StoreCorrupt, default_state_dir

DEFAULT_SCOPE = "read_only trade"
LOCK_SLACK_SECONDS = 10.0
REFRESH_MARGIN_SECONDS = 60
"""Refresh when the access token has less than this left, so no request carries a dying token."""

_R = TypeVar("_R", bound=BaseModel)
BackendName = Literal["native", "okx-cli"]
BackendChoice = Literal["native", "okx-cli", "auto"]

PENDING_FILE, SESSION_FILE, REGISTRATIONS_FILE = "pending.json", "session.json", "registrations.json"


class FlowError(Exception):
    code = "flow_error"


class SiteNotConfirmed(FlowError):
    code = "site_not_confirmed"


class SiteMismatch(FlowError):
    code = "site_mismatch"


class ReplyNotUnderstood(FlowError):
    code = "reply_not_understood"


class ReplyMissing(FlowError):
    """choose_site without the user's reply, from a client that cannot ask the user itself."""

    code = "reply_missing"


class SiteNotChosen(FlowError):
    """The user declined or dismissed the client's own site question."""

    code = "site_not_chosen"


class PendingElsewhere(FlowError):
    code = "login_pending"


class AlreadyLoggedIn(FlowError):
    code = "already_logged_in"


class NotLoggedIn(FlowError):
    """An access token was asked for, but there is no OAuth session (none, or a login still pending)."""

    code = "not_logged_in"


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    environ: Mapping[str, str]
    issuer_override: str | None = None
    scope: str = DEFAULT_SCOPE
    allowed_hosts: tuple[str, ...] = ()
    http_timeout: float = DEFAULT_TIMEOUT_SECONDS
    backend: BackendChoice = "auto"
    """OKX_AUTH_BACKEND: ``native`` (this package's OAuth client), ``okx-cli`` (OKX's official CLI), or
    ``auto`` (the official CLI when it is installed and answers, else native)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment; ConfigError for a value that cannot be used."""
        env = dict(os.environ if environ is None else environ)
        issuer = env.get("OKX_OAUTH_ISSUER") or None
        if issuer is not None and not is_safe_issuer(issuer):
            raise ConfigError(
                "OKX_OAUTH_ISSUER must be an https URL without credentials, query or fragment "
                "(plain http only on 127.0.0.1 / localhost)"
            )
        try:
            timeout = float(env.get("OKX_AUTH_HTTP_TIMEOUT") or DEFAULT_TIMEOUT_SECONDS)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 300:
            raise ConfigError("OKX_AUTH_HTTP_TIMEOUT must be a number of seconds between 0 and 300")
        hosts = env.get("OKX_AUTH_ALLOWED_HOSTS", "")
        backend = env.get("OKX_AUTH_BACKEND") or "auto"
        if backend not in get_args(BackendChoice):
            raise ConfigError("OKX_AUTH_BACKEND must be native, okx-cli or auto")
        return cls(
            state_dir=default_state_dir(env),
            environ=env,
            issuer_override=issuer,
            scope=env.get("OKX_OAUTH_SCOPE") or DEFAULT_SCOPE,
            allowed_hosts=tuple(h.strip().lower() for h in hosts.split(",") if h.strip()),
            http_timeout=timeout,
            backend=cast(BackendChoice, backend),
        )


OAuthStatus = Literal["logged_in", "pending", "not_logged_in"]


@dataclass(frozen=True)
class LoginPending:
    site: SiteId
    verification_uri: str
    user_code: str
    expires_in: int


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


class AuthService:
    def __init__(
        self, settings: Settings, clock: Callable[[], float] = time.time, http: OAuthHttp | None = None
    ) -> None:
        self.settings = settings
        # A login holds the lock across at most four requests (two discovery locations, registration, device
        # authorization): another process waits that long before it calls the lock stuck.
        self.store = StateStore(
            settings.state_dir, lock_timeout=4 * request_worst_case(settings.http_timeout) + LOCK_SLACK_SECONDS
        )
        self._clock = clock
        self._http = http or OAuthHttp(timeout=settings.http_timeout)

    def close(self) -> None:
        self._http.close()

    @property
    def backend_name(self) -> BackendName:
        """Which login backend is in use: ``native`` (this package's own OAuth client)."""
        return "native"

    # ----- reading ---------------------------------------------------------------------------------

    def config(self) -> okx_config.OkxConfig:
        return okx_config.load(self.settings.environ)

    def _pending(self) -> PendingLogin | None:
        data = self.store.read_json(PENDING_FILE)
        return None if data is None else _validated(PendingLogin, data, self.store.directory / PENDING_FILE)

    def _session(self) -> Session | None:
        data = self.store.read_json(SESSION_FILE)
        return None if data is None else _validated(Session, data, self.store.directory / SESSION_FILE)

    def auth_state(self, now: float | None = None) -> AuthState:
        """The OAuth status from the files alone: no request, no poll, no refresh. Read under the lock: a
        login that completes writes the session, then deletes the pending file."""
        now = self._clock() if now is None else now
        with self.store.locked():
            session = self._session()
            if session is not None:
                return AuthState("logged_in", session.site, list(session.scopes))
            pending = self._pending()
            if pending is not None:
                if pending.live(now):
                    return AuthState("pending", pending.site, pending=pending, login=_pending_view(pending, now))
                return AuthState("not_logged_in", reason=pending.outcome or "expired")
            return AuthState("not_logged_in")

    # ----- the tools' operations -------------------------------------------------------------------

    def preflight(self) -> Preflight:
        """Steps 0.1 → 0.2 → 0.3, from local state only."""
        now = self._clock()
        state = self.auth_state(now)
        keyed, configured_site = self.api_key_and_site()
        site_known = configured_site is not None or state.status in ("logged_in", "pending")
        event = preflight_event(site_known=site_known, api_key=keyed is not None, oauth_status=state.status)
        gate = Gate().apply(event)
        if event is Event.API_KEY_FOUND:
            assert keyed is not None
            return Preflight(gate, "api_key_configured", profile=keyed)
        if event is Event.SESSION_FOUND:
            return Preflight(gate, "logged_in", site=state.site, scopes=state.scopes)
        if event is Event.LOGIN_PENDING:
            return Preflight(gate, "pending", site=state.site, login=state.login)
        ticket = tickets.issue(self.store.ticket_key(), gate, now)
        return Preflight(gate, "choose_site", menu_ticket=ticket)

    def menu_gate(self, menu_ticket: str) -> Gate:
        """The gate a valid menu ticket holds; raises when the ticket is not one (before the user is asked)."""
        held = tickets.verify(self.store.ticket_key(), menu_ticket, self._clock())
        if held.gate.state is not State.CHOOSING_SITE:
            raise SiteNotConfirmed("this is not a menu ticket: run preflight to show the site menu")
        return held.gate

    def choose_site(self, reply: str, menu_ticket: str) -> SiteChoice:
        gate = self.menu_gate(menu_ticket)
        site = parse_site_reply(reply)
        if site is None:
            raise ReplyNotUnderstood("the reply chooses no site")
        site_ticket = tickets.issue(self.store.ticket_key(), gate.apply(Event.SITE_CHOSEN, site), self._clock())
        keyed = self.api_key_profile_name()
        if keyed is not None:
            return SiteChoice(site, site_ticket, "api_key_configured", profile=keyed)
        return SiteChoice(site, site_ticket, "login")

    def login(self, site: SiteId, site_ticket: str | None) -> LoginSkipped | LoginPending:
        """Like OKX's CLI guard, any API key skips the login (it starts nothing, so it needs no ticket). Then
        the Pre-login Gate, then one device authorization, or the live one for the same site."""
        keyed = self.api_key_profile_name()
        if keyed is not None:
            return LoginSkipped(keyed)
        if not site_ticket:
            raise SiteNotConfirmed("no site ticket: the user has not chosen a site from the menu")
        held = tickets.verify(self.store.ticket_key(), site_ticket, self._clock())
        if not held.gate.can(Event.LOGIN_STARTED):
            raise SiteNotConfirmed("this ticket does not carry a site choice: call choose_site first")
        if held.gate.site != site:
            raise SiteMismatch(f"the user chose {held.gate.site}, not {site}")
        return self._begin_login(site)

    # ----- the backend: what the gate's steps run on (the okx-cli backend overrides these) ----------

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        """The API-key profile OKX's client would use (environment first, then default_profile), and a site
        a profile of OKX's config names (the user chose it when they configured it)."""
        cfg = self.config()
        keyed = cfg.api_key_profile()
        return (None if keyed is None else keyed.name), cfg.any_site()

    def api_key_profile_name(self) -> str | None:
        return self.api_key_and_site()[0]

    def _begin_login(self, site: SiteId) -> LoginSkipped | LoginPending:
        """After the gate passed for ``site``: one device authorization, or the live one for the same site."""
        with self.store.locked():
            now = self._clock()
            pending = self._pending()
            if pending is not None and pending.live(now):
                if pending.site != site:
                    raise PendingElsewhere(
                        f"a login for {pending.site} is pending; finish it, or log out to choose another site"
                    )
                return _pending_view(pending, now)
            if self._session() is not None:
                raise AlreadyLoggedIn("an OAuth session is logged in; log out first to log in again")
            pending = self._start_device_login(site, now)
            self.store.write_json(PENDING_FILE, pending.model_dump(mode="json"))
        return _pending_view(pending, now)

    def status(self) -> AuthState:
        """The OAuth status, with at most one token request: a due poll of a pending login, or a refresh."""
        with self.store.locked():
            now = self._clock()
            session, pending = self._session(), self._pending()
            if session is None and pending is not None and pending.live(now):
                return self._poll(pending, now)
            if session is not None and session.access_expires_at - REFRESH_MARGIN_SECONDS <= now:
                try:
                    self.fresh_session()
                except InvalidGrant:
                    return AuthState("not_logged_in", reason="session_expired")
                except OAuthError:
                    pass  # offline or the server erred: the session is not known to be dead
            return self.auth_state()

    def fresh_session(self) -> Session:
        """The session with an access token good for at least REFRESH_MARGIN_SECONDS, refreshing under the
        cross-process lock: the first process rotates the refresh token and persists the pair before anyone
        uses it; the others find it fresh and never send the old (now revoked) refresh token."""
        with self.store.locked():
            session = self._session()
            if session is None:
                raise InvalidGrant("not_logged_in", "there is no OAuth session")
            now = self._clock()
            if session.access_expires_at - REFRESH_MARGIN_SECONDS > now:
                return session
            if session.refresh_token is None:
                self.store.delete(SESSION_FILE)
                raise InvalidGrant("invalid_grant", "the access token expired and there is no refresh token")
            e = session.endpoints
            try:
                tokens = self._http.refresh(e.token_endpoint, e.client_id, session.refresh_token)
            except (InvalidGrant, AccessDenied, ExpiredToken) as exc:
                self.store.delete(SESSION_FILE)  # the grant is over, however the server words it
                raise InvalidGrant(exc.error, exc.description) from exc
            renewed = _session_from(session.site, e, tokens, now, " ".join(session.scopes), session.refresh_token)
            self.store.write_json(SESSION_FILE, renewed.model_dump(mode="json"))
            return renewed

    def logout(self) -> bool:
        """Delete the session and any pending login, then revoke the refresh token (best effort).
        The client registration stays. True when the server confirmed the revocation."""
        with self.store.locked():
            session = self._or_none_if_corrupt(self._session)
            self.store.delete(SESSION_FILE)
            self.store.delete(PENDING_FILE)
            self.store.rotate_ticket_key()
        endpoint = None if session is None else session.endpoints.revocation_endpoint
        if session is None or endpoint is None:
            return False
        client_id = session.endpoints.client_id
        try:
            if session.refresh_token is not None:
                self._http.revoke(endpoint, client_id, session.refresh_token, "refresh_token")
            else:
                self._http.revoke(endpoint, client_id, session.access_token, "access_token")
        except OAuthError:
            return False
        return True

    # ----- for the command line and HTTP clients ---------------------------------------------------

    def cancel_login(self, user_code: str | None = None) -> bool:
        """Forget the pending login (the user gave up waiting); never touches a session. With ``user_code``,
        only the login with that code. True when a pending login was deleted. RFC 8628 has no way to withdraw
        a device code at the server: the code dies with its lifetime, and nothing here polls it again."""
        with self.store.locked():
            pending = self._or_none_if_corrupt(self._pending)  # a file that holds no login is deleted too
            if pending is not None and user_code is not None and pending.user_code != user_code:
                return False
            return self.store.delete(PENDING_FILE)

    def bearer_token(self) -> str:
        """The access token for an API call, refreshed when it is near expiry. ``NotLoggedIn`` when there is
        no session (a pending login is none yet); ``InvalidGrant`` when the server ended the session at the
        refresh (the session is deleted); another ``OAuthError`` when the refresh could not complete (network,
        server error: the session is kept)."""
        with self.store.locked():
            if self._session() is None:
                pending = self._pending()
                if pending is not None and pending.live(self._clock()):
                    raise NotLoggedIn(f"the login for {pending.site} is not complete yet")
                raise NotLoggedIn("there is no OAuth session")
            return self.fresh_session().access_token

    def api_base_url(self) -> str:
        """The REST base URL of the logged-in session's site (or the custom issuer, which then serves the API
        too, as the sandbox does): where its access token may go. ``NotLoggedIn`` without a session."""
        session = self._session()
        if session is None:
            raise NotLoggedIn("there is no OAuth session")
        return self._issuer_and_policy(session.site)[0]

    def force_refresh(self, rejected_access_token: str) -> str | None:
        """A new access token after an API server refused ``rejected_access_token`` (HTTP 401) before its
        expiry. Under the lock: when the stored token is another one already (another thread or process
        refreshed since), that one; otherwise the stored pair is marked expired and refreshed, exactly as
        :meth:`fresh_session` refreshes (a refresh that cannot complete leaves it marked: the next use tries
        again). None when the session has no refresh token: one refusal does not end it. Errors as
        :meth:`bearer_token`."""
        with self.store.locked():
            session = self._session()
            if session is None:
                raise NotLoggedIn("there is no OAuth session")
            if session.refresh_token is None:
                return None
            if session.access_token == rejected_access_token:
                expired = session.model_copy(update={"access_expires_at": 0.0})
                self.store.write_json(SESSION_FILE, expired.model_dump(mode="json"))
            return self.fresh_session().access_token

    # ----- internals -------------------------------------------------------------------------------

    @staticmethod
    def _or_none_if_corrupt(read: Callable[[], _R | None]) -> _R | None:
        try:
            return read()
        except StoreCorrupt:
            return None

    def _issuer_and_policy(self, site: SiteId) -> tuple[str, TrustPolicy]:
        override = self.settings.issuer_override
        issuer = (override or SITES[site].api_base_url).rstrip("/")
        return issuer, TrustPolicy(
            issuer, custom_issuer=override is not None, allowed_hosts=self.settings.allowed_hosts
        )

    def _start_device_login(self, site: SiteId, now: float) -> PendingLogin:
        issuer, policy = self._issuer_and_policy(site)
        metadata = self._http.discover(issuer)
        registrations_data = self.store.read_json(REGISTRATIONS_FILE) or {}
        registrations = _validated(Registrations, registrations_data, self.store.directory / REGISTRATIONS_FILE)
        client_id = registrations.clients.get(issuer)
        if client_id is None:
            client_id = self._http.register(metadata).client_id
            clients = {**registrations.clients, issuer: client_id}
            self.store.write_json(REGISTRATIONS_FILE, {**registrations_data, "clients": clients})
        device = self._http.device_authorize(metadata, client_id, self.settings.scope)
        policy.check(device.verification_uri)
        if device.verification_uri_complete is not None:
            policy.check(device.verification_uri_complete)
        endpoints = Endpoints(
            issuer=issuer,
            client_id=client_id,
            token_endpoint=metadata.token_endpoint,
            revocation_endpoint=metadata.revocation_endpoint,
        )
        return PendingLogin(
            site=site,
            endpoints=endpoints,
            device_code=device.device_code,
            user_code=device.user_code,
            verification_uri=device.verification_uri,
            expires_at=now + device.expires_in,
            interval=device.interval,
            scope=self.settings.scope,
        )

    def _poll(self, pending: PendingLogin, now: float) -> AuthState:
        """One token request, unless the last one was less than ``interval`` ago. Caller holds the lock."""
        waiting = AuthState("pending", pending.site, pending=pending, login=_pending_view(pending, now))
        if pending.last_poll_at is not None and now - pending.last_poll_at < pending.interval:
            return waiting
        e = pending.endpoints
        polled = pending.model_copy(update={"last_poll_at": now})
        try:
            tokens = self._http.poll_device_token(e.token_endpoint, e.client_id, pending.device_code)
        except (ExpiredToken, AccessDenied, InvalidGrant) as exc:
            outcome: Literal["expired", "denied"] = "denied" if isinstance(exc, AccessDenied) else "expired"
            self.store.write_json(PENDING_FILE, polled.model_copy(update={"outcome": outcome}).model_dump(mode="json"))
            return AuthState("not_logged_in", reason=outcome)
        except OAuthError as exc:
            # Pending, slow_down, or a failure: the poll counts either way, so a failing server is not hammered.
            if isinstance(exc, SlowDown):
                polled = polled.model_copy(update={"interval": pending.interval + SLOW_DOWN_STEP})
            self.store.write_json(PENDING_FILE, polled.model_dump(mode="json"))
            if isinstance(exc, TokenError) and exc.retriable:
                return AuthState("pending", pending.site, pending=polled, login=_pending_view(polled, now))
            raise
        session = _session_from(pending.site, e, tokens, now, pending.scope, None)
        self.store.write_json(SESSION_FILE, session.model_dump(mode="json"))
        self.store.delete(PENDING_FILE)
        return AuthState("logged_in", session.site, list(session.scopes))


def _session_from(
    site: SiteId,
    endpoints: Endpoints,
    tokens: TokenResponse,
    now: float,
    requested: str,
    old_refresh: str | None,
) -> Session:
    return Session(
        site=site,
        endpoints=endpoints,
        access_token=tokens.access_token,
        access_expires_at=now + tokens.expires_in,
        refresh_token=tokens.refresh_token or old_refresh,
        scopes=scopes_of(tokens, requested),
    )


def _pending_view(pending: PendingLogin, now: float) -> LoginPending:
    return LoginPending(pending.site, pending.verification_uri, pending.user_code, int(pending.expires_at - now))


def _validated(model: type[_R], data: dict[str, Any], path: Path) -> _R:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise StoreCorrupt(f"{path} does not hold what okx-auth-mcp wrote; {RECOVER}") from None
