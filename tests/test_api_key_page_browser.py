"""setup_api_key's page in a real browser (Chromium, see :mod:`tests.browser`): the tool called over Streamable
HTTP, the page filled in and submitted as a person does it, the key verified by the sandbox, the profile read
back by OKX's real ``okx`` CLI, and the secrets in no tool result, log line, state file or page. At a desktop's
width and at a phone's, in English and Chinese. The page loads nothing from off loopback.

``OKX_AUTH_MCP_SHOTS=<dir>`` keeps the screenshots there (for reading them); otherwise they go to tmp_path."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from mcp.client import Client

from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.browser import DESKTOP, PHONE, Screen, open_page, shot
from tests.browser import chromium as chromium  # the fixture: this form tells ruff the name is used
from tests.helpers import data, serving_http, snapshot
from tests.test_real_okx_cli import Okx
from tests.test_real_okx_cli import okx as okx  # OKX's real CLI, offline, reading $HOME/.okx
from tests.test_real_okx_cli import real_okx as real_okx

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AK, SK, PP = "ak-browser-5f4e3d2c1b", "SK-BROWSER-SECRET-9a8b7c", "Pp-Browser-31"
UID = "44556677889900"


def tool(url: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One tool call over Streamable HTTP, from a thread of its own: Playwright's sync API holds this one's
    event loop."""
    results: list[dict[str, Any]] = []

    async def call() -> None:
        async with Client(url, mode="auto") as client:
            results.append(data(await client.call_tool(name, arguments)))

    worker = threading.Thread(target=lambda: anyio.run(call))
    worker.start()
    worker.join(60)
    assert results, f"{name} did not answer"
    return results[0]


def fill(page: Page, *, site: str, mode: str, act: Callable[[Any], None]) -> None:
    """The form filled in as a person does it: the labels clicked (or tapped), the values typed."""
    act(page.get_by_label(site))
    act(page.get_by_label(mode))
    for label, value in (("API key", AK), ("Secret key", SK), ("Passphrase", PP)):
        field = page.get_by_label(label, exact=True)
        act(field)
        field.press_sequentially(value)


@pytest.fixture
def served(okx: Okx, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthService]:
    """The MCP server over Streamable HTTP on a service whose OKX_HOME is the real CLI's ``$HOME/.okx``, and
    whose API-key requests go to the sandbox (on real time), which knows the key."""
    sandbox.state.clock = time.time
    sandbox.state.add_api_key(AK, SK, PP, uid=UID, perm="read_only")
    monkeypatch.setenv("OKX_API_BASE_URL", sandbox.url)
    service = AuthService(Settings.from_env())
    assert str(service.settings.environ["OKX_HOME"]) == str(okx.directory)
    yield service
    service.close()


@pytest.mark.parametrize(
    ("screen", "lang", "site", "mode", "saved_text"),
    [
        (DESKTOP, "en", "Global (www.okx.com)", "Live trading (real funds)", "API key saved and accepted by OKX"),
        (PHONE, "zh", "Global (www.okx.com)", "实盘（真实资金）", "API key 已保存，OKX 已接受"),
    ],
)
def test_a_person_fills_the_page_and_okx_cli_reads_the_verified_profile(
    chromium: Browser,
    served: AuthService,
    sandbox: RunningSandbox,
    okx: Okx,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    screen: Screen,
    lang: str,
    site: str,
    mode: str,
    saved_text: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="okx_auth_mcp")
    service = served
    with serving_http(build_server(service)) as url:
        started = time.perf_counter()
        opened = tool(url, "setup_api_key", {"lang": lang})
        with open_page(chromium, screen) as browser:
            page = browser.page
            page.goto(opened["url"])
            form_shot = shot(page, tmp_path, f"api-key-page-{lang}-{screen.width}")
            width = page.evaluate("document.documentElement.clientWidth")
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
            for label in ("API key", "Secret key", "Passphrase"):  # the same words in both languages
                box = page.get_by_label(label, exact=True).bounding_box()
                assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= width, (label, box)
            act: Callable[[Any], None] = (lambda e: e.tap()) if screen.has_touch else (lambda e: e.click())
            fill(page, site=site, mode=mode, act=act)
            act(page.get_by_role("button"))
            page.get_by_text(saved_text).wait_for()
            elapsed = time.perf_counter() - started
            outcome_shot = shot(page, tmp_path, f"api-key-saved-{lang}-{screen.width}")
            outcome_html = page.content()
        status = tool(url, "setup_api_key_status", {"lang": lang})
    print(f"\nsetup_api_key -> verified profile in a browser ({screen.width} px, {lang}): {elapsed * 1000:.0f} ms")
    assert browser.blocked == []
    assert form_shot.read_bytes().startswith(b"\x89PNG") and outcome_shot.stat().st_size > 1000
    assert (status["status"], status["profile"], status["verified"]) == ("saved", "okx-prod", "ok")
    assert sandbox.state.count("account") == 1
    shown = okx.run("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)["profiles"]["okx-prod"]
    assert (profile["api_key"], profile["secret_key"], profile["passphrase"]) == (AK, SK, PP)
    assert profile["site"] == "global" and profile.get("demo") is False
    logged = "\n".join(record.getMessage() for record in caplog.records)
    state = b"".join(snapshot(service.settings.state_dir).values()) if service.settings.state_dir.exists() else b""
    for secret in (SK, PP, AK):
        assert secret not in json.dumps([opened, status]) and secret not in logged and secret not in outcome_html
        assert secret.encode() not in state
