"""A PKCE login in a real browser (Chromium, :mod:`tests.browser`), end to end through the MCP tools over
Streamable HTTP: preflight, choose_site, auth_login_manual, then the sandbox's consent page approved (or
denied) as a person does it, the browser sent back to our loopback redirect and shown our landing page, and
auth_status saying what happened. At a desktop's width in English and a phone's in Chinese; nothing loaded
off loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.browser import DESKTOP, PHONE, Screen, open_page, shot
from tests.browser import chromium as chromium  # the fixture: this form tells ruff the name is used
from tests.code_flow import PUBLIC
from tests.helpers import serving_http
from tests.test_api_key_page_browser import tool

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BUTTONS = {"en": {"approve": "Approve", "deny": "Deny"}, "zh": {"approve": "授权", "deny": "拒绝"}}


@pytest.fixture
def pkce_service(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthService]:
    sandbox.state.clock = time.time
    sandbox.state.add_client(PUBLIC)
    for name, value in {
        "OKX_OAUTH_ISSUER": sandbox.url,
        "OKX_OAUTH_GRANT": "pkce",
        "OKX_OAUTH_CLIENT_ID": PUBLIC.client_id,
    }.items():
        monkeypatch.setenv(name, value)
    service = AuthService(Settings.from_env())
    yield service
    service.close()


@pytest.mark.parametrize(
    ("screen", "lang", "choice", "landed", "status"),
    [
        (DESKTOP, "en", "approve", "Logged in", "logged_in"),
        (PHONE, "zh", "approve", "登录完成", "logged_in"),
        (DESKTOP, "zh", "deny", "授权被拒绝", "not_logged_in"),
    ],
    ids=["desktop-en-approve", "phone-zh-approve", "desktop-zh-deny"],
)
def test_a_person_approves_or_denies_a_pkce_login_in_a_browser(
    chromium: Browser,
    pkce_service: AuthService,
    tmp_path: Path,
    screen: Screen,
    lang: Lang,
    choice: str,
    landed: str,
    status: str,
) -> None:
    with serving_http(build_server(pkce_service)) as url:
        pre = tool(url, "preflight", {"lang": lang})
        site = tool(url, "choose_site", {"reply": "2", "menu_ticket": pre["menu_ticket"]})
        login = tool(url, "auth_login_manual", {"site": "eea", "site_ticket": site["site_ticket"], "lang": lang})
        assert login["reply"] == texts.login_started(lang, "eea", login["verificationUri"], None, 600)
        with open_page(chromium, screen) as opened:
            page = opened.page
            page.goto(f"{login['verificationUri']}&lang={lang}")  # the consent page's language, as OKX's ?lang=
            shot(page, tmp_path, f"consent-pkce-{lang}-{screen.width}")
            button = page.get_by_role("button", name=BUTTONS[lang][choice], exact=True)
            button.tap() if screen.has_touch else button.click()
            page.get_by_role("heading", name=landed).first.wait_for()
            assert (
                page.url.startswith("http://127.0.0.1:") and ("code=" if choice == "approve" else "error=") in page.url
            )
            width = page.evaluate("document.documentElement.clientWidth")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shot(page, tmp_path, f"landing-pkce-{choice}-{screen.width}")
            if choice == "approve":
                assert page.url.split("code=")[1].split("&")[0] not in page.content()  # the code is not on the page
        state = tool(url, "auth_status", {"lang": lang})
    assert opened.blocked == []
    assert state["status"] == status
    if choice == "deny":
        assert state["reason"] == "denied"
