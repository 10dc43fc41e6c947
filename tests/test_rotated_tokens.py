"""A refresh rotates the pair, and OKX revokes the old access token at once, before its expiry (seed 003): no
token older than the last refresh is ever handed out. Against the sandbox, which supersedes the old access
token at the refresh (53003): after another service on the same state directory refreshed, and while another
thread's refresh is still in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx2
import pytest

from okx_auth_mcp.httpx_auth import OkxAuth
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, run_cli, stored_session

pytestmark = pytest.mark.parametrize("token_storage", ["file", "keyring"], indirect=True)
"""Every test here with the tokens in the state file and in the OS keyring."""

ACCESS_TTL = 3600


def stored_token(service: AuthService) -> str:
    session = stored_session(service)
    assert session is not None
    return session.access_token


def account(auth: OkxAuth, sandbox: RunningSandbox, mode: str) -> httpx2.Response:
    """``GET /api/v5/account/config`` through a ``mode`` ("sync" or "async") httpx2 client signed by ``auth``."""
    url = f"{sandbox.url}/api/v5/account/config"
    if mode == "sync":
        with httpx2.Client(auth=auth) as client:
            return client.get(url)

    async def call() -> httpx2.Response:
        async with httpx2.AsyncClient(auth=auth) as client:
            return await client.get(url)

    return anyio.run(call)


def sent_once_with(answer: httpx2.Response, token: str) -> bool:
    """OKX accepted the request at the first try, with ``token``."""
    return (
        answer.status_code == 200
        and answer.history == []
        and answer.request.headers["Authorization"] == (f"Bearer {token}")
    )


def refresh(service: AuthService, clock: FakeClock, how: str, old: str) -> Callable[[], str | None]:
    """A refresh of ``how`` kind: "forced" (after OKX refused ``old``) or "due" (the token is near expiry)."""
    if how == "forced":
        return lambda: service.force_refresh(old)
    clock.advance(ACCESS_TTL - 30)
    return service.bearer_token


# ----- another service on the same state directory refreshed ---------------------------------------------


@pytest.mark.parametrize("how", ["forced", "due"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_after_another_service_refreshed_this_one_hands_out_the_new_token(
    service: AuthService, settings: Settings, sandbox: RunningSandbox, clock: FakeClock, how: str, mode: str
) -> None:
    log_in(service, sandbox)
    other = AuthService(settings, clock=clock)  # another process, or a restart, on the same state directory
    try:
        old = other.bearer_token()
        assert sent_once_with(account(OkxAuth(other), sandbox, mode), old)  # it has used the old token
        refreshes = sandbox.state.count("token")
        new = refresh(service, clock, how, old)()
        assert new is not None and new != old and sandbox.state.access_tokens[old].superseded
        assert other.bearer_token() == new
        assert sent_once_with(account(OkxAuth(other), sandbox, mode), new)
    finally:
        other.close()
    assert sandbox.state.count("token") == refreshes + 1  # the other service did not refresh again
    assert sandbox.state.reuse_detected == 0


def test_the_token_command_prints_the_token_of_the_last_refresh(
    capsys: pytest.CaptureFixture[str], live: RunningSandbox, me: AuthService
) -> None:
    log_in(me, live)
    old = run_cli(capsys, "token")[1].strip()
    assert old == stored_token(me)
    new = me.force_refresh(old)
    assert new is not None and new != old
    assert run_cli(capsys, "token") == (0, new + "\n", "")


# ----- another thread's refresh is in flight -------------------------------------------------------------


class HeldClock:
    """The sandbox's clock, which can hold the sandbox at its next reading of it: the token endpoint reads it
    before it rotates anything, so a refresh stays in flight (sent, not answered) until :meth:`release`. The
    sandbox holds its state's lock meanwhile: a test reads nothing of it until then."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._go = threading.Event()
        self._go.set()
        self.reached = threading.Event()

    def hold(self) -> None:
        self.reached.clear()
        self._go.clear()

    def release(self) -> None:
        self._go.set()

    def __call__(self) -> float:
        if not self._go.is_set():
            self.reached.set()
            assert self._go.wait(10), "the test never released the sandbox"
        return self._clock()


@pytest.mark.parametrize("how", ["forced", "due"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_request_started_while_a_refresh_is_in_flight_sends_the_token_of_that_refresh(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock, how: str, mode: str
) -> None:
    held = HeldClock(clock)
    sandbox.state.clock = held
    log_in(service, sandbox)
    old = stored_token(service)
    refreshes = sandbox.state.count("token")
    refreshing = refresh(service, clock, how, old)
    held.hold()
    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            refreshed = pool.submit(refreshing)
            assert held.reached.wait(1), "the refresh never reached the sandbox"  # in flight: sent, not answered
            requested = pool.submit(account, OkxAuth(service), sandbox, mode)
            time.sleep(0.3)  # the request is under way while the refresh is in flight
            assert not requested.done()  # it waits for the refresh
        finally:
            held.release()
        new = refreshed.result(timeout=10)
        answer = requested.result(timeout=10)
    assert new is not None and new != old
    assert sent_once_with(answer, new)  # not the old token, which OKX revoked at the refresh
    assert sandbox.state.count("token") == refreshes + 1 and sandbox.state.reuse_detected == 0
