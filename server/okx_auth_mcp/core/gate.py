"""The Step 0 gate of OKX's login skill as an explicit state machine.

Theory of operation
-------------------
OKX's skill tells an agent, in prose, to check three things in strict order before any login:
0.1 has the user chosen a site, 0.2 is an API key configured, 0.3 what is the OAuth status; and never to
start a login unless the user picked the site from the menu just now. Here those rules are a table.

``TRANSITIONS[state][event] -> next state``. An event not in the table for the current state is refused
with :class:`GateRefused`, and the state does not change. There is no other way to move the machine.

The states an agent walks through::

    IDLE --site_unknown--> CHOOSING_SITE --site_chosen--> SITE_CONFIRMED --login_started--> PENDING
                                                                         --api_key_found--> API_KEY
    PENDING --authorized--> LOGGED_IN;  PENDING --login_ended--> IDLE;  any --logged_out--> IDLE

The pre-flight events (``site_unknown``, ``api_key_found``, ``session_found``, ``login_pending``) are
allowed from every state: re-running the pre-flight is always right. ``login_started`` is allowed only in
``SITE_CONFIRMED``: that single row is the Pre-login Gate.

Where the state lives: up to ``SITE_CONFIRMED`` it travels between tool calls in signed tickets (see
``tickets``): preflight issues a ``CHOOSING_SITE`` ticket with the menu, choose_site applies
``site_chosen`` and issues a ``SITE_CONFIRMED`` ticket, and auth_login_manual starts a login only if that
ticket ``can(login_started)``. From ``PENDING`` on, the state is the OAuth status kept in the state
directory (:func:`stored` reads it as a gate): the native backend checks that the rows ``authorized`` and
``login_ended`` exist before it polls a pending login and moves it with them after, and applies
``logged_out`` before it deletes anything; :func:`status_of` reads the status back from the gate reached. (With
the okx-cli backend, OKX's binary keeps that state itself.) The server holds no conversation state in memory. This
module does no I/O and reads no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from okx_auth_mcp.core.records import OAuthStatus
from okx_auth_mcp.core.sites import SiteId


class State(StrEnum):
    IDLE = "idle"
    """Nothing is known: the pre-flight has not run, or a login ended."""
    CHOOSING_SITE = "choosing_site"
    """The site menu was shown; waiting for the user's reply."""
    SITE_CONFIRMED = "site_confirmed"
    """The user chose a site from the menu just now: a login may start, for that site only."""
    API_KEY = "api_key"
    """An API-key profile exists: OKX's client always prefers it, so no OAuth login may start."""
    PENDING = "pending"
    """A device code was issued; waiting for the user to say they authorized it."""
    LOGGED_IN = "logged_in"


class Event(StrEnum):
    SITE_UNKNOWN = "site_unknown"
    """Pre-flight 0.1: no site chosen, or not logged in and no API key (the menu must be shown)."""
    API_KEY_FOUND = "api_key_found"
    """Pre-flight 0.2 (or the login's own re-check): a profile has an api_key."""
    SESSION_FOUND = "session_found"
    """Pre-flight 0.3: an OAuth session is logged in."""
    LOGIN_PENDING = "login_pending"
    """Pre-flight 0.3: a device authorization is pending."""
    SITE_CHOSEN = "site_chosen"
    """The user's reply to the menu named a site."""
    LOGIN_STARTED = "login_started"
    """A device authorization was requested for the confirmed site."""
    AUTHORIZED = "authorized"
    """The token endpoint granted tokens for the pending login."""
    LOGIN_ENDED = "login_ended"
    """The pending login expired or was denied."""
    LOGGED_OUT = "logged_out"


_PREFLIGHT: dict[Event, State] = {
    Event.SITE_UNKNOWN: State.CHOOSING_SITE,
    Event.API_KEY_FOUND: State.API_KEY,
    Event.SESSION_FOUND: State.LOGGED_IN,
    Event.LOGIN_PENDING: State.PENDING,
    Event.LOGGED_OUT: State.IDLE,
}

TRANSITIONS: dict[State, dict[Event, State]] = {
    State.IDLE: {**_PREFLIGHT},
    State.CHOOSING_SITE: {**_PREFLIGHT, Event.SITE_CHOSEN: State.SITE_CONFIRMED},
    State.SITE_CONFIRMED: {**_PREFLIGHT, Event.LOGIN_STARTED: State.PENDING},
    State.API_KEY: {**_PREFLIGHT},
    State.PENDING: {**_PREFLIGHT, Event.AUTHORIZED: State.LOGGED_IN, Event.LOGIN_ENDED: State.IDLE},
    State.LOGGED_IN: {**_PREFLIGHT},
}


class GateRefused(Exception):
    """The event is not allowed in the current state; the gate did not move."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"event {event.value!r} is not allowed in state {state.value!r}")
        self.state = state
        self.event = event


@dataclass(frozen=True)
class Gate:
    """The machine's whole state: where it is, and the site the user confirmed (when there is one)."""

    state: State = State.IDLE
    site: SiteId | None = None

    def can(self, event: Event) -> bool:
        return event in TRANSITIONS[self.state]

    def require(self, *events: Event) -> None:
        """:class:`GateRefused` unless every one of ``events`` is allowed now: checked before a step that cannot
        be undone (a token request), so a refusal comes before it, not after."""
        for event in events:
            if not self.can(event):
                raise GateRefused(self.state, event)

    def apply(self, event: Event, site: SiteId | None = None) -> Gate:
        """The gate after ``event``. ``site`` is required with ``site_chosen``; other events keep the site
        only while it still means something (a confirmed, pending or logged-in site)."""
        if not self.can(event):
            raise GateRefused(self.state, event)
        if event is Event.SITE_CHOSEN and site is None:
            raise ValueError("site_chosen needs the site the user chose")
        following = TRANSITIONS[self.state][event]
        kept = site if site is not None else self.site
        if following in (State.IDLE, State.CHOOSING_SITE, State.API_KEY):
            kept = None
        return replace(self, state=following, site=kept)


_STORED: dict[OAuthStatus, State] = {
    "logged_in": State.LOGGED_IN,
    "pending": State.PENDING,
    "not_logged_in": State.IDLE,
}


def stored(status: OAuthStatus, site: SiteId | None = None) -> Gate:
    """The gate an OAuth status kept in the state directory stands for (from ``PENDING`` on, that is where
    the state lives)."""
    state = _STORED[status]
    return Gate(state, site if state is not State.IDLE else None)


def status_of(gate: Gate) -> OAuthStatus:
    """The OAuth status a gate from ``PENDING`` on stands for (any state before a login counts as none)."""
    for status, state in _STORED.items():
        if gate.state is state:
            return status
    return "not_logged_in"


def preflight_event(*, site_known: bool, api_key: bool, oauth_status: str) -> Event:
    """Steps 0.1 → 0.2 → 0.3 in strict order; each short-circuits the rest.

    ``site_known``: a profile has a site, or the OAuth session is logged_in/pending with a site (the site
    of a not_logged_in status is a placeholder and must not be passed as known).
    """
    if not site_known:
        return Event.SITE_UNKNOWN
    if api_key:
        return Event.API_KEY_FOUND
    if oauth_status == "logged_in":
        return Event.SESSION_FOUND
    if oauth_status == "pending":
        return Event.LOGIN_PENDING
    return Event.SITE_UNKNOWN


def mermaid_diagram() -> str:
    """The state diagram drawn from ``TRANSITIONS`` itself, so the picture cannot drift from the code."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.IDLE.value}"]
    for state, row in TRANSITIONS.items():
        for event, following in row.items():
            if event in _PREFLIGHT and state is not State.IDLE:
                continue
            lines.append(f"    {state.value} --> {following.value}: {event.value}")
    lines.append("    note right of idle: pre-flight events are allowed from every state")
    return "\n".join(lines)
