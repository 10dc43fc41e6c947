"""The one-time secret page (``login.secret_page``) in a real browser (Chromium, see :mod:`tests.browser`): the
link opened, the button pressed as a person presses it, the secrets read from the page and selected whole by a
click, nothing wider than a phone, and a reload or a second visit that never shows them again. At a desktop's
width in English and at a phone's in Chinese. The page loads nothing from off loopback.

``OKX_AUTH_MCP_SHOTS=<dir>`` keeps the screenshots there (for reading them); otherwise they go to tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.login.secret_page import SecretPages, Shown
from tests.browser import DESKTOP, PHONE, Screen, open_page, shot
from tests.browser import chromium as chromium  # the fixture: this form tells ruff the name is used

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AK = "6a1f0c2e-93b4-4d7a-8e55-0c1d2e3f4a5b"
SK = "F3A9C1E07B6D45A2" * 4  # longer than OKX's, to be sure a long value wraps at a phone's width
PP = "Pp-Browser-Reveal-77"
IPS = ",".join(f"203.0.113.{n}" for n in range(1, 21))  # one long word: it must wrap as well

LABELS = ("API key", "Secret key", "Passphrase")  # OKX's own words, in both languages
BUTTON = {"en": "Show the secrets once", "zh": "显示密钥（仅一次）"}
ALREADY = {"en": "already shown once", "zh": "已经显示过一次"}


@pytest.fixture
def pages() -> Iterator[SecretPages]:
    opened = SecretPages()
    yield opened
    opened.close()


def shown() -> Shown:
    return Shown(
        heading={"en": "API key for sub-account bot-7", "zh": "子账户 bot-7 的 API key"},
        facts=(
            ({"en": "Sub-account", "zh": "子账户"}, "bot-7"),
            ({"en": "Permissions", "zh": "权限"}, "read_only, trade"),
            ({"en": "IP addresses", "zh": "IP 地址"}, IPS),
        ),
        secrets=tuple(({"en": label, "zh": label}, value) for label, value in zip(LABELS, (AK, SK, PP), strict=True)),
    )


def fits(page: Page) -> None:
    """Nothing wider than the window: no horizontal scroll."""
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def secrets_absent(page: Page) -> None:
    html = page.content()
    for secret in (AK, SK, PP):
        assert secret not in html


@pytest.mark.parametrize(("screen", "lang"), [(DESKTOP, "en"), (PHONE, "zh")])
def test_a_person_presses_the_button_copies_the_secrets_and_a_reload_shows_them_no_more(
    chromium: Browser, pages: SecretPages, tmp_path: Path, screen: Screen, lang: Lang
) -> None:
    offer = pages.offer(lang, shown())
    act: Callable[[Any], None] = (lambda e: e.tap()) if screen.has_touch else (lambda e: e.click())
    with open_page(chromium, screen) as browser:
        page = browser.page
        page.goto(offer.url)
        assert page.evaluate("document.documentElement.lang") == ("en" if lang == "en" else "zh-CN")
        secrets_absent(page)
        fits(page)
        button = page.get_by_role("button", name=BUTTON[lang])
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44
        before_shot = shot(page, tmp_path, f"secret-page-{lang}-{screen.width}")
        assert pages.status(offer.id) == "waiting"

        act(button)
        page.get_by_role("alert").wait_for()
        values = [page.get_by_label(label, exact=True).inner_text() for label in LABELS]
        assert values == [AK, SK, PP]
        assert pages.status(offer.id) == "shown"
        fits(page)
        revealed_shot = shot(page, tmp_path, f"secret-page-revealed-{lang}-{screen.width}")
        act(page.get_by_label("Secret key", exact=True))  # one click or tap selects the whole value
        assert page.evaluate("String(window.getSelection())").strip() == SK

        page.reload()  # the post again, or the page from a cache: neither shows the secrets
        page.get_by_text(ALREADY[lang]).wait_for()
        secrets_absent(page)
        page.goto(offer.url)
        page.get_by_text(ALREADY[lang]).wait_for()
        secrets_absent(page)
        fits(page)
        page.go_back()
        secrets_absent(page)
    assert browser.blocked == []
    assert before_shot.read_bytes().startswith(b"\x89PNG") and revealed_shot.stat().st_size > 1000
