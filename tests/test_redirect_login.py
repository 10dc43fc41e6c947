"""The redirect grants end to end (``OKX_OAUTH_GRANT=pkce|code``): the MCP tools through the same gate, the
sandbox's consent page answered as a browser answers it (its CSRF token, the 303 to our loopback redirect),
our listener checking ``state`` and ``iss`` and exchanging the code, the session stored, refreshed and
revoked with the app's authentication, and every way the login ends. Both protocol generations."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import LoginPending
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.edges.state_store import StoreCorrupt
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.code_flow import CONFIDENTIAL, PUBLIC
from tests.helpers import CLI, confirmed_site, connected, csrf_of, data, error_text, stored_session, write_config

pytestmark = pytest.mark.anyio
LOOPBACK_DESK = CONFIDENTIAL.__class__(
    "desk-local", "Acme Trading Desk", secret="s3cret-Desk-App+/=", redirect_uris=("http://127.0.0.1/callback",)
)
"""An app server's client whose redirect is this machine's loopback (where our listener runs)."""


@pytest.fixture(params=["pkce", "code"])
def grant(request: pytest.FixtureRequest, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> str:
    sandbox.state.add_client(PUBLIC)
    sandbox.state.add_client(LOOPBACK_DESK)
    client = PUBLIC if request.param == "pkce" else LOOPBACK_DESK
    monkeypatch.setenv("OKX_OAUTH_GRANT", str(request.param))
    monkeypatch.setenv("OKX_OAUTH_CLIENT_ID", client.client_id)
    if client.secret:
        monkeypatch.setenv("OKX_OAUTH_CLIENT_SECRET", client.secret)
    return str(request.param)


@pytest.fixture
def redirect_service(grant: str, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthService]:
    monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
    monkeypatch.setenv("OKX_AUTH_HTTP_TIMEOUT", "5")
    service = AuthService(Settings.from_env())
    yield service
    service.close()


@pytest.fixture(params=["legacy", "auto"])
async def client(request: pytest.FixtureRequest, redirect_service: AuthService) -> AsyncIterator[Client]:
    async with connected(redirect_service, str(request.param)) as joined:
        yield joined


async def consent(http: httpx2.AsyncClient, link: str, action: str = "approve") -> httpx2.Response:
    """The consent page answered as a person answers it; the sandbox's 303 to our redirect, not followed."""
    page = await http.get(link)
    assert page.status_code == 200, page.text
    return await http.post(
        link.split("?")[0], data={"csrf": csrf_of(page.text), "action": action}, follow_redirects=False
    )


async def start(client: Client, lang: str = "en") -> dict[str, object]:
    choice = await confirmed_site(client, "2")
    return data(
        await client.call_tool("auth_login_manual", {"site": "eea", "site_ticket": choice["site_ticket"], "lang": lang})
    )


async def test_the_redirect_grant_logs_in_through_the_same_gate(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox, grant: str
) -> None:
    refused = await client.call_tool("auth_login_manual", {"site": "eea", "lang": "en"})
    assert error_text(refused).startswith("[site_not_confirmed]")
    login = await start(client)
    link = str(login["verificationUri"])
    assert "userCode" not in login and login["status"] == "pending" and login["expiresIn"] == 600
    assert login["reply"] == texts.login_started("en", "eea", link, None, 600)
    query = parse_qs(urlsplit(link).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "pending"
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await consent(http, link)
        assert answer.status_code == 303
        landing = await http.get(answer.headers["location"])
    assert landing.status_code == 200 and "Logged in" in landing.text and "登录完成" in landing.text
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["code"][0] not in landing.text  # the page shows no code
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status["site"]) == ("logged_in", "eea")
    session = stored_session(redirect_service)
    assert session is not None and session.endpoints.grant == grant
    assert redirect_service.termid() == (None if grant == "code" else redirect_service.store.device_id())
    renewed = redirect_service.force_refresh(session.access_token)  # the refresh authenticates the app
    assert renewed is not None and renewed != session.access_token
    logout = data(await client.call_tool("logout", {"lang": "en"}))
    assert logout["revoked"] is True


async def test_deny_ends_the_login_and_a_stray_request_changes_nothing(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    login = await start(client, "zh")
    link = str(login["verificationUri"])
    redirect = parse_qs(urlsplit(link).query)["redirect_uri"][0]
    async with httpx2.AsyncClient(timeout=10) as http:
        stray = await http.get(redirect, params={"code": "made-up", "state": "another", "iss": sandbox.url})
        assert stray.status_code == 400 and "Not the answer to this login" in stray.text
        assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "pending"
        answer = await consent(http, link, "deny")
        landing = await http.get(answer.headers["location"])
        assert "Authorization denied" in landing.text
        again = await http.get(answer.headers["location"])
        assert again.status_code in (409, 400)  # used, or the listener already gone
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status.get("reason")) == ("not_logged_in", "denied")


async def test_an_answer_from_another_issuer_is_refused(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    sandbox.state.faults["authorize"] = "wrong_iss"
    login = await start(client)
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await consent(http, str(login["verificationUri"]))
        landing = await http.get(answer.headers["location"])
    assert landing.status_code == 400 and "Not the answer to this login" in landing.text
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "pending"
    assert stored_session(redirect_service) is None


async def test_an_okx_error_on_the_redirect_ends_the_login_with_its_reason(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    sandbox.state.faults["authorize"] = "redirect_error:53012"
    login = await start(client)
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await consent(http, str(login["verificationUri"]))
        landing = await http.get(answer.headers["location"])
    assert "Authorization expired" in landing.text
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status.get("reason")) == ("not_logged_in", "expired")


_OTHER_PROCESS = """
import sys
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
service = AuthService(Settings.from_env())
ticket = service.choose_site("2", service.preflight().menu_ticket or "").site_ticket
login = service.login("eea", ticket)
print(login.verification_uri, flush=True)
"""


def test_a_login_whose_listening_process_died_is_interrupted_never_pending_forever(
    redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert re.match(r"^http://127\.0\.0\.1:\d+/oauth/authorize\?", done.stdout)
    state = redirect_service.status()
    assert (state.status, state.reason) == ("not_logged_in", "interrupted")


def test_the_command_line_logs_in_with_the_configured_grant_opening_the_browser(
    redirect_service: AuthService, sandbox: RunningSandbox, tmp_path: Path, grant: str
) -> None:
    sandbox.state.clock = time.time
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    proc = subprocess.Popen(
        [*CLI, "login", "--site", "eea", "--open", "--lang", "en"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER": str(browser)},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        link = next(line.removeprefix("URL: ").strip() for line in lines if line.startswith("URL: "))
        assert "Code:" not in "".join(lines) and "approve the access" in lines[0]
        with httpx2.Client(timeout=10) as http:
            page = http.get(link)
            answer = http.post(link.split("?")[0], data={"csrf": csrf_of(page.text), "action": "approve"})
            assert answer.status_code == 303
            assert "Logged in" in http.get(answer.headers["location"]).text
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert texts.logged_in("en", "eea", ["read_only", "trade"]) in rest
    assert opened.read_text(encoding="utf-8") == link
    assert redirect_service.auth_state().status == "logged_in"


async def test_the_gate_refuses_a_redirect_login_as_it_refuses_a_device_login(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    async def login(site: str, ticket: str | None) -> CallToolResult:
        arguments = {"site": site, "lang": "en", **({"site_ticket": ticket} if ticket is not None else {})}
        return await client.call_tool("auth_login_manual", arguments)

    assert error_text(await login("eea", None)).startswith("[site_not_confirmed]")
    assert error_text(await login("eea", "okxg1.made.up")).startswith("[ticket_invalid]")
    choice = await confirmed_site(client, "2")
    assert error_text(await login("us", choice["site_ticket"])).startswith("[site_mismatch]")
    first = data(await login("eea", choice["site_ticket"]))
    again = data(await login("eea", choice["site_ticket"]))
    assert again["verificationUri"] == first["verificationUri"]  # the same login, asked for again
    pre = data(await client.call_tool("preflight", {"lang": "en"}))
    assert (pre["next"], pre["verificationUri"]) == ("pending", first["verificationUri"])  # no second login
    assert data(await client.call_tool("logout", {"lang": "en"}))["status"] == "not_logged_in"
    assert error_text(await login("eea", choice["site_ticket"])).startswith("[ticket_invalid]")  # void after logout
    write_config(isolated_env["OKX_HOME"], '[profiles.main]\napi_key = "k"\nsecret_key = "s"\npassphrase = "p"\n')
    skipped = data(await login("eea", None))
    assert (skipped["status"], skipped["profile"]) == ("skipped", "main")


# ----- what an adversarial review found ----------------------------------------------------------------------


async def test_a_callback_after_logout_exchanges_nothing_and_the_listener_is_gone(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    login = await start(client)
    async with httpx2.AsyncClient(timeout=10) as http:
        page = await http.get(str(login["verificationUri"]))
        await client.call_tool("logout", {"lang": "en"})
        answer = await http.post(
            str(login["verificationUri"]).split("?")[0],
            data={"csrf": csrf_of(page.text), "action": "approve"},
            follow_redirects=False,
        )
        with pytest.raises(httpx2.ConnectError):  # this process stopped listening at the logout
            await http.get(answer.headers["location"])
    assert sandbox.state.count("token") == 0 and stored_session(redirect_service) is None


async def test_after_an_interrupted_login_a_new_one_starts_never_the_dead_link(
    client: Client, redirect_service: AuthService, sandbox: RunningSandbox
) -> None:
    first = await start(client)
    redirect_service.backend.redirects.close()  # type: ignore[attr-defined]  # as if its listener had died
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status["reason"]) == ("not_logged_in", "interrupted")
    second = await start(client)
    assert second["verificationUri"] != first["verificationUri"]
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await consent(http, str(second["verificationUri"]))
        assert "Logged in" in (await http.get(answer.headers["location"])).text


@pytest.mark.parametrize("grant", ["code"], indirect=True)  # an app server's session only
def test_a_code_session_is_not_logged_out_half_without_the_apps_secret(
    redirect_service: AuthService, sandbox: RunningSandbox, grant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in_by_redirect(redirect_service)
    monkeypatch.delenv("OKX_OAUTH_CLIENT_SECRET")
    monkeypatch.setenv("OKX_OAUTH_GRANT", "device")
    other = AuthService(Settings.from_env())
    try:
        with pytest.raises(ConfigError, match="OKX_OAUTH_CLIENT_SECRET"):
            other.logout()
        assert stored_session(other) is not None  # nothing deleted: the live refresh token is not orphaned
    finally:
        other.close()


def log_in_by_redirect(service: AuthService) -> None:
    ticket = service.choose_site("2", service.preflight().menu_ticket or "").site_ticket
    login = service.login("eea", ticket)
    assert isinstance(login, LoginPending)
    with httpx2.Client(timeout=10) as http:
        page = http.get(login.verification_uri)
        answer = http.post(login.verification_uri.split("?")[0], data={"csrf": csrf_of(page.text), "action": "approve"})
        assert "Logged in" in http.get(answer.headers["location"]).text
    assert service.auth_state().status == "logged_in"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda q: {**q, "client_id": "another-app"}, "for another client"),
        (lambda q: {k: v for k, v in q.items() if k != "code_challenge"}, "without its state or challenge"),
        (lambda q: {**q, "scope": "read_only trade withdraw"}, "for another client or scope"),
        (lambda q: {**q, "redirect_uri": "https://127.0.0.1/cb"}, "does not come back to this computer"),
    ],
)
def test_a_planted_redirect_record_is_refused_on_read(
    redirect_service: AuthService, sandbox: RunningSandbox, change: Any, why: str
) -> None:
    ticket = redirect_service.choose_site("2", redirect_service.preflight().menu_ticket or "").site_ticket
    login = redirect_service.login("eea", ticket)
    assert isinstance(login, LoginPending)
    path = redirect_service.settings.state_dir / "pending.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    base, query = record["verification_uri"].split("?")
    record["verification_uri"] = base + "?" + urlencode(change(dict(parse_qsl(query))))
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(StoreCorrupt, match=why):
        redirect_service.auth_state()


def test_a_redirect_port_another_program_holds_is_a_clear_configuration_error(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, grant: str
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("OKX_OAUTH_ISSUER", sandbox.url)
        monkeypatch.setenv("OKX_OAUTH_REDIRECT_URI", f"http://127.0.0.1:{port}/callback")
        service = AuthService(Settings.from_env())
        try:
            ticket = service.choose_site("2", service.preflight().menu_ticket or "").site_ticket
            with pytest.raises(ConfigError, match="OKX_OAUTH_REDIRECT_URI: cannot listen"):
                service.login("eea", ticket)
        finally:
            service.close()


async def test_serve_with_its_sandbox_logs_in_with_the_configured_app(grant: str) -> None:
    """``serve --sandbox`` over stdio registers the configured app in its sandbox, as OKX registers one."""
    env = {k: v for k, v in os.environ.items() if k not in ("OKX_OAUTH_ISSUER",)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "okx_auth_mcp", "serve", "--sandbox"], env=env)
    async with Client(params) as stdio:
        login = await start(stdio)
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = await consent(http, str(login["verificationUri"]))
            assert "Logged in" in (await http.get(answer.headers["location"])).text
        status = data(await stdio.call_tool("auth_status", {"lang": "en"}))
        assert (status["status"], status["site"]) == ("logged_in", "eea")
