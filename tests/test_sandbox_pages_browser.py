"""The sandbox's consent page and device pages in a real browser (Chromium, see :mod:`tests.browser`), as a user
meets them: at a desktop's width and a phone's, in English and in Chinese (the browser's ``Accept-Language``),
approving and denying. Each page loads nothing from off loopback, fits the phone's width without scrolling
sideways, and has no control smaller than 44 x 44 CSS pixels. The consent page's answer reaches the app's
loopback redirect (its CSP lets the form redirect there) and the code works at the token endpoint.

``OKX_AUTH_MCP_SHOTS=<dir>`` keeps the screenshots there (``sandbox-*.png``); otherwise they go to tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from okx_auth_mcp.edges.loopback import BackgroundServer
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.browser import DESKTOP, PHONE, Screen, open_page, shot
from tests.browser import chromium as chromium  # the fixture: this form tells ruff the name is used
from tests.code_flow import PUBLIC, authorize_url, device_authorization, exchange, pkce

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

ACCEPT = {"en": "en-US,en;q=0.9", "zh": "zh-CN,zh;q=0.9,en;q=0.5"}
WORDS = {
    "en": {"approve": "Approve", "deny": "Deny", "continue": "Continue", "code": "Code"},
    "zh": {"approve": "授权", "deny": "拒绝", "continue": "继续", "code": "验证码"},
}
CASES = [(DESKTOP, "en"), (PHONE, "zh"), (PHONE, "en"), (DESKTOP, "zh")]
"""Each page at both widths in both languages; the first two approve, the last two deny."""
IDS = ["desktop-en-approve", "phone-zh-approve", "phone-en-deny", "desktop-zh-deny"]


class Callback:
    """The app's loopback redirect: it records each query it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

    def app(self, _port: int) -> Starlette:
        async def callback(request: Request) -> HTMLResponse:
            self.received.append(dict(request.query_params))
            return HTMLResponse("<!doctype html><title>Acme Pocket</title><p>Back at Acme Pocket.</p>")

        return Starlette(routes=[Route("/callback", callback)])


@pytest.fixture
def callback() -> Iterator[tuple[Callback, str]]:
    """The redirect's recorder and its URI (PUBLIC's registered one, at this server's port)."""
    recorder = Callback()
    with BackgroundServer(recorder.app, name="app-callback") as server:
        yield recorder, f"{server.url}/callback"


def name(screen: Screen) -> str:
    return "phone" if screen is PHONE else "desktop"


def press(control: Locator, screen: Screen) -> None:
    """What a person does to a control: taps it on a phone, clicks it elsewhere."""
    if screen.has_touch:
        control.tap()
    else:
        control.click()


def check_layout(page: Page) -> None:
    """The page fits its width (nothing to scroll sideways), and every control is at least 44 x 44."""
    sideways = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert sideways <= 0, sideways
    small: list[Any] = page.evaluate(
        """[...document.querySelectorAll('button, a, input:not([type=hidden])')]
        .map(e => [e.textContent || e.name, e.getBoundingClientRect().width, e.getBoundingClientRect().height])
        .filter(([_, w, h]) => w < 44 || h < 44)"""
    )
    assert small == [], small


def test_a_user_approves_or_denies_an_app_on_the_consent_page(
    chromium: Browser, sandbox: RunningSandbox, callback: tuple[Callback, str], tmp_path: Path
) -> None:
    recorder, redirect = callback
    sandbox.state.add_client(PUBLIC)
    for (screen, lang), case in zip(CASES, IDS, strict=True):
        pair = pkce()
        with open_page(chromium, screen) as opened:
            page = opened.page
            page.set_extra_http_headers({"Accept-Language": ACCEPT[lang]})
            page.goto(authorize_url(sandbox.url, PUBLIC, redirect, pair))
            heading = page.get_by_role("heading", level=1)
            assert heading.inner_text() == ("Authorize Acme Pocket" if lang == "en" else "授权 Acme Pocket")
            assert page.evaluate("document.documentElement.lang") == ("en" if lang == "en" else "zh-CN")
            check_layout(page)
            shot(page, tmp_path, f"sandbox-consent-{lang}-{name(screen)}")
            choice = "approve" if case.endswith("approve") else "deny"
            press(page.get_by_role("button", name=WORDS[lang][choice], exact=True), screen)
            page.get_by_text("Back at Acme Pocket.").wait_for()
        assert opened.blocked == [], case
        back = recorder.received.pop()
        assert (back["state"], back["iss"]) == ("state-7f3a", sandbox.url), case
        if choice == "deny":
            assert back["error"] == "access_denied" and "code" not in back, case
            continue
        with httpx2.Client() as http:
            tokens = exchange(http, sandbox.url, PUBLIC, back["code"], redirect, pair.verifier)
        assert tokens.status_code == 200 and tokens.json()["scope"] == "read_only trade", case


def focused(page: Page) -> None:
    """The code field gets the focus by itself (``autofocus`` applies just after the page loads)."""
    page.wait_for_function("document.activeElement && document.activeElement.id === 'user_code'", timeout=5000)


def decision(sandbox: RunningSandbox, issued: dict[str, str]) -> str | None:
    with sandbox.state.lock:
        return sandbox.state.devices[issued["device_code"]].decision


def test_a_user_types_the_code_checks_the_request_and_approves_or_denies(
    chromium: Browser, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    for (screen, lang), case in zip(CASES, IDS, strict=True):
        issued = device_authorization(sandbox.url)
        words = WORDS[lang]
        with open_page(chromium, screen) as opened:
            page = opened.page
            page.set_extra_http_headers({"Accept-Language": ACCEPT[lang]})
            page.goto(issued["verification_uri"])
            field = page.get_by_label(words["code"], exact=True)
            focused(page)
            check_layout(page)
            shot(page, tmp_path, f"sandbox-device-code-{lang}-{name(screen)}")
            press(field, screen)
            field.press_sequentially(issued["user_code"].lower().replace("-", " "))  # as a person may type it
            press(page.get_by_role("button", name=words["continue"]), screen)
            page.locator("#shown-code").wait_for()
            assert page.locator("#shown-code").inner_text() == issued["user_code"]
            assert decision(sandbox, issued) is None  # the code alone decided nothing
            check_layout(page)
            shot(page, tmp_path, f"sandbox-device-confirm-{lang}-{name(screen)}")
            choice = "approve" if case.endswith("approve") else "deny"
            press(page.get_by_role("button", name=words[choice], exact=True), screen)
            page.locator("[role=status]").wait_for()
            check_layout(page)
            shot(
                page,
                tmp_path,
                f"sandbox-device-{'approved' if choice == 'approve' else 'denied'}-{lang}-{name(screen)}",
            )
        assert opened.blocked == [], case
        assert decision(sandbox, issued) == ("approved" if choice == "approve" else "denied"), case


def test_enter_in_the_code_field_goes_on_to_the_confirmation_and_approves_nothing(
    chromium: Browser, sandbox: RunningSandbox
) -> None:
    issued = device_authorization(sandbox.url)
    with open_page(chromium, DESKTOP) as opened:
        page = opened.page
        page.goto(issued["verification_uri"])
        focused(page)
        page.keyboard.type(issued["user_code"])
        page.keyboard.press("Enter")
        page.locator("#shown-code").wait_for()
        page.keyboard.press("Enter")  # and on the confirmation page, Enter presses nothing
        assert decision(sandbox, issued) is None
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Device approved.").wait_for()
    assert decision(sandbox, issued) == "approved"


@pytest.mark.parametrize(("screen", "lang"), [(PHONE, "zh"), (DESKTOP, "en")], ids=["phone-zh", "desktop-en"])
def test_a_wrong_code_and_a_wrong_redirect_say_so_and_the_code_page_keeps_its_form(
    chromium: Browser, sandbox: RunningSandbox, tmp_path: Path, screen: Screen, lang: str
) -> None:
    issued = device_authorization(sandbox.url)
    sandbox.state.add_client(PUBLIC)
    words = WORDS[lang]
    with open_page(chromium, screen) as opened:
        page = opened.page
        page.set_extra_http_headers({"Accept-Language": ACCEPT[lang]})
        page.goto(issued["verification_uri"])
        focused(page)
        page.keyboard.type("WXYZ-WXYZ")
        press(page.get_by_role("button", name=words["continue"]), screen)
        page.get_by_role("alert").wait_for()
        check_layout(page)
        shot(page, tmp_path, f"sandbox-device-error-{lang}-{name(screen)}")
        field = page.get_by_label(words["code"], exact=True)
        assert field.input_value() == "WXYZ-WXYZ" and field.get_attribute("aria-invalid") == "true"
        field.fill(issued["user_code"])  # the form again: the user corrects the code and goes on
        press(page.get_by_role("button", name=words["continue"]), screen)
        page.locator("#shown-code").wait_for()
        page.goto(authorize_url(sandbox.url, PUBLIC, "http://127.0.0.1:5000/elsewhere", pkce()))
        said = page.get_by_role("alert").inner_text()
        assert "53016" in said and "Invalid redirect_uri" in said and "http://127.0.0.1:5000/elsewhere" in said
        check_layout(page)
        shot(page, tmp_path, f"sandbox-consent-error-{lang}-{name(screen)}")
    assert opened.blocked == []
