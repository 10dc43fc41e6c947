"""The state lock is held across one network request at most, and only where a grant is rotated or created; a
read of local state never waits for it; a wait that times out says who holds the lock. Another real process
holds it in these tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from okx_auth_mcp.core.login_state import LoginPending
from okx_auth_mcp.core.tickets import TicketInvalid
from okx_auth_mcp.edges.state_store import LOCK_FILE, StateStore, StoreLockTimeout
from okx_auth_mcp.login.errors import TicketUsed
from okx_auth_mcp.login.refusals import error_code, error_text
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, site_ticket, start_login

_HOLDER = """
import sys, time
from pathlib import Path
from okx_auth_mcp.edges.state_store import StateStore
with StateStore(Path(sys.argv[1])).locked(sys.argv[2]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def held_by_another_process(service: AuthService) -> Iterator[subprocess.Popen[str]]:
    """Another OS process holding the state lock (as one stuck in a slow request would) until the test ends."""
    service.store.ensure()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(service.store.directory), "refreshing the session"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    yield holder
    holder.communicate("\n", timeout=30)


@pytest.fixture
def other(service: AuthService, clock: FakeClock) -> Iterator[AuthService]:
    """Another service on the same state directory and clock, with a short request timeout, so a wait for the
    lock (one request's worst case, and a little more) fails within seconds."""
    impatient = AuthService(replace(service.settings, http_timeout=0.1), clock=clock)
    yield impatient
    impatient.close()


def test_local_reads_never_wait_for_the_lock(
    other: AuthService, held_by_another_process: subprocess.Popen[str]
) -> None:
    """Everything documented as local state only: the pre-flight, the status from the files, the keys a new
    MCP server creates. With the lock held elsewhere, each answers at once."""
    assert other.preflight().next == "choose_site"
    assert other.auth_state().status == "not_logged_in"
    assert len(other.store.request_state_key()) == 32
    assert other.store.device_id()
    assert other.status().status == "not_logged_in"  # nothing due: no request, so no lock


def test_a_fresh_token_and_a_logged_in_status_need_no_lock(
    service: AuthService, sandbox: RunningSandbox, other: AuthService
) -> None:
    log_in(service, sandbox)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(service.store.directory), "refreshing the session"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert other.bearer_token()
        assert other.status().status == "logged_in"
        assert other.preflight().next == "logged_in"
    finally:
        holder.communicate("\n", timeout=30)


def test_a_wait_that_times_out_names_the_holder_and_says_retry(
    other: AuthService, held_by_another_process: subprocess.Popen[str]
) -> None:
    with pytest.raises(StoreLockTimeout) as raised:
        other.logout()
    text = error_text(raised.value)
    assert error_code(raised.value) == "state_busy"
    assert f"okx-auth-mcp process {held_by_another_process.pid} (refreshing the session)" in text
    assert "retry" in text


def test_the_lock_file_tells_who_holds_it(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    with store.locked("starting a login"):
        assert (tmp_path / "state" / LOCK_FILE).read_text() == f" {os.getpid()} starting a login"


def test_discovery_and_registration_run_without_the_lock(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    """A discovery answer that takes 2 s: meanwhile another store takes the lock at once."""
    ticket = site_ticket(service)
    sandbox.state.faults["discovery"] = "hang:2"
    started = threading.Event()
    outcome: list[object] = []

    def login() -> None:
        started.set()
        outcome.append(service.login("eea", ticket))

    thread = threading.Thread(target=login)
    thread.start()
    started.wait()
    while sandbox.state.count("discovery") == 0:
        threading.Event().wait(0.01)
    with StateStore(service.store.directory, lock_timeout=0.5).locked():
        assert thread.is_alive()  # the login is still waiting for discovery, and does not hold the lock
    thread.join(timeout=30)
    assert outcome and isinstance(outcome[0], LoginPending)


def test_the_lock_wait_is_one_request_s_worst_case(settings: Settings) -> None:
    """Held across one request at most, so no process waits for four."""
    service = AuthService(replace(settings, http_timeout=2.0))
    try:
        assert service.store._lock_timeout == pytest.approx(4 * 2.0 + 5.0)
    finally:
        service.close()


# ----- a site ticket starts one login --------------------------------------------------------------------


def test_a_site_ticket_starts_at_most_one_login(service: AuthService, sandbox: RunningSandbox) -> None:
    ticket = site_ticket(service)
    first = service.login("eea", ticket)
    assert isinstance(first, LoginPending)
    again = service.login("eea", ticket)  # the same login, asked for again: no new device authorization
    assert isinstance(again, LoginPending) and again.user_code == first.user_code
    assert sandbox.state.count("device") == 1
    assert sandbox.state.decide(first.user_code, approve=False)
    assert service.status().status == "not_logged_in"
    with pytest.raises(TicketUsed) as raised:
        service.login("eea", ticket)  # within its ten minutes, but it has started its login
    assert error_code(raised.value) == "ticket_used" and "preflight" in error_text(raised.value)
    assert sandbox.state.count("device") == 1
    assert isinstance(start_login(service), LoginPending)  # a new choice from the menu starts a new one


def test_two_choices_in_the_same_second_are_two_tickets(service: AuthService) -> None:
    assert site_ticket(service) != site_ticket(service)


def test_two_calls_with_one_ticket_start_one_login_even_while_the_first_is_in_flight(
    service: AuthService, sandbox: RunningSandbox
) -> None:
    """The first call is slow in discovery (outside the lock); a retry with the same ticket meanwhile gets the
    same login, and after the user denies it the ticket starts nothing: the ticket is spent under the lock, in
    the same step as the request that starts the login."""
    ticket = site_ticket(service)
    sandbox.state.faults["discovery"] = "hang:1"
    outcome: list[object] = []
    first = threading.Thread(target=lambda: outcome.append(service.login("eea", ticket)))
    first.start()
    while sandbox.state.count("discovery") == 0:
        threading.Event().wait(0.01)
    second = service.login("eea", ticket)
    first.join(timeout=30)
    assert outcome and isinstance(outcome[0], LoginPending) and isinstance(second, LoginPending)
    assert second.user_code == outcome[0].user_code
    assert sandbox.state.decide(outcome[0].user_code, approve=False)
    assert service.status().status == "not_logged_in"
    with pytest.raises(TicketUsed):
        service.login("eea", ticket)
    assert sandbox.state.count("device") == 1


def test_a_login_that_failed_to_start_leaves_the_choice_usable(service: AuthService, sandbox: RunningSandbox) -> None:
    ticket = site_ticket(service)
    sandbox.state.faults["device"] = "http_500"
    with pytest.raises(Exception, match="HTTP 500"):
        service.login("eea", ticket)
    del sandbox.state.faults["device"]
    assert isinstance(service.login("eea", ticket), LoginPending)


def test_more_tickets_than_are_kept_still_work(service: AuthService, sandbox: RunningSandbox) -> None:
    """Each call with a new ticket for the pending login's site returns that login; the record keeps the newest
    tickets only, and never fails to be written."""
    from okx_auth_mcp.core.records import MAX_USED_TICKETS

    menu = service.preflight().menu_ticket
    assert menu is not None
    for _ in range(MAX_USED_TICKETS + 5):
        assert isinstance(service.login("eea", service.choose_site("2", menu).site_ticket), LoginPending)
    assert sandbox.state.count("device") == 1


_WRITER = """
import sys
from pathlib import Path
from okx_auth_mcp.edges.state_files import write_file
directory = Path(sys.argv[1])
print("writing", flush=True)
n = 0
while not (directory / "stop").exists():
    n += 1
    write_file(directory, "session.json", b'{"n": %d}' % n)
"""


def test_a_read_while_another_process_replaces_the_file_never_fails(tmp_path: Path) -> None:
    """Reads take no lock: a replacement between the check and the open is read again, not called damage."""
    store = StateStore(tmp_path / "state")
    store.write_json("session.json", {"n": 0})
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(store.directory)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        for _ in range(20000):
            assert store.read_json("session.json") is not None
    finally:
        (store.directory / "stop").touch()
        writer.communicate(timeout=30)


def login_held_in_discovery(
    service: AuthService, sandbox: RunningSandbox, ticket: str, seconds: float
) -> tuple[threading.Thread, list[object]]:
    """A login with ``ticket`` in a thread, its discovery request held ``seconds`` by the sandbox (later requests
    answer at once); returns once that request has arrived. The list gets its outcome: a login or an error."""
    sandbox.state.faults["discovery"] = f"hang:{seconds}"
    outcome: list[object] = []

    def login() -> None:
        try:
            outcome.append(service.login("eea", ticket))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=login)
    thread.start()
    while sandbox.state.count("discovery") == 0:
        threading.Event().wait(0.01)
    del sandbox.state.faults["discovery"]
    return thread, outcome


def test_a_call_still_in_flight_when_its_ticket_s_login_ended_starts_nothing(
    service: AuthService, sandbox: RunningSandbox
) -> None:
    """The reviewer's race: call B is slow in discovery; meanwhile call A with the same ticket starts a login and
    the user denies it. B then finds the ticket spent, under the lock, and starts no second login."""
    ticket = site_ticket(service)
    b, outcome = login_held_in_discovery(service, sandbox, ticket, 2.0)
    a = service.login("eea", ticket)
    assert isinstance(a, LoginPending) and sandbox.state.decide(a.user_code, approve=False)
    assert service.status().status == "not_logged_in"
    b.join(timeout=30)
    assert outcome and isinstance(outcome[0], TicketUsed)
    assert sandbox.state.count("device") == 1


def test_a_choice_made_before_a_logout_starts_nothing_after_it(service: AuthService, sandbox: RunningSandbox) -> None:
    """The ticket is checked again under the lock that starts the login: a logout while the call was in
    discovery voids it."""
    ticket = site_ticket(service)
    call, outcome = login_held_in_discovery(service, sandbox, ticket, 1.5)
    service.logout()
    call.join(timeout=30)
    assert outcome and isinstance(outcome[0], TicketInvalid)
    assert sandbox.state.count("device") == 0 and service.auth_state().status == "not_logged_in"


def test_a_retry_while_the_device_request_is_in_flight_shares_the_login(
    service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket is spent only once the login is on disk: a retry that arrives while the first call waits for
    the device endpoint waits for the lock, then finds that login."""
    http = service.backend._http  # type: ignore[attr-defined]
    answer = http.device_authorize
    in_flight = threading.Event()

    def slow_device(*args: object, **kwargs: object) -> object:
        in_flight.set()
        threading.Event().wait(1.0)
        return answer(*args, **kwargs)

    monkeypatch.setattr(http, "device_authorize", slow_device)
    ticket = site_ticket(service)
    outcome: list[object] = []
    first = threading.Thread(target=lambda: outcome.append(service.login("eea", ticket)))
    first.start()
    in_flight.wait(timeout=10)
    retry = AuthService(service.settings, clock=service._clock)
    try:
        second = retry.login("eea", ticket)
    finally:
        retry.close()
    first.join(timeout=30)
    assert outcome and isinstance(outcome[0], LoginPending) and isinstance(second, LoginPending)
    assert second.user_code == outcome[0].user_code and sandbox.state.count("device") == 1
