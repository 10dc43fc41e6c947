"""The sandbox's authorization endpoint, ``GET /oauth/authorize`` (the consent page) and ``POST /oauth/authorize``
(its answer): RFC 6749 §4.1 with PKCE (RFC 7636, S256 only) and RFC 9207's ``iss``.

``GET`` checks the request in this order. While the client and its redirect URI are unproven, a refusal is an
error page (HTTP 400) and never a redirect (RFC 6749 §4.1.2.1): ``client_id`` missing (OKX's 53011) or unknown
or repeated (53010); ``redirect_uri`` missing (53011) or not registered for the client (53016; RFC 8252 §7.3: a
registered ``http://127.0.0.1`` or ``http://[::1]`` URI matches at any port, see
:mod:`~okx_auth_mcp.sandbox.clients`). After that, a refusal goes back to the redirect URI (HTTP 302) with
``error``, ``error_description``, ``state`` (when there was one) and ``iss``: a repeated parameter,
``state`` missing (``invalid_request``); ``response_type`` not ``code`` (``unsupported_response_type``); ``scope``
missing or not among read_only and trade (``invalid_scope``); ``code_challenge_method`` anything but ``S256``,
``plain`` and none included, or ``code_challenge`` not 43 base64url characters (``invalid_request``);
``code_challenge`` missing, for a public client (``invalid_request``: a confidential client may send none).

A request that passes gets the consent page: the application's name, the site, where the answer goes, the
scopes in words, the expiry, Approve and Deny, and a CSRF token that stands for this request alone, once, for
``page_ttl``. The post is refused with a page (HTTP 403, no redirect) when its token is unknown, used, expired
or of another page, or when the browser says it comes from another origin. Approve redirects (HTTP 303, RFC
9700 §4.12) with ``code``, ``state`` and ``iss``; Deny with ``error=access_denied``, ``state`` and ``iss``.

Faults (``faults["authorize"]``): ``redirect_error:CODE`` answers Approve with ``error=CODE`` (53009, say)
instead of a code; ``wrong_iss`` sends another issuer as ``iss``; ``no_iss`` leaves ``iss`` out.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from okx_auth_mcp.core.texts import Lang, expires_in_minutes
from okx_auth_mcp.sandbox import page_html
from okx_auth_mcp.sandbox.clients import SandboxClient
from okx_auth_mcp.sandbox.faults import faulted
from okx_auth_mcp.sandbox.page_html import page
from okx_auth_mcp.sandbox.page_texts import text
from okx_auth_mcp.sandbox.state import SCOPES, AuthorizationRequest, PageForm, SandboxState

AUTHORIZE_PATH = "/oauth/authorize"
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
FOREIGN_ISSUER = "https://another-issuer.example"


def with_params(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` added to its query, whatever query it had kept as it was (RFC 6749 §3.1.2)."""
    joiner = "" if uri.endswith(("?", "&")) else "&" if "?" in uri else "?"
    return uri + joiner + urlencode(params)


def form_target(uri: str) -> str:
    """The CSP source a form may redirect to for ``uri``: its origin, or its scheme alone where an origin cannot
    be written as one (an IPv6 literal, a private-use scheme)."""
    parts = urlsplit(uri)
    if parts.netloc and ":" not in (parts.hostname or ""):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def _link_error(request: Request, lang: Lang, why: str, code: str, message: str) -> Response:
    esc = html.escape
    body = (
        f"<h1>{esc(text(lang, 'link_title'))}</h1><div class='alert' role='alert'><p>{esc(why)}</p>"
        f"<p>{esc(text(lang, 'okx_code', code=code, message=message))}</p></div>"
        f"<p>{esc(text(lang, 'link_nowhere'))}</p>"
    )
    return page(lang, text(lang, "link_title"), body, status=400, nav=page_html.lang_nav(request, lang))


def _unproven(request: Request, state: SandboxState, lang: Lang) -> tuple[SandboxClient, str] | Response:
    """The client and the redirect URI, or the error page for the first that does not hold."""
    query = request.query_params
    client_ids, redirects = query.getlist("client_id"), query.getlist("redirect_uri")
    if not client_ids or not client_ids[0]:
        return _link_error(request, lang, text(lang, "no_client"), "53011", "Parameter client_id cannot be empty")
    with state.lock:
        client = state.clients.get(client_ids[0]) if len(client_ids) == 1 else None
    if client is None:
        why = text(lang, "unknown_client", client_id=client_ids[0])
        return _link_error(request, lang, why, "53010", "Parameter client_id error")
    if not redirects or not redirects[0]:
        return _link_error(request, lang, text(lang, "no_redirect"), "53011", "Parameter redirect_uri cannot be empty")
    if len(redirects) != 1 or not client.redirect_allowed(redirects[0]):
        return _link_error(request, lang, text(lang, "bad_redirect", uri=redirects[0]), "53016", "Invalid redirect_uri")
    return client, redirects[0]


def _refusal(request: Request, client: SandboxClient) -> tuple[str, str] | None:
    """What is wrong with a request from a proven client (``error``, ``error_description``), or None."""
    query = request.query_params
    names = ("response_type", "scope", "state", "code_challenge", "code_challenge_method")
    repeated = [name for name in names if len(query.getlist(name)) > 1]
    if repeated:
        return "invalid_request", f"{repeated[0]} is repeated"
    if not query.get("state"):
        return "invalid_request", "state is required"
    if query.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be code"
    scope = query.get("scope", "").split()
    if not scope or any(s not in SCOPES for s in scope):
        return "invalid_scope", f"scope must be among {' '.join(SCOPES)}"
    challenge, method = query.get("code_challenge"), query.get("code_challenge_method")
    if challenge is None and method is None:
        return None if client.confidential else ("invalid_request", "a public client must send an S256 code_challenge")
    if method != "S256":
        return "invalid_request", "code_challenge_method must be S256 (plain is not supported)"
    if challenge is None or not _CHALLENGE_RE.match(challenge):
        return "invalid_request", "code_challenge must be 43 base64url characters (S256)"
    return None


def _iss(state: SandboxState, fault: str | None) -> dict[str, str]:
    if fault == "no_iss":
        return {}
    return {"iss": FOREIGN_ISSUER if fault == "wrong_iss" else state.issuer}


def _consent_page(request: Request, state: SandboxState, lang: Lang, client: SandboxClient, redirect: str) -> Response:
    query = request.query_params
    scope = " ".join(dict.fromkeys(query["scope"].split()))
    asked = AuthorizationRequest(client.client_id, redirect, scope, query["state"], query.get("code_challenge"))
    with state.lock:
        expires_at = state.clock() + state.config.page_ttl
        csrf = state.issue_form(PageForm("consent", expires_at, request=asked))
        site = state.site
    minutes = expires_in_minutes(state.config.page_ttl)
    parts = urlsplit(redirect)
    where = f"{parts.scheme}://{parts.netloc}" if parts.netloc else redirect
    title = text(lang, "consent_title", name=client.title)
    esc = html.escape
    body = (
        f"<h1>{esc(title)}</h1><p class='lead'>{esc(text(lang, 'consent_lead', name=client.title))}</p>"
        + page_html.facts(
            [
                (text(lang, "application"), page_html.application(lang, client.title, client.client_id, False)),
                page_html.site_fact(lang, site),
                (text(lang, "returns_to"), esc(where)),
                (text(lang, "expires"), esc(text(lang, "in_minutes", minutes=minutes))),
            ]
        )
        + page_html.scopes(lang, scope)
        + f"<p class='muted'>{esc(text(lang, 'consent_only_you', minutes=minutes))}</p>"
        + page_html.choice_form(lang, AUTHORIZE_PATH, csrf)
    )
    return page(lang, title, body, nav=page_html.lang_nav(request, lang), form_targets=[form_target(redirect)])


def routes(state: SandboxState) -> list[Route]:
    async def authorize(request: Request) -> Response:
        if (fault := await faulted(state, "authorize")) is not None:
            return fault
        lang = page_html.chosen_lang(request)
        proven = _unproven(request, state, lang)
        if isinstance(proven, Response):
            return proven
        client, redirect = proven
        refusal = _refusal(request, client)
        if refusal is None:
            return _consent_page(request, state, lang, client, redirect)
        answer = {"error": refusal[0], "error_description": refusal[1]}
        if len(request.query_params.getlist("state")) == 1 and request.query_params["state"]:
            answer["state"] = request.query_params["state"]
        with state.lock:
            answer |= _iss(state, state.faults.get("authorize"))
        return RedirectResponse(with_params(redirect, answer), status_code=302, headers=page_html.headers())

    async def answer(request: Request) -> Response:
        form = await page_html.small_form(request)
        lang = page_html.chosen_lang(request, form)
        if form is None:
            return page(lang, text(lang, "form_title"), f"<p>{html.escape(text(lang, 'too_large'))}</p>", status=413)
        gone = page(lang, text(lang, "form_title"), f"<p>{html.escape(text(lang, 'consent_gone'))}</p>", status=403)
        action = form.get("action")
        if action not in ("approve", "deny") or not page_html.from_own_page(request):
            return gone
        with state.lock:
            taken = state.take_form(form.get("csrf", ""), "consent")
            if taken is None or taken.request is None:
                return gone
            asked = taken.request
            fault = state.faults.get("authorize") or ""
            params: dict[str, str]
            if action == "deny":
                params = {"error": "access_denied", "error_description": "the user denied the authorization"}
            elif fault.startswith("redirect_error:"):
                params = {"error": fault.partition(":")[2], "error_description": "OKX refused the authorization"}
            else:
                params = {"code": state.issue_code(asked)}
            params |= {"state": asked.state, **_iss(state, fault)}
        return RedirectResponse(with_params(asked.redirect_uri, params), status_code=303, headers=page_html.headers())

    return [
        Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
        Route(AUTHORIZE_PATH, answer, methods=["POST"]),
    ]
