"""The state table, pair by pair, written out here independently of the module's table."""

from __future__ import annotations

import itertools

import pytest

from okx_auth_mcp.core.gate import Event, Gate, GateRefused, State, mermaid_diagram, preflight_event
from okx_auth_mcp.core.sites import SiteId

S, E = State, Event
PREFLIGHT = {
    E.SITE_UNKNOWN: S.CHOOSING_SITE,
    E.API_KEY_FOUND: S.API_KEY,
    E.SESSION_FOUND: S.LOGGED_IN,
    E.LOGIN_PENDING: S.PENDING,
    E.LOGGED_OUT: S.IDLE,
}
EXPECTED: dict[tuple[State, Event], State] = {
    **{(state, event): target for state in State for event, target in PREFLIGHT.items()},
    (S.CHOOSING_SITE, E.SITE_CHOSEN): S.SITE_CONFIRMED,
    (S.SITE_CONFIRMED, E.LOGIN_STARTED): S.PENDING,
    (S.PENDING, E.AUTHORIZED): S.LOGGED_IN,
    (S.PENDING, E.LOGIN_ENDED): S.IDLE,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_state_event_pair_moves_as_the_table_says_or_is_refused(state: State, event: Event) -> None:
    gate = Gate(state, "eea" if state in (S.SITE_CONFIRMED, S.PENDING, S.LOGGED_IN) else None)
    site: SiteId | None = "eea" if event is E.SITE_CHOSEN else None
    if (state, event) in EXPECTED:
        assert gate.apply(event, site).state is EXPECTED[(state, event)]
    else:
        with pytest.raises(GateRefused) as refused:
            gate.apply(event, site)
        assert (refused.value.state, refused.value.event) == (state, event)
        assert gate == Gate(state, gate.site)


def test_login_is_allowed_only_after_the_user_chose_a_site() -> None:
    assert [s for s in State if Gate(s).can(E.LOGIN_STARTED)] == [S.SITE_CONFIRMED]


def test_a_walk_through_the_whole_login_keeps_the_chosen_site() -> None:
    gate = Gate()
    steps: list[tuple[Event, SiteId | None, Gate]] = [
        (E.SITE_UNKNOWN, None, Gate(S.CHOOSING_SITE)),
        (E.SITE_CHOSEN, "us", Gate(S.SITE_CONFIRMED, "us")),
        (E.LOGIN_STARTED, None, Gate(S.PENDING, "us")),
        (E.AUTHORIZED, None, Gate(S.LOGGED_IN, "us")),
        (E.LOGGED_OUT, None, Gate(S.IDLE)),
    ]
    for event, site, expected in steps:
        gate = gate.apply(event, site)
        assert gate == expected


def test_refused_steps_leave_the_whole_gate_unchanged() -> None:
    gate = Gate(S.CHOOSING_SITE)
    for event in (E.LOGIN_STARTED, E.AUTHORIZED, E.LOGIN_ENDED):
        with pytest.raises(GateRefused):
            gate.apply(event)
        assert gate == Gate(S.CHOOSING_SITE)


def test_choosing_a_site_needs_the_site() -> None:
    with pytest.raises(ValueError, match="needs the site"):
        Gate(S.CHOOSING_SITE).apply(E.SITE_CHOSEN)


def test_a_site_does_not_survive_into_states_where_it_means_nothing() -> None:
    assert Gate(S.SITE_CONFIRMED, "eea").apply(E.SITE_UNKNOWN) == Gate(S.CHOOSING_SITE)
    assert Gate(S.PENDING, "eea").apply(E.LOGIN_ENDED) == Gate(S.IDLE)


@pytest.mark.parametrize(
    ("site_known", "api_key", "oauth", "event"),
    [
        (False, True, "logged_in", E.SITE_UNKNOWN),  # 0.1 first: nothing else counts without a site
        (False, False, "not_logged_in", E.SITE_UNKNOWN),
        (True, True, "logged_in", E.API_KEY_FOUND),  # 0.2 before 0.3
        (True, True, "pending", E.API_KEY_FOUND),
        (True, False, "logged_in", E.SESSION_FOUND),
        (True, False, "pending", E.LOGIN_PENDING),
        (True, False, "not_logged_in", E.SITE_UNKNOWN),  # not logged in, no key: always the menu
    ],
)
def test_preflight_checks_in_strict_order(site_known: bool, api_key: bool, oauth: str, event: Event) -> None:
    assert preflight_event(site_known=site_known, api_key=api_key, oauth_status=oauth) is event


def test_the_diagram_is_drawn_from_the_table() -> None:
    diagram = mermaid_diagram()
    assert diagram.startswith("stateDiagram-v2")
    assert "    choosing_site --> site_confirmed: site_chosen" in diagram
    assert "    site_confirmed --> pending: login_started" in diagram
    assert "idle --> site_confirmed" not in diagram


def test_the_readme_shows_the_diagram_of_this_table() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid_diagram()}\n```" in readme
