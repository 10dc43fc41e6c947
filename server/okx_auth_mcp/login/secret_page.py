"""One-time pages, served by the MCP server's own process on 127.0.0.1, that show a new API key's secret key and
passphrase to the person once, never through the chat: the agent only ever sees the link.

An offer is ``http://127.0.0.1:<random port>/reveal/<token>``: the token is 128 random bits, and several offers
may be open at once, each its own. ``GET`` never shows a secret (a link previewer, a prefetch or a reload of
history must neither see nor spend them): it shows the heading, the facts that are not secret and one button.
The button posts the page's form, checked as ``login.api_key_page`` checks its own: exactly this server as
``Host`` on every request (DNS rebinding), ``Origin`` this server, a form, the CSRF token the page was served
with, at most :data:`~okx_auth_mcp.core.api_key_page.MAX_FORM_BYTES`. The first post that passes gets the
secrets, and at that moment this process drops them; every later request says they were shown. An offer not
revealed within its time expires, and its secrets are dropped too. The server listens only while an offer
waits. Nothing here logs a secret, a token or a link.

::

    SecretPages.offer(lang, shown) → Offer (id, link)   the server starts with the first one open
    GET  /reveal/<token>   → heading, facts, warning, the button     (or gone: unknown, expired, shown)
    POST /reveal/<token>   → checked: Host, Origin, form, size, CSRF; then the secrets, once
    SecretPages.status(id) → waiting, shown, expired or unknown
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp

from okx_auth_mcp.core import secret_page as page_html
from okx_auth_mcp.core.secret_page import GoneReason, Shown
from okx_auth_mcp.core.texts import Lang, expires_in_minutes
from okx_auth_mcp.edges.loopback import LOOPBACK
from okx_auth_mcp.login.one_time_page import HEADERS, OnDemandServer, page_app, posted_form

__all__ = ["Offer", "OfferStatus", "SecretPages", "Shown"]

log = logging.getLogger(__name__)

TTL_SECONDS = 600.0
PATH_PREFIX = "/reveal/"
STOP_DELAY_SECONDS = 2.0
"""How long the server stays up after the last offer was revealed: the page with the secrets is sent first."""

OfferStatus = Literal["waiting", "shown", "expired", "unknown"]


@dataclass(frozen=True)
class Offer:
    """An open page, for the caller: its id (for :meth:`SecretPages.status`), its link, and the time (on the
    pages' clock) it expires at."""

    id: str
    url: str = field(repr=False)
    expires_at: float


@dataclass
class _Open:
    """An offer as the server keeps it: its tokens, what it shows (the secrets until shown or expired)."""

    offer: Offer
    lang: Lang
    token: str = field(repr=False)
    csrf: str = field(repr=False)
    shown: Shown
    state: Literal["waiting", "shown", "expired"] = "waiting"

    def end(self, state: Literal["shown", "expired"]) -> None:
        self.state, self.shown = state, self.shown.without_secrets()


class SecretPages:
    """The one-time secret pages of this process and the loopback server that serves them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, ttl: float = TTL_SECONDS) -> None:
        self._now = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._by_token: dict[str, _Open] = {}
        self._by_id: dict[str, _Open] = {}
        self._server = OnDemandServer(self._app, "okx-secret-page")
        self._lang: Lang = "en"

    def now(self) -> float:
        """The pages' clock, which :attr:`Offer.expires_at` is on."""
        return self._now()

    def offer(self, lang: Lang, shown: Shown) -> Offer:
        """A new page showing ``shown``, served from now on (the server starts if it is not running)."""
        if not shown.secrets:
            raise ValueError("a secret page needs a secret to show")
        with self._lock:
            base = self._server.url()
            token = secrets.token_urlsafe(16)
            offer = Offer(
                id=f"okx-secret-page-{secrets.token_hex(8)}",
                url=f"{base}{PATH_PREFIX}{token}",
                expires_at=self._now() + self._ttl,
            )
            opened = _Open(offer, lang, token, secrets.token_urlsafe(32), shown)
            self._by_token[token], self._by_id[offer.id], self._lang = opened, opened, lang
            self._schedule()
            log.info("secret page %s opened on %s for %d s", offer.id, base, self._ttl)
            return offer

    def status(self, offer_id: str) -> OfferStatus:
        with self._lock:
            self._expire_due()
            opened = self._by_id.get(offer_id)
            return "unknown" if opened is None else opened.state

    def close(self) -> None:
        """Every secret dropped (an offer that waited is expired), and the server stopped."""
        with self._lock:
            for opened in self._by_token.values():
                if opened.state == "waiting":
                    opened.end("expired")
            server = self._server.detach()
        if server is not None:
            server.stop()

    # ----- keeping time ----------------------------------------------------------------------------------

    def _expire_due(self) -> None:
        now = self._now()
        for opened in self._by_token.values():
            if opened.state == "waiting" and now >= opened.offer.expires_at:
                opened.end("expired")
                log.info("secret page %s expired: its secrets are dropped", opened.offer.id)

    def _schedule(self) -> None:
        """The next tick: when the first waiting offer expires, or (none waiting) the server's stop."""
        waiting = [o.offer.expires_at for o in self._by_token.values() if o.state == "waiting"]
        delay = max(0.05, min(waiting) - self._now()) if waiting else STOP_DELAY_SECONDS
        self._server.check_in(delay, self._tick)

    def _tick(self) -> None:
        with self._lock:
            self._expire_due()
            if any(o.state == "waiting" for o in self._by_token.values()):
                self._schedule()
                return
            server = self._server.detach()
        if server is not None:
            server.stop()

    # ----- the server ------------------------------------------------------------------------------------

    def _lookup(self, request: Request) -> tuple[_Open | None, Lang, GoneReason | None]:
        """The offer a request is for, or why there is none for it."""
        token = str(request.path_params.get("token", "")).encode()
        with self._lock:
            self._expire_due()
            found = None
            for key, opened in self._by_token.items():
                if hmac.compare_digest(token, key.encode()):
                    found = opened
            if found is None:
                return None, self._lang, "unknown"
            if found.state != "waiting":
                return None, found.lang, found.state
            return found, found.lang, None

    def _reveal(self, opened: _Open) -> Response:
        """The secrets, to the first post that passed the checks; dropped here as they are sent."""
        with self._lock:
            self._expire_due()
            if opened.state != "waiting":
                return _gone(opened.lang, opened.state)
            shown = opened.shown
            opened.end("shown")
            self._schedule()
        log.info("secret page %s: the secrets were shown, and are dropped", opened.offer.id)
        return HTMLResponse(page_html.revealed_page(opened.lang, shown, shown.secrets), headers=HEADERS)

    def _app(self, port: int) -> ASGIApp:
        own_host = f"{LOOPBACK}:{port}"

        async def show(request: Request) -> Response:
            opened, lang, gone = self._lookup(request)
            if opened is None:
                return _gone(lang, gone or "unknown")
            minutes = expires_in_minutes(max(0, math.ceil(opened.offer.expires_at - self._now())))
            body = page_html.offer_page(lang, opened.shown.without_secrets(), csrf=opened.csrf, minutes_left=minutes)
            return HTMLResponse(body, headers=HEADERS)

        async def reveal(request: Request) -> Response:
            opened, lang, gone = self._lookup(request)
            if opened is None:
                return _gone(lang, gone or "unknown")
            form = await posted_form(request, own_host, opened.csrf)
            if form == "disconnected":
                return Response(status_code=400)
            if isinstance(form, str):
                return _gone(lang, form)
            return self._reveal(opened)

        return page_app(PATH_PREFIX, own_host, show, reveal, lambda reason: _gone(self._lang, reason))


def _gone(lang: Lang, reason: GoneReason) -> Response:
    status = {"unknown": 404, "expired": 410, "shown": 410, "forbidden": 403, "too_large": 413}[reason]
    return HTMLResponse(page_html.gone_page(lang, reason), status_code=status, headers=HEADERS)
