"""The login procedure against the sandbox over real loopback HTTP, at the service level."""

from __future__ import annotations

from pathlib import Path

import pytest

from okx_auth_mcp.core import tickets
from okx_auth_mcp.core.gate import Gate, State
from okx_auth_mcp.core.login_state import LoginPending, LoginSkipped
from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.login.errors import (
    AlreadyLoggedIn,
    NotLoggedIn,
    PendingElsewhere,
    ReplyNotUnderstood,
    SiteMismatch,
    SiteNotConfirmed,
)
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, oauth_requests, site_ticket, start_login, stored_session, write_config

pytestmark = pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)
"""Every test here with the tokens in the state file and in the OS keyring."""


def signed_site_ticket(service: AuthService, site: SiteId, now: float) -> str:
    """A genuine site ticket, for states where preflight rightly offers no menu."""
    return tickets.issue(service.store.ticket_key(), Gate(State.SITE_CONFIRMED, site), now)


def state_files(service: AuthService) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(service.store.directory).iterdir() if p.suffix == ".json"}


def test_a_whole_login_then_logout(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    login = start_login(service)
    assert login.site == "eea" and login.expires_in == 600 and login.verification_uri == f"{sandbox.url}/device"
    assert service.status().status == "pending"
    assert sandbox.state.decide(login.user_code, approve=True)
    clock.advance(5)
    state = service.status()
    assert (state.status, state.site, state.scopes) == ("logged_in", "eea", ["read_only", "trade"])
    pre = service.preflight()
    assert (pre.next, pre.site) == ("logged_in", "eea")
    assert service.logout() is True
    assert sandbox.state.revoked == ["refresh_token"]
    assert service.status().status == "not_logged_in"
    assert sandbox.state.refresh_tokens and all(t.grant.revoked for t in sandbox.state.refresh_tokens.values())


def test_auth_status_polls_at_most_once_per_interval(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    start_login(service)
    before = sandbox.state.count("token")
    for _ in range(50):
        assert service.status().status == "pending"
    assert sandbox.state.count("token") == before + 1
    clock.advance(4.9)
    for _ in range(10):
        service.status()
    assert sandbox.state.count("token") == before + 1
    clock.advance(0.1)
    for _ in range(10):
        service.status()
    assert sandbox.state.count("token") == before + 2


def test_slow_down_adds_five_seconds_for_good(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    start_login(service)
    service.status()  # first poll: authorization_pending, interval 5
    sandbox.state.config.enforce_interval = True
    for device in sandbox.state.devices.values():
        device.last_poll = clock.now + 100  # the server thinks we polled just now: it answers slow_down
    clock.advance(5)
    service.status()
    pending = service.auth_state().pending
    assert pending is not None and pending.interval == 10
    polls = sandbox.state.count("token")
    clock.advance(9)
    service.status()
    assert sandbox.state.count("token") == polls
    clock.advance(1)
    service.status()  # authorization_pending now: the longer interval stays
    assert sandbox.state.count("token") == polls + 1
    pending = service.auth_state().pending
    assert pending is not None and pending.interval == 10


def test_a_denied_login_ends_with_its_reason(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    login = start_login(service)
    sandbox.state.decide(login.user_code, approve=False)
    state = service.status()
    assert (state.status, state.reason) == ("not_logged_in", "denied")
    assert service.status().reason == "denied"
    assert service.preflight().next == "choose_site"


def test_an_expired_code_ends_with_its_reason_without_a_request(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    start_login(service)
    clock.advance(601)
    before = oauth_requests(sandbox)
    state = service.status()
    assert (state.status, state.reason) == ("not_logged_in", "expired")
    assert oauth_requests(sandbox) == before


def test_a_pending_login_is_never_replaced(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    first = start_login(service)
    clock.advance(100)
    assert service.preflight().next == "pending"
    again = service.login("eea", signed_site_ticket(service, "eea", clock()))
    assert isinstance(again, LoginPending)
    assert (again.user_code, again.site, again.expires_in) == (first.user_code, "eea", 500)
    with pytest.raises(PendingElsewhere, match="login for eea is pending"):
        service.login("us", signed_site_ticket(service, "us", clock()))  # never the eea code for a us request
    assert sandbox.state.count("device") == 1


def test_a_new_login_after_expiry_gets_a_new_code(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    first = start_login(service)
    clock.advance(601)
    assert start_login(service).user_code != first.user_code


def test_the_client_registration_is_reused_and_survives_logout(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    service.logout()
    start_login(service)
    assert sandbox.state.count("register") == 1


def test_no_login_without_a_site_ticket(service: AuthService, sandbox: RunningSandbox) -> None:
    for ticket in (None, ""):
        with pytest.raises(SiteNotConfirmed):
            service.login("global", ticket)
    assert oauth_requests(sandbox) == 0


def test_a_menu_ticket_is_not_a_site_ticket(service: AuthService, sandbox: RunningSandbox) -> None:
    menu = service.preflight().menu_ticket
    assert menu is not None
    with pytest.raises(SiteNotConfirmed):
        service.login("global", menu)
    assert oauth_requests(sandbox) == 0


def test_a_ticket_for_another_site_is_refused(service: AuthService, sandbox: RunningSandbox) -> None:
    with pytest.raises(SiteMismatch, match="chose eea, not global"):
        service.login("global", site_ticket(service, "2"))
    assert oauth_requests(sandbox) == 0


def test_tampered_expired_and_foreign_tickets_are_refused(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    ticket = site_ticket(service)
    with pytest.raises(tickets.TicketInvalid):
        service.login("eea", ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"))
    foreign = tickets.issue(b"x" * 32, Gate(State.SITE_CONFIRMED, "eea"), clock.now)
    with pytest.raises(tickets.TicketInvalid):
        service.login("eea", foreign)
    clock.advance(600)
    with pytest.raises(tickets.TicketExpired):
        service.login("eea", ticket)
    assert oauth_requests(sandbox) == 0


def test_a_reply_that_chooses_nothing_keeps_the_menu_ticket_valid(service: AuthService) -> None:
    menu = service.preflight().menu_ticket
    assert menu is not None
    with pytest.raises(ReplyNotUnderstood):
        service.choose_site("whichever", menu)
    assert service.choose_site("us", menu).site == "us"


@pytest.mark.parametrize(
    "profile",
    [
        '[profiles.main]\napi_key = "key-1234567890"\nsite = "eea"\n',
        '[profiles.a]\nsite = "eea"\n[profiles.trader]\napi_key = "key-1234567890"\n',
    ],
)
def test_any_api_key_profile_skips_the_login_without_a_request(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str], profile: str
) -> None:
    ticket = site_ticket(service)
    write_config(isolated_env["OKX_HOME"], profile)
    outcome = service.login("eea", ticket)
    assert isinstance(outcome, LoginSkipped)
    assert oauth_requests(sandbox) == 0


def test_an_environment_api_key_skips_the_login(
    service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    ticket = site_ticket(service)
    for name in ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE"):
        monkeypatch.setenv(name, "value-1234567890")
    fresh = AuthService(service.settings.from_env(), clock=clock)
    assert fresh.login("eea", ticket) == LoginSkipped("env")
    assert oauth_requests(sandbox) == 0
    fresh.close()


def test_preflight_with_a_keyed_profile_says_api_key_configured(
    service: AuthService, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], '[profiles.main]\napi_key = "key-1234567890"\nsite = "us"\n')
    pre = service.preflight()
    assert (pre.next, pre.profile, pre.menu_ticket) == ("api_key_configured", "main", None)


def test_a_key_without_any_site_still_shows_the_menu_first(service: AuthService, isolated_env: dict[str, str]) -> None:
    write_config(isolated_env["OKX_HOME"], '[profiles.main]\napi_key = "key-1234567890"\n')
    pre = service.preflight()
    assert pre.next == "choose_site" and pre.menu_ticket is not None
    choice = service.choose_site("1", pre.menu_ticket)
    assert (choice.next, choice.profile) == ("api_key_configured", "main")


def test_login_while_logged_in_is_refused(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    log_in(service, sandbox)
    with pytest.raises(AlreadyLoggedIn):
        service.login("eea", signed_site_ticket(service, "eea", clock()))


def test_refresh_rotates_and_persists_before_use(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    first = stored_session(service)
    assert first is not None
    clock.advance(3600 - 30)
    assert service.status().status == "logged_in"
    second = stored_session(service)
    assert second is not None
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    assert service.bearer_token() == second.access_token  # fresh: no second refresh
    assert sandbox.state.reuse_detected == 0


def test_a_dead_refresh_token_ends_the_session(service: AuthService, sandbox: RunningSandbox, clock: FakeClock) -> None:
    log_in(service, sandbox)
    for token in sandbox.state.refresh_tokens.values():
        token.grant.revoked = True
    clock.advance(3600)
    state = service.status()
    assert (state.status, state.reason) == ("not_logged_in", "session_expired")
    with pytest.raises(NotLoggedIn):  # the session was deleted when the refresh failed
        service.bearer_token()


def test_logout_offline_still_forgets_the_session(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    sandbox.stop()
    assert service.logout() is False
    assert service.auth_state().status == "not_logged_in"
    assert "registrations.json" in state_files(service)


def test_the_sandbox_api_accepts_the_bearer_token_and_drops_it_after_rotation(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    import httpx2

    def account(token: str) -> dict[str, object]:
        answer = httpx2.get(f"{sandbox.url}/api/v5/account/config", headers={"Authorization": f"Bearer {token}"})
        body = answer.json()
        assert isinstance(body, dict)
        return body

    log_in(service, sandbox)
    old = service.bearer_token()
    assert account(old)["code"] == "0"
    clock.advance(3600)
    new = service.bearer_token()
    assert account(new)["code"] == "0"
    assert account(old)["code"] == "53003"
    assert account("made-up")["code"] == "53000"
    assert httpx2.get(f"{sandbox.url}/api/v5/account/config").json()["code"] == "50111"
    service.logout()
    assert account(new)["code"] == "53003"


def test_logout_also_ends_a_pending_login(service: AuthService, sandbox: RunningSandbox) -> None:
    start_login(service)
    assert service.logout() is False  # nothing to revoke: no tokens were issued
    assert service.auth_state().status == "not_logged_in"
    assert "pending.json" not in state_files(service)


def test_a_site_choice_made_before_a_logout_cannot_start_a_login(service: AuthService, sandbox: RunningSandbox) -> None:
    ticket = site_ticket(service)
    service.logout()
    with pytest.raises(tickets.TicketInvalid, match="before a logout"):
        service.login("eea", ticket)
    assert oauth_requests(sandbox) == 0


def test_the_requested_scope_comes_from_okx_oauth_scope(
    settings: Settings, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    from dataclasses import replace

    service = AuthService(replace(settings, scope="read_only"), clock=clock)
    log_in(service, sandbox)
    assert service.auth_state().scopes == ["read_only"]
    service.close()


def test_writing_a_registration_keeps_what_else_the_file_holds(service: AuthService, sandbox: RunningSandbox) -> None:
    service.store.write_json("registrations.json", {"clients": {}, "note": "kept", "future_field": [1, 2]})
    start_login(service)
    data = service.store.read_json("registrations.json")
    assert data is not None
    assert data["note"] == "kept" and data["future_field"] == [1, 2] and sandbox.url in data["clients"]


_LOGIN = """
import sys, time
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
start_at = float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.001)
print(service.login("eea", sys.argv[1]).user_code)
"""


def test_two_processes_starting_a_login_at_once_share_one_code(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    import os
    import subprocess
    import sys
    import time

    sandbox.state.clock = time.time  # the workers run on real time
    ticket = tickets.issue(service.store.ticket_key(), Gate(State.SITE_CONFIRMED, "eea"), time.time())
    start_at = time.time() + 1.5
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _LOGIN, ticket, str(start_at)], stdout=subprocess.PIPE, text=True, env=os.environ
        )
        for _ in range(3)
    ]
    codes = [w.communicate(timeout=60)[0].strip() for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0]
    assert len(set(codes)) == 1 and codes[0]
    assert sandbox.state.count("device") == 1


def test_a_site_ticket_is_not_a_menu_ticket(service: AuthService) -> None:
    with pytest.raises(SiteNotConfirmed, match="not a menu ticket"):
        service.choose_site("1", site_ticket(service))


_STATUS = """
import sys, time
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
start_at = float(sys.argv[1])
while time.time() < start_at:
    time.sleep(0.001)
print(service.status().status)
"""


def test_processes_checking_status_at_once_send_one_token_request(settings: Settings, sandbox: RunningSandbox) -> None:
    import os
    import subprocess
    import sys
    import time

    sandbox.state.clock = time.time
    service = AuthService(settings)  # the real clock, as the worker processes have
    start_login(service)
    service.close()
    polls = sandbox.state.count("token")
    start_at = time.time() + 1.5
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _STATUS, str(start_at)], stdout=subprocess.PIPE, text=True, env=os.environ
        )
        for _ in range(3)
    ]
    answers = [w.communicate(timeout=60)[0].strip() for w in workers]
    assert answers == ["pending"] * 3
    assert sandbox.state.count("token") == polls + 1
