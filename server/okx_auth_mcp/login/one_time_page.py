"""What the one-time pages on 127.0.0.1 share (``setup_api_key``'s form, ``login.api_key_page``; the page that
shows a new key once, ``login.secret_page``): the loopback server that runs only while a page is open
(:class:`OnDemandServer`), their headers, the app that routes ``GET`` and ``POST`` of ``<prefix><token>`` behind
the ``Host`` check, and the reading of a posted form behind the ``Origin``, type, size and CSRF checks.

Every request names exactly the page's server as its one ``Host`` (DNS rebinding), before any route; an unknown
path or method is the page's "unknown" answer, with no slash redirect. A post must come from the page itself: its
``Origin`` exactly the server's, a URL-encoded form, at most ``MAX_FORM_BYTES`` read (no further), UTF-8, no
field twice, and the CSRF token the page was served with (compared in constant time).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from okx_auth_mcp.core.api_key_page import CSP, MAX_FORM_BYTES
from okx_auth_mcp.edges.loopback import LOOPBACK, BackgroundServer, names_host

log = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Every answer's headers. ``same-origin``, not ``no-referrer``: with ``no-referrer`` Chromium sends
``Origin: null`` on the form's post, and the post would be refused."""
FORM_TYPE = "application/x-www-form-urlencoded"
Refusal = Literal["forbidden", "too_large", "disconnected"]
"""Why a post is refused (a client that went away mid-body: ``disconnected``, a quiet 400)."""
Elsewhere = Literal["unknown", "forbidden"]
"""What the app answers before any route: another path or method, another ``Host``."""
Handler = Callable[[Request], Awaitable[Response]]


class OnDemandServer:
    """The server of a family of one-time pages on 127.0.0.1: started when a page opens (:meth:`url`), stopped when
    its owner finds no page left open (:meth:`release`, :meth:`detach`), with one timer for the owner's next look
    (:meth:`check_in`). The owner calls it under its own lock."""

    def __init__(self, make_app: Callable[[int], ASGIApp], name: str) -> None:
        self._make_app = make_app
        self._name = name
        self._server: BackgroundServer | None = None
        self._timer: threading.Timer | None = None

    def url(self) -> str:
        """The server's address, started now if it is not running."""
        if self._server is None:
            self._server = BackgroundServer(self._make_app, host=LOOPBACK, name=self._name).start()
        return self._server.url

    def check_in(self, seconds: float, tick: Callable[[], None]) -> None:
        """Call ``tick`` (from a timer thread) in ``seconds``, instead of a call still to come."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(seconds, tick)
        self._timer.daemon = True
        self._timer.start()

    def detach(self) -> BackgroundServer | None:
        """No call still to come, and the server no longer this one's: the caller stops it once outside its lock
        (a request in flight may be waiting for that lock)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        server, self._server = self._server, None
        if server is not None:
            log.info("%s: server stopped", self._name)
        return server

    def release(self) -> None:
        """:meth:`detach`, the server stopped from a thread of its own."""
        server = self.detach()
        if server is not None:
            threading.Thread(target=server.stop, name=f"{self._name}-stop", daemon=True).start()


def page_app(
    prefix: str, own_host: str, show: Handler, post: Handler, refuse: Callable[[Elsewhere], Response]
) -> ASGIApp:
    """The app of a one-time page: ``show`` answers ``GET <prefix><token>``, ``post`` its ``POST``; ``refuse``
    answers ``"unknown"`` (any other path or method) and ``"forbidden"`` (another ``Host``)."""

    async def elsewhere(request: Request, exc: Exception) -> Response:
        return refuse("unknown")

    routed = Starlette(
        routes=[Route(prefix + "{token}", show, methods=["GET"]), Route(prefix + "{token}", post, methods=["POST"])],
        exception_handlers={404: elsewhere, 405: elsewhere},
    )
    routed.router.redirect_slashes = False

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not names_host(scope, own_host):
            await refuse("forbidden")(scope, receive, send)
            return
        await routed(scope, receive, send)

    return app


async def posted_form(request: Request, own_host: str, csrf: str) -> dict[str, str] | Refusal:
    """The form posted from the page served with ``csrf``, or why it is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.headers.getlist("origin") != [f"http://{own_host}"] or kind != FORM_TYPE:
        return "forbidden"
    try:
        body = await bounded_body(request)
    except ClientDisconnect:
        return "disconnected"
    if body is None:
        return "too_large"
    form = parsed_form(body)
    if form is None or not hmac.compare_digest(form.get("csrf", "").encode(), csrf.encode()):
        return "forbidden"
    return form


async def bounded_body(request: Request) -> bytes | None:
    """The request's body, or None when it is larger than a form of these pages can be (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return body


def parsed_form(body: bytes) -> dict[str, str] | None:
    """A URL-encoded form as one value per field; None for one that is not UTF-8 or names a field twice."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict", max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None
