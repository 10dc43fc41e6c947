"""verify_credentials with an OAuth session while another OS process refreshes it.

The sandbox, like OKX, revokes every access token of a grant when its refresh token rotates (53003). A
refresh by another process between verify's read of the token and OKX's check of it used to end in
``[session_rejected]`` (5 of 20 calls in the issue). Verify re-reads the session and retries once, as
``OkxAuth`` does: the stored token when another process refreshed, else one refresh of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from okx_auth_mcp.core.api_keys import SessionRejected, Verified
from okx_auth_mcp.edges.okx_api import OkxApi
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login import verify
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, log_in, stored_session

HOLD_SECONDS = 3.0
"""How long the sandbox holds the account request before it checks the token: the other process refreshes
within it."""

_REFRESHER = """
import sys
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
token = service.bearer_token()
print("ready", flush=True)
sys.stdin.readline()
renewed = service.force_refresh(token)
print("rotated" if renewed is not None and renewed != token else "not rotated", flush=True)
service.close()
"""


def test_a_refresh_by_another_process_while_the_check_is_in_flight_is_retried_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RunningSandbox() as sandbox:
        monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
        service = AuthService(Settings.from_env())
        log_in(service, sandbox)  # before the other process starts: it reads the session at once
        with subprocess.Popen(
            [sys.executable, "-c", _REFRESHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ
        ) as refresher:
            try:
                assert refresher.stdin is not None and refresher.stdout is not None
                assert refresher.stdout.readline().strip() == "ready"
                tokens_before = sandbox.state.count("token")
                sandbox.state.latency = HOLD_SECONDS
                with ThreadPoolExecutor(1) as pool:
                    checking = pool.submit(verify.verify, service, OkxApi(timeout=30), time.time)
                    time.sleep(0.5)  # verify has read its token and its request waits in the sandbox
                    refresher.stdin.write("go\n")
                    refresher.stdin.flush()
                    assert refresher.stdout.readline().strip() == "rotated"
                    assert refresher.wait(timeout=30) == 0
                    sandbox.state.latency = 0.0
                    outcome = checking.result(timeout=60)
                assert outcome == Verified("oauth", "eea", "44****00", ("read_only", "trade"))
                assert sandbox.state.count("account") == 2, "the other process's refresh did not land mid-request"
                assert sandbox.state.count("token") == tokens_before + 1  # verify used the other process's token
                assert sandbox.state.reuse_detected == 0
                assert service.status().status == "logged_in"
            finally:
                if refresher.poll() is None:
                    refresher.kill()
                service.close()


def test_a_token_refused_again_after_one_refresh_is_session_rejected(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    tokens_before = sandbox.state.count("token")
    sandbox.state.faults["account"] = "okx:53003"
    with pytest.raises(SessionRejected, match="code 53003: Token revoked") as caught:
        verify.verify(service, OkxApi(timeout=2), clock)
    assert caught.value.code == "53003"
    assert sandbox.state.count("account") == 2  # one retry, no more
    assert sandbox.state.count("token") == tokens_before + 1
    assert sandbox.state.reuse_detected == 0
    assert service.auth_state().status == "logged_in"  # a refused access token does not end the session


def test_a_refused_token_without_a_refresh_token_is_session_rejected_at_once(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    log_in(service, sandbox)
    session = service.store.read_json(SESSION_FILE)
    assert session is not None
    service.store.write_json(SESSION_FILE, {**session, "refresh_token": None})
    for token in sandbox.state.access_tokens.values():
        token.superseded = True
    tokens_before = sandbox.state.count("token")
    with pytest.raises(SessionRejected, match="code 53003: Token revoked"):
        verify.verify(service, OkxApi(timeout=2), clock)
    assert sandbox.state.count("account") == 1
    assert sandbox.state.count("token") == tokens_before
    assert stored_session(service) is not None  # one refusal does not end it


def test_a_token_the_server_dropped_is_refreshed_and_the_check_passes(
    service: AuthService, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    """No other process: the stored token is the refused one, so verify refreshes it once itself."""
    log_in(service, sandbox)
    for token in sandbox.state.access_tokens.values():
        token.superseded = True
    tokens_before = sandbox.state.count("token")
    assert verify.verify(service, OkxApi(timeout=2), clock) == Verified(
        "oauth", "eea", "44****00", ("read_only", "trade")
    )
    assert sandbox.state.count("account") == 2
    assert sandbox.state.count("token") == tokens_before + 1
    assert sandbox.state.reuse_detected == 0
