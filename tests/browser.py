"""A real browser for the tests of our web pages: Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run``
installs it and sets :data:`CHROMIUM_VARIABLE`) driven by Playwright's sync API, headless, offline.

A test module imports the fixture as ``from tests.browser import chromium as chromium`` (the redundant alias
tells ruff the import is meant: a plain one reads as unused, and each parameter as its redefinition), then::

    def test_the_page(chromium: Browser, sandbox: RunningSandbox) -> None:
        with open_page(chromium, PHONE) as opened:
            opened.page.goto(sandbox.url + "/device")
            ...
        assert opened.blocked == []

Rules the fixture keeps for every test that uses it:

- Keep browser tests synchronous (no ``async def``, no anyio fixture): Playwright's sync API refuses to start
  inside a running event loop, and while it is started it marks this thread's loop as running, so an asyncio
  test run meanwhile would fail. That is why :func:`chromium` is module-scoped, not session-scoped: Playwright
  stops when the browser tests' module ends, before any other module's tests run. The servers under test run
  in background threads (``RunningSandbox``, ``BackgroundServer``).
- No page reaches the internet: every request (and WebSocket) whose host is not 127.0.0.1, localhost or [::1]
  is aborted and recorded in :attr:`OpenedPage.blocked`, for the test to assert that our pages load nothing
  from elsewhere; and the browser's resolver knows no name but localhost, for what no route sees (the browser's
  own background requests, preconnects).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.helpers import require_component

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route, WebSocketRoute

CHROMIUM_VARIABLE = "OKX_AUTH_MCP_CHROMIUM"
"""Set by ``.ci/run``: the Chromium executable (else ``chromium`` on the PATH)."""
SHOTS_VARIABLE = "OKX_AUTH_MCP_SHOTS"
"""A directory where the browser tests keep their screenshots, for a person to look at (else tmp_path)."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""The only hosts a page may reach (``urlsplit`` gives ``[::1]`` as ``::1``)."""

RESOLVE_LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE ::1"
"""Chromium's resolver fails every host but these (it maps IP literals too, hence both addresses)."""


@dataclass(frozen=True)
class Screen:
    """A window a page opens in: its size in CSS pixels, and whether it acts as a phone."""

    width: int
    height: int
    is_mobile: bool = False
    has_touch: bool = False
    device_scale_factor: float = 1


DESKTOP = Screen(1280, 800)
PHONE = Screen(390, 844, is_mobile=True, has_touch=True, device_scale_factor=3)
"""A current phone held upright (390 x 844 CSS pixels at three device pixels each, touch, a mobile viewport)."""


@dataclass
class OpenedPage:
    page: Page
    blocked: list[str] = field(default_factory=list)
    """Every URL off loopback that the page tried to load (each was aborted), in order."""


def chromium_path() -> str | None:
    """``$OKX_AUTH_MCP_CHROMIUM``, else ``chromium`` on the PATH, else ``None``."""
    return os.environ.get(CHROMIUM_VARIABLE) or shutil.which("chromium")


@contextlib.contextmanager
def launched_chromium(home: Path) -> Iterator[Browser]:
    """A headless Chromium until the block ends, with ``home`` as its HOME (its profile is Playwright's own
    temporary one). Skips the calling test without Chromium or Playwright (fails in CI)."""
    executable = chromium_path()
    require_component(
        executable and os.access(executable, os.X_OK), f"Chromium (${CHROMIUM_VARIABLE}, or apt-get install chromium)"
    )
    require_component(
        importlib.util.find_spec("playwright"),
        "Playwright (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 pip install -e '.[test]')",
    )
    from playwright.sync_api import sync_playwright

    assert executable is not None
    home.mkdir(parents=True, exist_ok=True)
    env: dict[str, str | float | bool] = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    with sync_playwright() as playwright:
        # chromium_sandbox=False makes Playwright pass --no-sandbox, which Chromium needs to start as root (CI
        # runs as root); the pages it opens are our own, on loopback.
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            chromium_sandbox=False,
            args=[RESOLVE_LOOPBACK_ONLY],
            env=env,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A headless Chromium shared by the tests of one module (see the module's docstring for why not more)."""
    with launched_chromium(tmp_path_factory.mktemp("chromium-home")) as browser:
        yield browser


def shot(page: Page, tmp_path: Path, name: str) -> Path:
    """A screenshot of the whole page as ``name``.png, in ``$OKX_AUTH_MCP_SHOTS`` (for a person to look at)
    or else in ``tmp_path``."""
    where = Path(os.environ.get(SHOTS_VARIABLE) or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def on_loopback(url: str) -> bool:
    return urlsplit(url).hostname in LOOPBACK_HOSTS


@contextlib.contextmanager
def open_page(browser: Browser, screen: Screen = DESKTOP) -> Iterator[OpenedPage]:
    """A new page of its own (a fresh context: no cookies, no storage) on ``screen``, which reaches loopback only:
    every other request is aborted and its URL added to ``blocked``. Closed when the block ends."""
    context = browser.new_context(
        viewport={"width": screen.width, "height": screen.height},
        is_mobile=screen.is_mobile,
        has_touch=screen.has_touch,
        device_scale_factor=screen.device_scale_factor,
        service_workers="block",  # what a service worker fetched would pass by the routes
    )
    opened = OpenedPage(context.new_page())

    def request(route: Route) -> None:
        if on_loopback(route.request.url):
            route.continue_()
        else:
            opened.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def web_socket(socket: WebSocketRoute) -> None:
        if on_loopback(socket.url):
            socket.connect_to_server()
        else:
            opened.blocked.append(socket.url)
            socket.close()

    context.route("**/*", request)
    context.route_web_socket("**/*", web_socket)
    try:
        yield opened
    finally:
        context.close()
