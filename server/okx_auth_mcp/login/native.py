"""The native backend: this package's own OAuth client (device flow, refresh with rotation, revocation) and
its records in the state directory (``native_records``: ``pending.json``, ``session.json``, ``registrations.json``).

Every state change of a login from ``PENDING`` on goes through the gate's table (``authorized``,
``login_ended``, ``logged_out``); the backend only does what the table allows and records the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from okx_auth_mcp.core.authorization_code import ClientAuth
from okx_auth_mcp.core.gate import Event, Gate, State, status_of, stored
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped, pending_view
from okx_auth_mcp.core.oauth_errors import (
    AccessDenied,
    BadResponse,
    ExpiredToken,
    InvalidGrant,
    OAuthError,
    SlowDown,
    TokenError,
)
from okx_auth_mcp.core.oauth_wire import SLOW_DOWN_STEP
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.records import (
    MAX_INTERVAL_SECONDS,
    LoginEndReason,
    PendingLogin,
    Session,
)
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.stored_trust import untrusted_endpoint
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.secret_store import KeyringLocked
from okx_auth_mcp.edges.state_store import (
    StateStore,
    StoreCorrupt,
    StoreError,
)
from okx_auth_mcp.login.backend import Claim
from okx_auth_mcp.login.device_login import registered_client_id, start_device_login
from okx_auth_mcp.login.errors import AlreadyLoggedIn, NotLoggedIn, PendingElsewhere
from okx_auth_mcp.login.native_records import NativeRecords, fresh, or_none_if_unusable, session_from
from okx_auth_mcp.login.session_client import session_client
from okx_auth_mcp.login.settings import BackendName, Settings, load_okx_config

if TYPE_CHECKING:
    from okx_auth_mcp.login.redirect_login import RedirectLogins


class NativeBackend:
    name: BackendName = "native"

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        clock: Callable[[], float] = time.time,
        http: OAuthHttp | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.records = NativeRecords(settings, store)
        self._clock = clock
        self._http = http or OAuthHttp(timeout=settings.http_timeout)
        self._redirects: RedirectLogins | None = None

    @property
    def tokens(self) -> NativeBackend:
        return self

    @property
    def redirects(self) -> RedirectLogins:
        """The redirect logins' listener (PKCE, code), loaded on first use: the device flow never needs it."""
        if self._redirects is None:
            from okx_auth_mcp.login.redirect_login import RedirectLogins

            self._redirects = RedirectLogins(self.settings, self._http, self.store, self.records, self._clock)
        return self._redirects

    def _stop_listening(self) -> None:
        if self._redirects is not None:  # never loaded: nothing listens
            self._redirects.close()

    def close(self) -> None:
        self._stop_listening()
        self._http.close()

    # ----- reading ---------------------------------------------------------------------------------

    def pending(self) -> PendingLogin | None:
        """The pending login, checked as its server answer was (``StoreCorrupt`` when it fails)."""
        return self.records.pending()

    def session(self) -> Session | None:
        """The session, checked as its server answers were (``StoreCorrupt`` when it fails)."""
        return self.records.session()

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        """The API-key profile OKX's client would use (environment first, then default_profile), and a site
        a profile of OKX's config names."""
        cfg = load_okx_config(self.settings)
        keyed = cfg.api_key_profile()
        return (None if keyed is None else keyed.name), cfg.any_site()

    def auth_state(self, now: float) -> AuthState:
        """From the files alone, without the lock (every file is replaced whole). A login that completes writes
        the session, then deletes the pending file: reading them in the other order never misses both."""
        try:
            pending, damaged = self.pending(), None
        except StoreCorrupt as exc:
            pending, damaged = None, exc
        session = self.session()
        if session is not None:
            return AuthState("logged_in", session.site, list(session.scopes))
        if damaged is not None:
            raise damaged
        if pending is not None:
            if self._live(pending, now):
                return AuthState("pending", pending.site, pending=pending, login=pending_view(pending, now))
            return AuthState("not_logged_in", reason=pending.outcome or self._end_reason(pending, now))
        return AuthState("not_logged_in")

    def _orphaned(self, pending: PendingLogin) -> bool:
        return pending.listener is not None and self.redirects.orphaned(pending)

    def _live(self, pending: PendingLogin, now: float) -> bool:
        """The one test of a pending login that can still finish: not ended, not expired, not orphaned."""
        return pending.live(now) and not self._orphaned(pending)

    def _end_reason(self, pending: PendingLogin, now: float) -> LoginEndReason:
        return "interrupted" if now < pending.expires_at and self._orphaned(pending) else "expired"

    # ----- the login -------------------------------------------------------------------------------

    def begin_login(self, site: SiteId, claim: Claim) -> LoginSkipped | LoginPending:
        """Discovery and registration without the lock (they change no grant); then, under it, the one request
        that starts the device login, so two processes never start two. Where its device code would be stored
        is settled first: a keyring that is asked for and absent starts nothing."""
        self.records.storage.chosen()
        started = self._started(site, self._clock())
        if started is not None:
            return started
        issuer, policy = self.records.issuer_and_policy(site)
        metadata = self._http.discover(issuer)
        endpoints = {
            "token_endpoint": metadata.token_endpoint,
            "device_authorization_endpoint": metadata.device_authorization_endpoint,
            "authorization_endpoint": metadata.authorization_endpoint,
            "registration_endpoint": metadata.registration_endpoint,
            "revocation_endpoint": metadata.revocation_endpoint,
        }
        bad = untrusted_endpoint(policy, endpoints)
        if bad is not None:
            raise BadResponse(f"discovery: the metadata names a {bad} outside the issuer's hosts")
        redirect = self.settings.grant != "device"  # PKCE or code: the configured client, no registration
        client_id = None if redirect else registered_client_id(self._http, self.records, issuer, metadata)
        with self.store.locked("starting a login"):
            now = self._clock()
            started = self._started(site, now)
            if started is not None:
                return started
            claim.check()
            if client_id is None:
                pending = self.redirects.start(site, now, policy, metadata)
            else:
                pending = start_device_login(self._http, self.settings.scope, site, now, policy, metadata, client_id)
            self.records.write_pending(pending)
            claim.spend()  # after the login is on disk: a retry that sees the choice spent also sees the login
        return pending_view(pending, now)

    def _started(self, site: SiteId, now: float) -> LoginPending | None:
        """The live login for ``site`` if there is one; raises when another login or a session is in the way."""
        pending = self.pending()
        if pending is not None and self._live(pending, now):
            if pending.site != site:
                raise PendingElsewhere(
                    f"a login for {pending.site} is pending; finish it, or log out to choose another site"
                )
            return pending_view(pending, now)
        if self.session() is not None:
            raise AlreadyLoggedIn("an OAuth session is logged in; log out first to log in again")
        return None

    def _due(self, now: float) -> bool:
        """Whether a status check has a request to make: a refresh of a dying token, or a pending login's poll."""
        session = self.session()
        if session is not None:
            return not fresh(session, now)
        pending = self.pending()
        return (
            pending is not None
            and pending.device_code is not None  # a redirect login is finished by its listener, not polled
            and pending.live(now)
            and (pending.last_poll_at is None or now - pending.last_poll_at >= pending.interval)
        )

    def status(self) -> AuthState:
        if not self._due(self._clock()):
            return self.auth_state(self._clock())
        with self.store.locked("checking the login"):
            now = self._clock()
            session, pending = self.session(), self.pending()
            if session is None and pending is not None and pending.live(now):
                return self._poll(pending, now)
            if session is not None and not fresh(session, now):
                try:
                    self.fresh_session()
                except InvalidGrant:
                    return AuthState("not_logged_in", reason="session_expired")
                except OAuthError:
                    pass  # offline or the server erred: the session is not known to be dead
            return self.auth_state(self._clock())

    def logout(self) -> bool:
        """Delete the session and any pending login, then revoke the refresh token (best effort). The client
        registration stays. A file that holds no session it can use is deleted unused. A file that cannot be
        deleted does not stop the revocation: its failure is raised after it."""
        failures: list[StoreError] = []
        with self.store.locked("logging out"):
            # A keyring that is locked keeps the tokens from us: refused before anything is deleted, or the live
            # refresh token would stay in the keyring, unrevoked, with no file naming it.
            session = or_none_if_unusable(self.session, keep=KeyringLocked)
            client = (
                None if session is None else session_client(self.settings, session.endpoints)
            )  # refused before any deletion
            stored("logged_in" if session is not None else "not_logged_in").apply(Event.LOGGED_OUT)
            self._stop_listening()
            for delete in (self.records.delete_session, self.records.delete_pending):
                try:
                    delete()
                except StoreError as exc:
                    failures.append(exc)
        revoked = session is not None and client is not None and self._revoke(session, client)  # even undeleted
        if failures:
            raise failures[0]
        return revoked

    def _revoke(self, session: Session, client: ClientAuth) -> bool:
        """Revoke the refresh token (else the access token); best effort: False when it did not happen."""
        endpoint = session.endpoints.revocation_endpoint
        if endpoint is None:
            return False
        token, hint = (
            (session.refresh_token, "refresh_token")
            if session.refresh_token
            else (session.access_token, "access_token")
        )
        try:
            self._http.revoke(endpoint, session.endpoints.client_id, token, hint, client)
        except OAuthError:
            return False
        return True

    def cancel_login(self, user_code: str | None) -> bool:
        """RFC 8628 has no way to withdraw a device code at the server: the code dies with its lifetime, and
        nothing here polls it again."""
        with self.store.locked("cancelling a login"):
            self._stop_listening()
            pending = or_none_if_unusable(self.pending)  # a file that holds no login is deleted too
            if pending is not None and user_code is not None and pending.user_code != user_code:
                return False
            return self.records.delete_pending()

    # ----- the tokens ------------------------------------------------------------------------------

    def fresh_session(self) -> Session:
        """The session with an access token good for at least REFRESH_MARGIN_SECONDS, refreshing under the
        cross-process lock: the first process rotates the refresh token and persists the pair before anyone
        uses it; the others find it fresh and never send the old (now revoked) refresh token. A fresh session
        is returned without the lock."""
        session = self.session()
        if session is not None and fresh(session, self._clock()):
            return session
        with self.store.locked("refreshing the session"):
            session = self.session()
            if session is None:
                raise InvalidGrant("not_logged_in", "there is no OAuth session")
            now = self._clock()
            if fresh(session, now):
                return session
            if session.refresh_token is None:
                if session.access_expires_at > now:
                    return session  # nothing to refresh it with: it serves until it expires
                self.records.delete_session()
                raise InvalidGrant("invalid_grant", "the access token expired and there is no refresh token")
            e = session.endpoints
            try:
                tokens = self._http.refresh(
                    e.token_endpoint, e.client_id, session.refresh_token, session_client(self.settings, e)
                )
            except (InvalidGrant, AccessDenied, ExpiredToken) as exc:
                self.records.delete_session()  # the grant is over, however the server words it
                raise InvalidGrant(exc.error, exc.description) from exc
            except TokenError as exc:
                if e.grant == "code" and exc.error == "invalid_client":  # the app's secret, not the session
                    raise ConfigError(
                        "OKX refused this app's client authentication (invalid_client): check OKX_OAUTH_CLIENT_SECRET; "
                        "the session is kept"
                    ) from None
                raise
            # The server has rotated the refresh token: the new pair is saved before anything else happens, so a
            # process killed from here on loses nothing. Killed before this line, the session is lost.
            renewed = session_from(session.site, e, tokens, now, " ".join(session.scopes), session.refresh_token)
            self.records.write_session(renewed)
            return renewed

    def bearer_token(self) -> str:
        """``NotLoggedIn`` when there is no session (a pending login is none yet); ``InvalidGrant`` when the
        server ended the session at the refresh (the session is deleted); another ``OAuthError`` when the
        refresh could not complete (network, server error: the session is kept)."""
        if self.session() is None:
            pending = or_none_if_unusable(self.pending)
            if pending is not None and pending.live(self._clock()):
                raise NotLoggedIn(f"the login for {pending.site} is not complete yet")
            raise NotLoggedIn("there is no OAuth session")
        return self.fresh_session().access_token

    def api_base_url(self) -> str:
        """The REST base URL of the logged-in session's site (or the custom issuer, which then serves the API
        too, as the sandbox does). ``NotLoggedIn`` without a session."""
        session = self.session()
        if session is None:
            raise NotLoggedIn("there is no OAuth session")
        return self.records.issuer_and_policy(session.site)[0]

    def force_refresh(self, rejected_access_token: str) -> str | None:
        """Under the lock: when the stored token is another one already (another thread or process refreshed
        since), that one; otherwise the stored pair is marked expired and refreshed, exactly as
        :meth:`fresh_session` refreshes (a refresh that cannot complete leaves it marked: the next use tries
        again). None when the session has no refresh token: one refusal does not end it."""
        with self.store.locked("refreshing the session"):
            session = self.session()
            if session is None:
                raise NotLoggedIn("there is no OAuth session")
            if session.refresh_token is None:
                return None
            if session.access_token == rejected_access_token:
                self.records.write_session(session.model_copy(update={"access_expires_at": 0.0}))
            return self.fresh_session().access_token

    # ----- internals -------------------------------------------------------------------------------

    def _poll(self, pending: PendingLogin, now: float) -> AuthState:
        """One token request, unless the last one was less than ``interval`` ago. Caller holds the lock."""
        gate = Gate(State.PENDING, pending.site)
        waiting = AuthState("pending", pending.site, pending=pending, login=pending_view(pending, now))
        if pending.device_code is None or (
            pending.last_poll_at is not None and now - pending.last_poll_at < pending.interval
        ):
            return waiting
        gate.require(Event.AUTHORIZED, Event.LOGIN_ENDED)  # before the request, which a device code survives once
        e = pending.endpoints
        polled = pending.model_copy(update={"last_poll_at": now})
        try:
            tokens = self._http.poll_device_token(e.token_endpoint, e.client_id, pending.device_code)
        except (ExpiredToken, AccessDenied, InvalidGrant) as exc:
            ended = gate.apply(Event.LOGIN_ENDED)
            outcome: Literal["expired", "denied"] = "denied" if isinstance(exc, AccessDenied) else "expired"
            self.records.write_pending(polled.model_copy(update={"outcome": outcome}))
            return AuthState(status_of(ended), reason=outcome)
        except OAuthError as exc:
            # Pending, slow_down, or a failure: the poll counts either way, so a failing server is not hammered.
            if isinstance(exc, SlowDown):
                slower = min(pending.interval + SLOW_DOWN_STEP, MAX_INTERVAL_SECONDS)
                polled = polled.model_copy(update={"interval": slower})
            self.records.write_pending(polled)
            if isinstance(exc, TokenError) and exc.retriable:
                return AuthState("pending", pending.site, pending=polled, login=pending_view(polled, now))
            raise
        authorized = gate.apply(Event.AUTHORIZED)
        assert authorized.site is not None
        session = session_from(authorized.site, e, tokens, now, pending.scope, None)
        self.records.write_session(session)
        self.records.delete_pending()
        return AuthState(status_of(authorized), session.site, list(session.scopes))
