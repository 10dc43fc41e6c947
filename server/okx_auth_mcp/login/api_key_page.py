"""``setup_api_key``'s one-time page, served by the MCP server's own process on 127.0.0.1: where a person types an
API key into their browser, and it goes from there into OKX's config file (``login.api_key_setup``), never
through the chat.

A page is ``http://127.0.0.1:<random port>/setup/<token>``: the token is 128 random bits, the page lives
:data:`PAGE_TTL_SECONDS` and takes one successful submission; a new page replaces the one before (its link
then answers "unknown"). The server listens only while a page is open. Every request must name exactly this
server as ``Host`` (DNS rebinding), and a submission must come from the page itself: ``Origin`` this server,
and the CSRF token the page was served with. A submission is read up to :data:`MAX_FORM_BYTES`, never more.
What the agent learns afterwards (:meth:`ApiKeyPages.status`) names the profile and what OKX said, never a
secret; nothing here logs a value of the form.

::

    ApiKeyPages.start(lang) → Page (link)      one at a time; the server starts with it
    GET  /setup/<token>     → the form          (or gone: unknown, expired, used)
    POST /setup/<token>     → checked: Host, Origin, CSRF, size, the form's values; then saved and verified
                            → the outcome page; the page is used; the server stops a moment later
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp

from okx_auth_mcp.core import api_key_page as page_html
from okx_auth_mcp.core.api_key_page import GoneReason, Outcome, Refused
from okx_auth_mcp.core.api_keys import KeyRejected, Verified
from okx_auth_mcp.core.okx_codes import describe_okx_code
from okx_auth_mcp.core.okx_config_edit import ProfileExists
from okx_auth_mcp.core.okx_profiles import ConfigError
from okx_auth_mcp.core.texts import Lang, expires_in_minutes
from okx_auth_mcp.edges.loopback import LOOPBACK
from okx_auth_mcp.edges.okx_api import OkxApi
from okx_auth_mcp.edges.okx_config import config_path
from okx_auth_mcp.login.api_key_setup import Saved, save_and_verify
from okx_auth_mcp.login.one_time_page import HEADERS, OnDemandServer, page_app, posted_form
from okx_auth_mcp.login.refusals import terminal_line
from okx_auth_mcp.login.service import AuthService

log = logging.getLogger(__name__)

PAGE_TTL_SECONDS = 600
PATH_PREFIX = "/setup/"
STOP_DELAY_SECONDS = 2.0
"""How long the server stays up after the page was used: the outcome page is sent first."""
PageState = Literal["waiting", "saved", "expired", "replaced"]


@dataclass
class Page:
    """One page: its link, its secrets (the path token and the CSRF token, never shown to the agent but in the
    link), and what became of it."""

    lang: Lang
    url: str = field(repr=False)
    token: str = field(repr=False)
    csrf: str = field(repr=False)
    expires_at: float
    elicitation_id: str = field(default_factory=lambda: f"okx-api-key-page-{secrets.token_hex(8)}")
    state: PageState = "waiting"
    saved: Saved | None = None
    reported: bool = False
    """Whether an agent was told the outcome (preflight tells it once)."""

    def seconds_left(self, now: float) -> int:
        return max(0, math.ceil(self.expires_at - now))


class ApiKeyPages:
    """The one-time pages of this process (one open at a time) and the loopback server that serves them."""

    def __init__(
        self,
        service: AuthService,
        api: OkxApi,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        ttl: int = PAGE_TTL_SECONDS,
    ) -> None:
        self._service = service
        self._api = api
        self._clock = clock
        self._now = monotonic
        self._ttl = ttl
        self._lock = threading.Lock()
        self._submitting = threading.Lock()
        self._page: Page | None = None
        self._saved: Page | None = None
        """The latest page that was used: its outcome is told once even after a newer page replaced it."""
        self._server = OnDemandServer(self._app, "okx-api-key-page")

    # ----- for the tools ---------------------------------------------------------------------------------

    def monotonic(self) -> float:
        """The clock pages expire by."""
        return self._now()

    def config_path(self) -> str:
        """The file a page writes."""
        return str(config_path(self._service.settings.environ))

    def start(self, lang: Lang) -> Page:
        """A new page (the one before, if any, no longer works), served from now on. It waits for a submission
        being saved to finish: a page is never replaced while its key is written and checked."""
        with self._submitting, self._lock:
            self._retire("replaced")
            base = self._server.url()
            token = secrets.token_urlsafe(16)
            page = Page(
                lang=lang,
                url=f"{base}{PATH_PREFIX}{token}",
                token=token,
                csrf=secrets.token_urlsafe(32),
                expires_at=self._now() + self._ttl,
            )
            self._page = page
            self._stop_later(self._ttl)
            log.info("API-key page opened on %s for %d s", base, self._ttl)
            return page

    def current(self) -> Page | None:
        """The latest page, with its state brought up to date (an expired one says so)."""
        with self._lock:
            page = self._page
            if page is not None and page.state == "waiting" and self._now() >= page.expires_at:
                page.state = "expired"
            return page

    def take_unreported(self) -> Page | None:
        """The latest used page when no agent was told of it yet (once), else None."""
        with self._lock:
            page = self._saved
            if page is None or page.reported:
                return None
            page.reported = True
            return page

    def report(self) -> Page | None:
        """What to tell an agent: a used page it was not told of yet (once), else the latest page."""
        return self.take_unreported() or self.current()

    def close(self) -> None:
        with self._lock:
            self._retire("replaced")
            self._server.release()

    # ----- the server ------------------------------------------------------------------------------------

    def _retire(self, state: PageState) -> None:
        if self._page is not None and self._page.state == "waiting":
            self._page.state = state

    def _stop_later(self, seconds: float) -> None:
        self._server.check_in(seconds, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        with self._lock:
            if self._page is not None and self._page.state == "waiting" and self._now() < self._page.expires_at:
                return  # a newer page is open
            self._retire("expired")
            self._server.release()

    def _app(self, port: int) -> ASGIApp:
        own_host = f"{LOOPBACK}:{port}"

        async def show(request: Request) -> Response:
            page, lang, gone = self._lookup(request)
            if gone is not None:
                return _gone(lang, gone)
            assert page is not None
            return self._form(page)

        async def submit(request: Request) -> Response:
            page, lang, gone = self._lookup(request)
            if gone is not None:
                return _gone(lang, gone)
            assert page is not None
            form = await posted_form(request, own_host, page.csrf)
            if form == "disconnected":
                return Response(status_code=400)
            if isinstance(form, str):
                return _gone(lang, form)
            return await anyio.to_thread.run_sync(lambda: self._save(page, form))

        return page_app(PATH_PREFIX, own_host, show, submit, lambda reason: _gone(self._lang(), reason))

    def _lang(self) -> Lang:
        page = self._page
        return page.lang if page is not None else "en"

    def _lookup(self, request: Request) -> tuple[Page | None, Lang, GoneReason | None]:
        """The page a request is for, or why there is none for it."""
        page = self.current()
        lang: Lang = page.lang if page is not None else "en"
        token = str(request.path_params.get("token", ""))
        if page is None or not hmac.compare_digest(token.encode(), page.token.encode()) or page.state == "replaced":
            return None, lang, "unknown"
        if page.state in ("saved", "expired"):
            return None, lang, "used" if page.state == "saved" else "expired"
        return page, lang, None

    def _form(self, page: Page, refused: Refused | None = None, status: int = 200) -> Response:
        minutes = expires_in_minutes(page.seconds_left(self._now()))
        body = page_html.form_page(
            page.lang, config_path=self.config_path(), csrf=page.csrf, minutes_left=minutes, refused=refused
        )
        return HTMLResponse(body, status_code=status, headers=HEADERS)

    def _save(self, page: Page, form: dict[str, str]) -> Response:
        """One submission at a time: the first that saves uses the page; one that does not fit shows the form
        again, with nothing written."""
        with self._submitting:
            with self._lock:
                if page is not self._page or page.state != "waiting" or self._now() >= page.expires_at:
                    reason: GoneReason = "used" if page.state == "saved" else "expired"
                    return _gone(page.lang, reason if page is self._page else "unknown")
            read = page_html.read_form(page.lang, form)
            if isinstance(read, Refused):
                return self._form(page, read, 400)
            try:
                saved = save_and_verify(self._service, self._api, self._clock, read.profile, replace=read.replace)
            except ProfileExists:
                return self._form(page, page_html.exists_problem(page.lang, form, read.profile.name), 409)
            except ConfigError as exc:
                log.info("API-key page: the profile could not be written (%s)", type(exc).__name__)
                return self._form(page, page_html.not_written(form, str(exc)), 409)
            with self._lock:
                page.saved, page.state, self._saved = saved, "saved", page
                self._stop_later(STOP_DELAY_SECONDS)
            log.info("API-key page used: profile %s saved", saved.profile)
            return HTMLResponse(page_html.outcome_page(page.lang, page_outcome(saved)), headers=HEADERS)


def page_outcome(saved: Saved) -> Outcome:
    """What the page (and the tools) say of a saved profile: nothing secret."""
    outcome = saved.outcome
    base = Outcome(
        "unchecked",
        profile=saved.profile,
        path=str(saved.written.path),
        backup=None if saved.written.backup is None else str(saved.written.backup),
        in_effect=saved.in_effect,
        site=saved.site,
        demo=saved.demo,
    )
    if isinstance(outcome, Verified):
        return replace(base, status="ok", uid=outcome.uid, permissions=outcome.permissions)
    if isinstance(outcome, KeyRejected):
        why = f"OKX {outcome.code}: {describe_okx_code(outcome.code)}" if outcome.code else "HTTP 401"
        return replace(base, status="rejected", code=outcome.code, why=why)
    assert saved.check_error is not None
    return replace(base, why=terminal_line(saved.check_error).removeprefix("okx-auth-mcp: "))


def _gone(lang: Lang, reason: GoneReason) -> Response:
    status = {"unknown": 404, "expired": 410, "used": 410, "forbidden": 403, "too_large": 413}[reason]
    return HTMLResponse(page_html.gone_page(lang, reason), status_code=status, headers=HEADERS)
