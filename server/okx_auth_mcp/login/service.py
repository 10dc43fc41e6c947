"""The login procedure: the Step 0 gate over a login backend.

Synchronous and clock-injected; the MCP tools call it from a worker thread, the command line directly. The
service holds the gate's half of the procedure (the pre-flight, the site menu and its tickets, the
Pre-login Gate) and one :class:`~okx_auth_mcp.login.backend.Backend` for the steps that differ (the API key
and site, the OAuth status, starting a login, logging out, the tokens). It raises ``login.errors``'
:class:`FlowError` family for refusals and lets the lower layers' errors through; ``login.refusals``
translates all of them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from okx_auth_mcp.core import tickets
from okx_auth_mcp.core.gate import Event, Gate, preflight_event
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped, Preflight, SiteChoice
from okx_auth_mcp.core.okx_profiles import OkxConfig
from okx_auth_mcp.core.records import MAX_USED_TICKETS, UsedTickets
from okx_auth_mcp.core.sites import SiteId, parse_site_reply
from okx_auth_mcp.edges.http import request_worst_case
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.state_store import SESSION_FILE, USED_TICKETS_FILE, StateStore, StoreError, UnsafeDirectory
from okx_auth_mcp.login.backend import Backend, Tokens
from okx_auth_mcp.login.errors import (
    BackendUnsupported,
    ReplyNotUnderstood,
    SiteMismatch,
    SiteNotConfirmed,
    TicketUsed,
)
from okx_auth_mcp.login.native import NativeBackend
from okx_auth_mcp.login.settings import BackendName, Settings, load_okx_config

LOCK_SLACK_SECONDS = 5.0

Clock = Callable[[], float]
BackendFactory = Callable[[Settings, StateStore, Clock], Backend]


def state_store(settings: Settings) -> StateStore:
    """The state directory's store. The lock is held across one request at most (a refresh, a device start,
    a poll): another process waits that long, and a little more, before it says the lock is busy."""
    return StateStore(settings.state_dir, lock_timeout=request_worst_case(settings.http_timeout) + LOCK_SLACK_SECONDS)


class AuthService:
    """``backend`` makes the backend from the settings, the store and the clock; without it, the native one
    (over ``http`` when given: a test's transport, a shorter timeout)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = time.time,
        *,
        http: OAuthHttp | None = None,
        backend: BackendFactory | None = None,
    ) -> None:
        self.settings = settings
        self.store = state_store(settings)
        self._clock = clock
        if backend is None:
            self.backend: Backend = NativeBackend(settings, self.store, clock, http)
        else:
            self.backend = backend(settings, self.store, clock)

    def close(self) -> None:
        self.backend.close()

    @property
    def backend_name(self) -> BackendName:
        """Which login backend is in use: ``native`` (this package's own OAuth client) or ``okx-cli``."""
        return self.backend.name

    # ----- reading ---------------------------------------------------------------------------------

    def now(self) -> float:
        """The service's clock: what its tickets are dated and checked by."""
        return self._clock()

    def config(self) -> OkxConfig:
        return load_okx_config(self.settings)

    def api_key_and_site(self) -> tuple[str | None, SiteId | None]:
        return self.backend.api_key_and_site()

    def api_key_profile_name(self) -> str | None:
        return self.api_key_and_site()[0]

    def token_storage(self) -> str | None:
        """Where the native backend keeps (or would keep) the session's tokens, in words; None for a backend
        that keeps them itself."""
        if not isinstance(self.backend, NativeBackend):
            return None
        return self.backend.records.storage.describe(SESSION_FILE)

    def termid(self) -> str | None:
        """The ``TERMID`` header API calls carry: this installation's device id, which OKX-Connect asks of client
        devices (device and PKCE sessions); None for an app server's session (the ``code`` grant, seed 003)."""
        if isinstance(self.backend, NativeBackend):
            session = self.backend.session()
            if session is not None and session.endpoints.grant == "code":
                return None
        return self.store.device_id()

    def auth_state(self, now: float | None = None) -> AuthState:
        """The OAuth status from local state: no request, no poll, no refresh."""
        return self.backend.auth_state(self._clock() if now is None else now)

    # ----- the gate --------------------------------------------------------------------------------

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
        ticket = tickets.issue(self.store.ticket_key(), gate, now, nonce=secrets.token_urlsafe(8))
        return Preflight(gate, "choose_site", menu_ticket=ticket)

    def menu_gate(self, menu_ticket: str) -> Gate:
        """The gate a valid menu ticket holds; raises when the ticket is not one (before the user is asked)."""
        held = tickets.verify(self.store.ticket_key(), menu_ticket, self._clock())
        if not held.gate.can(Event.SITE_CHOSEN):
            raise SiteNotConfirmed("this is not a menu ticket: run preflight to show the site menu")
        return held.gate

    def choose_site(self, reply: str, menu_ticket: str) -> SiteChoice:
        gate = self.menu_gate(menu_ticket)
        site = parse_site_reply(reply)
        if site is None:
            raise ReplyNotUnderstood("the reply chooses no site")
        chosen = gate.apply(Event.SITE_CHOSEN, site)
        site_ticket = tickets.issue(self.store.ticket_key(), chosen, self._clock(), nonce=secrets.token_urlsafe(8))
        keyed = self.api_key_profile_name()
        if keyed is not None:
            return SiteChoice(site, site_ticket, "api_key_configured", profile=keyed)
        return SiteChoice(site, site_ticket, "login")

    def login(self, site: SiteId, site_ticket: str | None) -> LoginSkipped | LoginPending:
        """Like OKX's CLI guard, any API key skips the login (it starts nothing, so it needs no ticket). Then
        the Pre-login Gate, then the backend's login: a new one, or the live one for the same site."""
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
        if held.id in self._used_tickets():  # known already: no request to find it out
            state = self.auth_state()
            if state.status == "pending" and state.site == site and state.login is not None:
                return state.login  # the login this ticket started, asked for again
            raise _ticket_used()
        return self.backend.begin_login(site, _TicketClaim(self, site_ticket, held))

    def _used_tickets(self) -> dict[str, int]:
        """The tickets that started a login and have not expired yet (the others cannot start one anyway)."""
        now = self._clock()
        recorded = self.store.read_model(USED_TICKETS_FILE, UsedTickets) or UsedTickets()
        return {ticket_id: exp for ticket_id, exp in recorded.used.items() if exp > now}

    def _check_unspent(self, site_ticket: str, ticket_id: str) -> None:
        """Under the lock that starts the login: the ticket still verifies (no logout rotated the key since it
        was checked) and has started no login."""
        tickets.verify(self.store.ticket_key(), site_ticket, self._clock())
        if ticket_id in self._used_tickets():
            raise _ticket_used()

    def spend_once(self, ticket_id: str, expires_at: int) -> bool:
        """Record a ticket as used (a site choice that started a login, a confirmation answered), under the
        lock; False when it was already. Every unexpired one is kept: with ``MAX_USED_TICKETS`` of them unexpired,
        a new one is refused (``StoreError``) rather than an old one forgotten, which would let it be used again."""
        with self.store.locked("recording a ticket as used"):
            used = self._used_tickets()
            if ticket_id in used:
                return False
            if len(used) >= MAX_USED_TICKETS:
                raise StoreError(
                    f"{MAX_USED_TICKETS} tickets were used in the last ten minutes, more than a person answers; "
                    "nothing was done: wait a few minutes, until older ones expire"
                )
            self.store.write_model(USED_TICKETS_FILE, UsedTickets(used={**used, ticket_id: expires_at}))
        return True

    def status(self) -> AuthState:
        """The OAuth status, with at most one token request: a due poll of a pending login, or a refresh."""
        return self.backend.status()

    def logout(self) -> bool:
        """Every ticket issued before is void first (a site chosen before a logout never logs in after it,
        whatever the backend then manages), then the backend ends the session and any pending login. True
        when the server confirmed the revocation. Every step is tried even when one before it failed (logout
        is the recovery from damaged state); then the first failure is raised."""
        failures: list[StoreError] = []
        revoked = False

        def backend_logout() -> None:
            nonlocal revoked
            revoked = self.backend.logout()

        for step in (self.store.rotate_ticket_key, lambda: self.store.delete(USED_TICKETS_FILE), backend_logout):
            try:
                step()
            except UnsafeDirectory:
                raise  # nothing in the directory may be used, or removed
            except StoreError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]
        return revoked

    # ----- for the command line and HTTP clients ---------------------------------------------------

    def cancel_login(self, user_code: str | None = None) -> bool:
        """Forget the pending login (the user gave up waiting); never touches a session. With ``user_code``,
        only the login with that code. True when a pending login was deleted."""
        return self.backend.cancel_login(user_code)

    def _tokens(self) -> Tokens:
        if self.backend.tokens is None:
            raise BackendUnsupported(
                f"the {self.backend.name} backend keeps its tokens inside okx-auth; use okx's own commands, or "
                "set OKX_AUTH_BACKEND=native"
            )
        return self.backend.tokens

    def bearer_token(self) -> str:
        """The access token for an API call, refreshed when it is near expiry (see ``Tokens``)."""
        return self._tokens().bearer_token()

    def api_base_url(self) -> str:
        return self._tokens().api_base_url()

    def force_refresh(self, rejected_access_token: str) -> str | None:
        return self._tokens().force_refresh(rejected_access_token)


def _ticket_used() -> TicketUsed:
    return TicketUsed("this site choice has started a login already (auth_status shows it while it is pending)")


class _TicketClaim:
    """The :class:`~okx_auth_mcp.login.backend.Claim` of one site ticket."""

    def __init__(self, service: AuthService, site_ticket: str, held: tickets.Ticket) -> None:
        self._service = service
        self._site_ticket = site_ticket
        self._held = held

    def check(self) -> None:
        self._service._check_unspent(self._site_ticket, self._held.id)

    def spend(self) -> None:
        self._service.spend_once(self._held.id, self._held.expires_at)
