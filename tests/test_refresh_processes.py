"""Two OS processes find the access token expired at the same moment. Only one may refresh: the sandbox
treats a reused refresh token as theft and revokes the whole grant, so a second refresh would end the
session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from okx_auth_mcp.core.oauth_errors import InvalidGrant
from okx_auth_mcp.edges.oauth_client import OAuthHttp
from okx_auth_mcp.edges.state_store import SESSION_FILE
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import log_in, stored_session, use_storage

_REFRESHER = """
import sys, time
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
start_at = float(sys.argv[1])
service = AuthService(Settings.from_env())
while time.time() < start_at:
    time.sleep(0.001)
print(service.bearer_token())
"""


@pytest.mark.parametrize("storage", ["file", "keyring"])
def test_two_processes_refreshing_at_once_keep_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    use_storage(storage, monkeypatch)
    with RunningSandbox() as sandbox:
        monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
        service = AuthService(Settings.from_env())
        log_in(service, sandbox)
        session = service.store.read_json(SESSION_FILE)
        assert session is not None
        service.store.write_json(SESSION_FILE, {**session, "access_expires_at": 0})
        refreshes_before = sandbox.state.count("token")

        start_at = time.time() + 1.5
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _REFRESHER, str(start_at)],
                stdout=subprocess.PIPE,
                text=True,
                env=os.environ,
            )
            for _ in range(2)
        ]
        tokens = [w.communicate(timeout=60)[0].strip() for w in workers]
        assert [w.returncode for w in workers] == [0, 0]

        assert tokens[0] == tokens[1] and tokens[0]
        assert sandbox.state.count("token") == refreshes_before + 1
        assert sandbox.state.reuse_detected == 0
        answer = httpx2.get(f"{sandbox.url}/api/v5/account/config", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert answer.json()["code"] == "0"
        assert service.status().status == "logged_in"
        service.close()


def test_without_the_lock_the_sandbox_would_revoke_the_grant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The counterfactual that makes the test above meaningful: two refreshes with one refresh token."""
    with RunningSandbox() as sandbox:
        monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
        service = AuthService(Settings.from_env())
        log_in(service, sandbox)
        session = stored_session(service)
        assert session is not None and session.refresh_token is not None
        e = session.endpoints
        http = OAuthHttp()
        http.refresh(e.token_endpoint, e.client_id, session.refresh_token)
        with pytest.raises(InvalidGrant) as reused:
            http.refresh(e.token_endpoint, e.client_id, session.refresh_token)
        assert "reuse" in (reused.value.description or "")
        assert sandbox.state.reuse_detected == 1
        http.close()
        service.close()
