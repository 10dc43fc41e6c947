"""The sandbox's device pages in a real browser (Chromium, see :mod:`tests.browser`): a user types the code the
service gave, continues to the confirmation page, clicks or taps Approve, and the login completes; at a phone's
width too. The pages load nothing from off loopback. (How the pages look and what they refuse:
tests/test_sandbox_pages_browser.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.browser import DESKTOP, PHONE, open_page
from tests.browser import chromium as chromium  # the fixture: this form tells ruff the name is used
from tests.helpers import start_login, stored_session

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_a_user_approves_the_device_in_a_browser_and_the_login_completes(
    chromium: Browser, service: AuthService, sandbox: RunningSandbox
) -> None:
    login = start_login(service)
    with open_page(chromium, DESKTOP) as opened:
        page = opened.page
        page.goto(login.verification_uri)
        page.get_by_role("textbox").fill(str(login.user_code))
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Device approved.").wait_for()
    assert opened.blocked == []
    state = service.status()
    assert (state.status, state.site) == ("logged_in", "eea")
    session = stored_session(service)
    assert session is not None and session.site == "eea"


def test_the_device_page_renders_at_a_phone_width_and_a_tap_approves(
    chromium: Browser, service: AuthService, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    login = start_login(service)
    with open_page(chromium, PHONE) as opened:
        page = opened.page
        page.goto(login.verification_uri)
        code = page.get_by_role("textbox")
        box = code.bounding_box()
        layout_width = page.evaluate("document.documentElement.clientWidth")
        assert box is not None and box["width"] > 0 and box["height"] > 0, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= layout_width, (box, layout_width)
        shot = tmp_path / "device-phone.png"
        page.screenshot(path=shot)
        code.tap()
        page.keyboard.type(str(login.user_code))
        page.get_by_role("button", name="Continue").tap()
        page.get_by_role("button", name="Approve").tap()
        page.get_by_text("Device approved.").wait_for()
    png = shot.read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000
    assert int.from_bytes(png[16:20], "big") == PHONE.width * PHONE.device_scale_factor  # IHDR's width
    assert opened.blocked == []
    assert service.status().status == "logged_in"


def test_the_browser_aborts_and_records_every_request_off_loopback(chromium: Browser) -> None:
    with open_page(chromium) as opened:
        opened.page.set_content(
            "<link rel='stylesheet' href='http://203.0.113.7/site.css'><img src='https://okx.example.net/logo.png'>"
        )
        opened.page.evaluate("fetch('https://cdn.example.com/app.js').catch(() => null)")
    assert sorted(opened.blocked) == [
        "http://203.0.113.7/site.css",
        "https://cdn.example.com/app.js",
        "https://okx.example.net/logo.png",
    ]
