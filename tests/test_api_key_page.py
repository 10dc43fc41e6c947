"""setup_api_key's one-time page (``login.api_key_page``), over real loopback HTTP: the form a browser gets, what
a submission writes into a real config file under tmp_path, the sandbox verifying the key, and everything the
page refuses with the file unchanged. The tools through the SDK's own client, in both protocol generations.
A real browser fills the page in tests/test_api_key_page_browser.py."""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import ElicitRequestURLParams, ElicitResult

from okx_auth_mcp.core import setup_replies, texts
from okx_auth_mcp.core.api_key_page import CSP
from okx_auth_mcp.core.api_keys import Verified
from okx_auth_mcp.edges import okx_config
from okx_auth_mcp.login import api_key_page
from okx_auth_mcp.login.api_key_page import ApiKeyPages, Page
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.verify import api_client
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import CLIENT_KINDS, FakeClock, connected, csrf_of, data, origin, snapshot, write_config

AK, SK, PP = "AK-page-0123456789", "SK-PAGE-SECRET-4242", "PP-Page-Phrase-77"
UID = "44556677889900"


@pytest.fixture(autouse=True)
def api_at_sandbox(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """API-key requests go to the sandbox (before the settings are read), which knows one key."""
    monkeypatch.setenv("OKX_API_BASE_URL", sandbox.url)
    sandbox.state.add_api_key(AK, SK, PP, uid=UID, perm="read_only")


@pytest.fixture
def steps() -> FakeClock:
    """A monotonic clock the test moves."""
    return FakeClock(1000.0)


@pytest.fixture
def pages(service: AuthService, live: RunningSandbox, steps: FakeClock) -> Iterator[ApiKeyPages]:
    opened = ApiKeyPages(service, api_client(service), monotonic=steps)
    yield opened
    opened.close()


def form(**fields: str) -> dict[str, str]:
    values = {"site": "global", "mode": "live", "profile": "", "api_key": AK, "secret_key": SK, "passphrase": PP}
    return {**values, **fields}


def submit(page: Page, fields: dict[str, Any], *, headers: dict[str, str] | None = None) -> httpx2.Response:
    """The form posted as a browser on the page posts it: its CSRF token, its Origin."""
    csrf = csrf_of(httpx2.get(page.url, timeout=5).text)
    sent = {"Origin": origin(page.url), **(headers or {})}
    return httpx2.post(page.url, data={"csrf": csrf, **fields}, headers=sent, timeout=10)


def config_file(isolated_env: dict[str, str]) -> Path:
    return Path(isolated_env["OKX_HOME"]) / "config.toml"


# ----- the page --------------------------------------------------------------------------------------------


def test_the_page_is_a_one_time_loopback_link_that_loads_nothing_from_anywhere(pages: ApiKeyPages) -> None:
    page = pages.start("en")
    parts = urlsplit(page.url)
    assert parts.hostname == "127.0.0.1" and parts.port and parts.path.startswith("/setup/")
    token = parts.path.removeprefix("/setup/")
    assert len(token) == 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # 16 random bytes, base64url
    answer = httpx2.get(page.url, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["cache-control"] == "no-store" and answer.headers["x-frame-options"] == "DENY"
    html = answer.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert not re.search(r"(src|href)=", html)  # no script, no style sheet, no image: nothing to load
    for name in ("profile", "api_key", "secret_key", "passphrase"):
        assert f'<label class="field" for="{name}">' in html and f'id="{name}" name="{name}"' in html
    assert html.count('type="password"') == 2
    assert html.count('name="site"') == 4 and html.count('name="mode"') == 2
    assert " checked" not in html  # no default site, no default mode


def test_the_page_speaks_chinese_when_the_tool_was_asked_in_chinese(pages: ApiKeyPages) -> None:
    html = httpx2.get(pages.start("zh").url, timeout=5).text
    assert '<html lang="zh-CN">' in html and "保存 OKX API key" in html and "模拟盘" in html


def test_a_submission_writes_the_profile_verifies_it_and_uses_the_page(
    pages: ApiKeyPages, isolated_env: dict[str, str], live: RunningSandbox
) -> None:
    page = pages.start("en")
    answer = submit(page, form(site="global", mode="live", profile="main"))
    assert answer.status_code == 200, answer.text
    assert "API key saved and accepted by OKX" in answer.text and "44****00" in answer.text
    assert SK not in answer.text and PP not in answer.text and AK not in answer.text
    profile = okx_config.load(os.environ).api_key_profile()
    assert profile is not None and (profile.name, profile.api_key, profile.secret_key) == ("main", AK, SK)
    assert okx_config.load(os.environ).default_profile == "main"
    assert live.state.count("account") == 1
    current = pages.current()
    assert current is not None and current.state == "saved" and current.saved is not None
    assert isinstance(current.saved.outcome, Verified) and current.saved.outcome.permissions == ("read_only",)
    again = submit_raw(page, form())
    assert again.status_code == 410 and "used already" in again.text
    assert httpx2.get(page.url, timeout=5).status_code == 410


def submit_raw(page: Page, fields: dict[str, str], **headers: str) -> httpx2.Response:
    """A post without first reading the page (a replay, or an attacker's)."""
    return httpx2.post(page.url, data=fields, headers={"Origin": origin(page.url), **headers}, timeout=10)


def test_a_rejected_key_is_saved_and_says_so(pages: ApiKeyPages, isolated_env: dict[str, str]) -> None:
    page = pages.start("en")
    answer = submit(page, form(secret_key="SK-WRONG-0000000"))
    assert answer.status_code == 200 and "OKX rejected it" in answer.text and "50113" in answer.text
    current = pages.current()
    assert current is not None and current.saved is not None
    outcome = api_key_page.page_outcome(current.saved)
    assert (outcome.status, outcome.code, outcome.profile) == ("rejected", "50113", "okx-prod")
    reply = setup_replies.saved("en", outcome)
    assert texts.api_key_rejected("en", "okx-prod", "global", "50113") in reply


def test_an_unreachable_okx_keeps_the_key_saved_and_unchecked(
    pages: ApiKeyPages, live: RunningSandbox, monkeypatch: pytest.MonkeyPatch, service: AuthService
) -> None:
    live.state.add_api_key(AK, SK, PP, answer="50001")  # a server-side failure, not a verdict on the key
    page = pages.start("en")
    answer = submit(page, form(mode="demo"))
    assert answer.status_code == 200 and "could not be asked" in answer.text, answer.text
    assert okx_config.load(os.environ).api_key_profile() is not None


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"site": ""}, "site", "choose your OKX site"),
        ({"site": "mars"}, "site", "choose your OKX site"),
        ({"mode": ""}, "mode", "choose demo or live"),
        ({"profile": 'x"]\n[evil'}, "profile", "1-80 letters, digits"),
        ({"profile": "a" * 81}, "profile", "1-80 letters, digits"),
        ({"profile": "env"}, "profile", "env stands for OKX&#x27;s environment variables"),
        ({"api_key": ""}, "api_key", "required"),
        ({"secret_key": "sécret-clé-000"}, "secret_key", "printable ASCII"),
        ({"secret_key": "x" * 300}, "secret_key", "printable ASCII"),
        ({"passphrase": "short"}, "passphrase", "8-32 characters"),
        ({"passphrase": "p" * 33}, "passphrase", "8-32 characters"),
    ],
)
def test_a_form_that_does_not_fit_is_shown_again_naming_the_field_and_nothing_is_written(
    pages: ApiKeyPages, isolated_env: dict[str, str], fields: dict[str, str], field: str, said: str
) -> None:
    page = pages.start("en")
    answer = submit(page, form(**fields))
    assert answer.status_code == 400 and said in answer.text
    assert "Nothing was saved" in answer.text and 'role="alert"' in answer.text
    assert re.search(rf'name="{field}"[^>]*autofocus', answer.text)  # the first field at fault has the focus
    for secret in (SK, PP, AK, fields.get(field, "")):
        if secret and field not in ("site", "mode", "profile"):
            assert f'value="{secret}"' not in answer.text
    assert not config_file(isolated_env).exists()
    current = pages.current()
    assert current is not None and current.state == "waiting"  # the page still works
    assert submit(page, form()).status_code == 200


def test_values_pasted_with_spaces_around_them_are_saved_without(pages: ApiKeyPages) -> None:
    page = pages.start("en")
    assert submit(page, form(api_key=f" {AK}\t", secret_key=f"{SK} ", passphrase=f"\n{PP}")).status_code == 200
    profile = okx_config.load(os.environ).api_key_profile()
    assert profile is not None and (profile.api_key, profile.secret_key, profile.passphrase) == (AK, SK, PP)


def test_the_values_that_are_not_secret_come_back_and_the_secret_ones_do_not(pages: ApiKeyPages) -> None:
    page = pages.start("en")
    answer = submit(page, form(site="eea", mode="demo", profile="mine", passphrase="short"))
    assert 'value="eea" required checked' in answer.text and 'value="demo" required checked' in answer.text
    assert 'value="mine"' in answer.text
    assert AK not in answer.text and SK not in answer.text


def test_an_existing_profile_is_replaced_only_when_the_box_is_ticked(
    pages: ApiKeyPages, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], '[profiles.okx-prod]\napi_key = "old"\nsecret_key = "s"\npassphrase = "p"\n')
    before = config_file(isolated_env).read_bytes()
    page = pages.start("en")
    refused = submit(page, form())
    assert refused.status_code == 409 and "a profile named okx-prod exists" in refused.text
    assert config_file(isolated_env).read_bytes() == before
    accepted = submit(page, form(replace="yes"))
    assert accepted.status_code == 200
    profile = okx_config.load(os.environ).api_key_profile()
    assert profile is not None and profile.api_key == AK


def test_a_config_file_that_is_not_toml_is_never_overwritten(pages: ApiKeyPages, isolated_env: dict[str, str]) -> None:
    write_config(isolated_env["OKX_HOME"], "this is = = not toml\n")
    before = config_file(isolated_env).read_bytes()
    answer = submit(pages.start("en"), form(site="eea", profile="mine"))
    assert answer.status_code == 409 and "could not be written, so nothing was saved" in answer.text
    assert "line 1" in answer.text and 'value="eea" required checked' in answer.text and 'value="mine"' in answer.text
    assert config_file(isolated_env).read_bytes() == before
    zh = submit(pages.start("zh"), form())
    assert "无法写入配置文件，因此未保存任何内容" in zh.text


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": "http://evil.example"}, "a cross-site post"),
        ({"Origin": "null"}, "an opaque origin"),
        ({"Host": "evil.example"}, "DNS rebinding"),
        ({"Content-Type": "text/plain"}, "not a form"),
    ],
)
def test_a_post_from_anywhere_but_the_page_is_refused(
    pages: ApiKeyPages, isolated_env: dict[str, str], headers: dict[str, str], why: str
) -> None:
    page = pages.start("en")
    csrf = csrf_of(httpx2.get(page.url, timeout=5).text)
    body = "&".join(f"{k}={v}" for k, v in {"csrf": csrf, **form()}.items())
    sent = {"Origin": origin(page.url), "Content-Type": "application/x-www-form-urlencoded", **headers}
    answer = httpx2.post(page.url, content=body.encode(), headers=sent, timeout=10)
    assert answer.status_code == 403, why
    assert not config_file(isolated_env).exists()


def test_a_post_without_origin_a_wrong_csrf_token_or_a_field_twice_is_refused(
    pages: ApiKeyPages, isolated_env: dict[str, str]
) -> None:
    page = pages.start("en")
    csrf = csrf_of(httpx2.get(page.url, timeout=5).text)
    assert httpx2.post(page.url, data={"csrf": csrf, **form()}, timeout=10).status_code == 403  # no Origin
    assert submit_raw(page, {"csrf": "forged", **form()}).status_code == 403
    assert submit_raw(page, form()).status_code == 403  # no token at all
    twice = f"csrf={csrf}&site=global&site=eea&mode=live&api_key={AK}&secret_key={SK}&passphrase={PP}"
    assert (
        httpx2.post(
            page.url,
            content=twice.encode(),
            headers={"Origin": origin(page.url), "Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        ).status_code
        == 403
    )
    assert httpx2.get(page.url, headers={"Host": f"localhost:{urlsplit(page.url).port}"}, timeout=5).status_code == 403
    assert not config_file(isolated_env).exists()


def test_a_huge_submission_is_refused_unread(pages: ApiKeyPages, isolated_env: dict[str, str]) -> None:
    page = pages.start("en")
    answer = submit(page, form(secret_key="x" * (10 * 1024 * 1024)))
    assert answer.status_code == 413 and "far more than an API key" in answer.text
    assert not config_file(isolated_env).exists()
    current = pages.current()
    assert current is not None and current.state == "waiting"


def test_a_wrong_token_an_expired_page_and_a_replaced_page_are_gone(
    pages: ApiKeyPages, isolated_env: dict[str, str], steps: FakeClock
) -> None:
    first = pages.start("en")
    base = first.url.rsplit("/", 1)[0]
    assert httpx2.get(base + "/" + "A" * 22, timeout=5).status_code == 404
    second = pages.start("en")
    assert httpx2.get(first.url, timeout=5).status_code == 404  # replaced: the newer link is the one
    steps.now += 601
    gone = httpx2.get(second.url, timeout=5)
    assert gone.status_code == 410 and "expired" in gone.text
    assert submit_raw(second, form()).status_code == 410
    current = pages.current()
    assert current is not None and current.state == "expired"
    assert not config_file(isolated_env).exists()


def test_the_server_listens_only_while_a_page_is_open(
    pages: ApiKeyPages, monkeypatch: pytest.MonkeyPatch, isolated_env: dict[str, str]
) -> None:
    monkeypatch.setattr(api_key_page, "STOP_DELAY_SECONDS", 0.1)
    page = pages.start("en")
    port = urlsplit(page.url).port
    assert port is not None
    assert submit(page, form()).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.05)
    else:
        pytest.fail("the page's server still listens after the page was used")
    assert pages.start("en").url != page.url  # a new page starts the server again


def test_nothing_secret_is_logged_or_kept_in_the_state_directory(
    pages: ApiKeyPages, isolated_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page = pages.start("en")
    assert submit(page, form(passphrase="short")).status_code == 400
    assert submit(page, form()).status_code == 200
    # The test's own HTTP client logs the page's URL; every other logger, the server's included, must not.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx2", "httpcore2")))
    assert "API-key page used: profile okx-prod saved" in logged
    state_dir = Path(isolated_env["OKX_AUTH_MCP_STATE_DIR"])
    state = b"".join(snapshot(state_dir).values()) if state_dir.exists() else b""
    for secret in (SK, PP, AK, page.token, page.csrf):
        assert secret not in logged
        assert secret.encode() not in state


# ----- the tools -------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_the_tools_open_the_page_and_report_the_profile_never_a_secret(
    kind: str, service: AuthService, live: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    server = build_server(service)
    async with connected(service, kind, server=server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools["setup_api_key"].input_schema["properties"]) == {"lang"}
        assert set(tools["setup_api_key_status"].input_schema["properties"]) == {"lang"}
        assert data(await client.call_tool("setup_api_key_status", {"lang": "en"}))["status"] == "none"
        opened = data(await client.call_tool("setup_api_key", {"lang": "zh"}))
        assert opened["status"] == "waiting" and opened["expiresIn"] == 600
        assert opened["url"] in opened["reply"] and "不要发到对话里" in opened["reply"]
        waiting = data(await client.call_tool("setup_api_key_status", {"lang": "en"}))
        assert waiting["status"] == "waiting" and waiting["url"] == opened["url"]
        answer = await post_form(opened["url"])
        assert answer.status_code == 200, answer.text
        pre = data(await client.call_tool("preflight", {"lang": "en"}))
        assert pre["next"] == "api_key_configured" and pre["profile"] == "okx-prod"
        assert pre["api_key_setup"].startswith("API key saved as profile okx-prod")
        assert "verified: ok" in pre["reply"]
        again = data(await client.call_tool("preflight", {"lang": "en"}))
        assert "api_key_setup" not in again  # said once
        status = data(await client.call_tool("setup_api_key_status", {"lang": "en"}))
        assert (status["status"], status["profile"], status["verified"]) == ("saved", "okx-prod", "ok")
        assert status["uid"] == "44****00" and status["permissions"] == ["read_only"]
        verified = data(await client.call_tool("verify_credentials", {"lang": "en"}))
        assert verified["status"] == "ok" and verified["profile"] == "okx-prod"
        everything = str([opened, waiting, pre, again, status, verified])
        for secret in (SK, PP, AK):
            assert secret not in everything


async def post_form(url: str) -> httpx2.Response:
    """The page filled in, from the test's event loop (the MCP server in memory shares it)."""
    async with httpx2.AsyncClient(timeout=10) as http:
        csrf = csrf_of((await http.get(url)).text)
        return await http.post(url, data={"csrf": csrf, **form()}, headers={"Origin": origin(url)})


@pytest.mark.anyio
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_client_with_url_elicitation_is_asked_to_open_the_page(
    kind: str, service: AuthService, live: RunningSandbox
) -> None:
    asked: list[ElicitRequestURLParams] = []

    async def user(context: Any, params: Any) -> ElicitResult:
        assert isinstance(params, ElicitRequestURLParams)
        asked.append(params)
        return ElicitResult(action="accept")

    async with connected(service, kind, elicitation_callback=user) as client:
        opened = data(await client.call_tool("setup_api_key", {"lang": "en"}))
        (link,) = asked
        assert link.url == opened["url"] and link.message == setup_replies.open_page_request("en")
        assert opened["status"] == "waiting"
        assert httpx2.get(opened["url"], timeout=5).status_code == 200  # the retry kept the page it offered


@pytest.mark.anyio
async def test_over_stdio_a_sandbox_session_verifies_the_saved_key_at_the_sandbox_never_at_okx() -> None:
    """``serve --sandbox`` over stdio: the page works from the server process, and the key it saved is checked
    at the sandbox (which knows no such key: 50111), not sent to OKX (which would be unreachable: unchecked)."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "okx_auth_mcp", "serve", "--sandbox"], env=dict(os.environ)
    )
    async with Client(params) as client:
        opened = data(await client.call_tool("setup_api_key", {"lang": "en"}))
        answer = await post_form(opened["url"])
        assert answer.status_code == 200 and "OKX rejected it" in answer.text
        status = data(await client.call_tool("setup_api_key_status", {"lang": "en"}))
        assert (status["status"], status["verified"], status["code"]) == ("saved", "rejected", "50111")
        assert "okx-sbx-" in status["path"]  # the sandbox's own ~/.okx, never the user's
        pre = data(await client.call_tool("preflight", {"lang": "en"}))
        assert pre["next"] == "api_key_configured"


# ----- what an adversarial review found ----------------------------------------------------------------------


def test_a_new_page_waits_for_a_save_in_flight_and_its_outcome_is_still_told(
    pages: ApiKeyPages, live: RunningSandbox
) -> None:
    live.state.latency = 0.5  # OKX answers slowly: the save is in flight when the agent asks for a new page
    first = pages.start("en")
    answers: list[httpx2.Response] = []
    csrf = csrf_of(httpx2.get(first.url, timeout=5).text)
    sending = threading.Thread(target=lambda: answers.append(submit_raw(first, {"csrf": csrf, **form()})))
    sending.start()
    time.sleep(0.2)
    second = pages.start("en")
    sending.join(10)
    assert answers and answers[0].status_code == 200 and first.state == "saved"
    told = pages.report()
    assert told is first and told.saved is not None  # the key saved on the replaced page is told once
    assert pages.report() is second and second.state == "waiting"
    assert httpx2.get(second.url, timeout=5).status_code == 200  # and the new page is served


def test_a_saved_key_whose_check_cannot_run_is_saved_and_unchecked_never_not_saved(
    pages: ApiKeyPages, isolated_env: dict[str, str]
) -> None:
    write_config(isolated_env["OKX_HOME"], '[profiles.other]\ndemo = "yes"\n')  # TOML, but not a valid profile
    answer = submit(pages.start("en"), form(profile="main"))
    assert answer.status_code == 200 and "could not be asked" in answer.text, answer.text
    assert "[profiles.main]" in config_file(isolated_env).read_text()


def test_a_symlink_loop_at_the_config_file_is_a_clear_refusal(pages: ApiKeyPages, isolated_env: dict[str, str]) -> None:
    home = Path(isolated_env["OKX_HOME"])
    home.mkdir(mode=0o700)
    (home / "config.toml").symlink_to(home / "config.toml")
    answer = submit(pages.start("en"), form())
    assert answer.status_code == 409 and "symbolic link that cannot be followed" in answer.text
    assert (home / "config.toml").is_symlink()


def test_every_answer_checks_the_host_and_carries_the_headers(pages: ApiKeyPages) -> None:
    page = pages.start("en")
    slashed = httpx2.get(page.url + "/", headers={"Host": "evil.example"}, timeout=5)
    assert slashed.status_code == 403 and "location" not in slashed.headers  # no redirect to another host
    for url in (page.url + "/", page.url.rsplit("/", 2)[0] + "/elsewhere"):
        answer = httpx2.get(url, timeout=5)
        assert answer.status_code == 404 and answer.headers["content-security-policy"] == CSP
    assert httpx2.put(page.url, timeout=5).status_code == 404


def test_a_client_that_goes_away_mid_body_logs_no_error(pages: ApiKeyPages, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    page = pages.start("en")
    parts = urlsplit(page.url)
    assert parts.port is not None
    with socket.create_connection(("127.0.0.1", parts.port), timeout=5) as raw:
        raw.sendall(
            f"POST {parts.path} HTTP/1.1\r\nHost: 127.0.0.1:{parts.port}\r\nOrigin: {origin(page.url)}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf=abc".encode()
        )
    assert httpx2.get(page.url, timeout=5).status_code == 200  # served on, after the one that went away
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
