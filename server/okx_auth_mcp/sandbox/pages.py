"""The sandbox's verification pages (RFC 8628 §3.3), in two steps, so that a user sees what they approve before
they approve it, and nothing is approved by a keystroke:

1. ``GET /device``: the code, in a labelled field that has the focus. Its form is a ``GET`` (it changes
   nothing), so Enter in the field only goes to step 2. The code is read as a person types it (case, spaces and
   dashes ignored, RFC 8628 §6.1); an unknown, expired or used one comes back to this page with the form again
   (HTTP 400), never a dead end.
2. ``GET /device?user_code=CODE`` (also ``verification_uri_complete``): the code again, to compare with the
   assistant's, the application's name, the site, the scopes in words, the time left, Approve and Deny in a
   ``POST /device`` form with a CSRF token that stands for this code alone, once, for ``page_ttl``.

``POST /device`` (``csrf``, ``action`` = approve or deny, ``lang``) decides and says so. A post without a valid
token (a plain ``curl -d 'user_code=...&action=approve'``), from another origin, or larger than 8 KiB decides
nothing and shows step 1 again (HTTP 403; 413). Every page is in English or Chinese (``?lang=``, else the
browser's ``Accept-Language``).
"""

from __future__ import annotations

import html
import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from okx_auth_mcp.core.texts import Lang
from okx_auth_mcp.sandbox import page_html
from okx_auth_mcp.sandbox.page_html import page
from okx_auth_mcp.sandbox.page_texts import text
from okx_auth_mcp.sandbox.state import Device, PageForm, SandboxState

DEVICE_PATH = "/device"


def _entry_page(
    request: Request, lang: Lang, *, problem: str | None = None, typed: str = "", status: int = 200
) -> Response:
    esc = html.escape
    described = "user_code-hint" + (" user_code-bad" if problem else "")
    invalid = ' aria-invalid="true"' if problem else ""
    alert = f'<div class="alert" role="alert"><p id="user_code-bad">{esc(problem)}</p></div>' if problem else ""
    body = (
        f"<h1>{esc(text(lang, 'device_title'))}</h1><p class='lead'>{esc(text(lang, 'device_lead'))}</p>{alert}"
        f'<form method="get" action="{DEVICE_PATH}" novalidate>'
        f'<label for="user_code">{esc(text(lang, "code_label"))}</label>'
        f'<input type="text" id="user_code" name="user_code" value="{esc(typed[:32])}" autofocus autocomplete="off" '
        f'autocapitalize="characters" spellcheck="false" maxlength="32" enterkeyhint="next" '
        f'aria-describedby="{described}"{invalid}>'
        f'<p class="hint" id="user_code-hint">{esc(text(lang, "code_hint"))}</p>'
        f'<input type="hidden" name="lang" value="{lang}"><div class="actions">'
        f'<button type="submit" class="primary">{esc(text(lang, "continue"))}</button></div></form>'
    )
    return page(lang, text(lang, "device_title"), body, status=status, nav=page_html.lang_nav(request, lang))


def _confirm_page(request: Request, state: SandboxState, lang: Lang, device_code: str) -> Response:
    with state.lock:
        device = state.devices[device_code]
        now = state.clock()
        csrf = state.issue_form(PageForm("device", now + state.config.page_ttl, device_code=device_code))
        client = state.clients.get(device.client_id)
        site = state.site
    name = client.title if client else device.client_id
    minutes = max(1, math.ceil((device.expires_at - now) / 60))
    esc = html.escape
    body = (
        f"<h1>{esc(text(lang, 'confirm_title'))}</h1>"
        f"<p class='lead'>{esc(text(lang, 'confirm_lead', name=name))}</p>"
        f"<p class='code' id='shown-code'>{esc(device.user_code)}</p>"
        f"<p class='muted'>{esc(text(lang, 'confirm_code'))}</p>"
        + page_html.facts(
            [
                (
                    text(lang, "application"),
                    page_html.application(lang, name, device.client_id, client is None or client.self_registered),
                ),
                page_html.site_fact(lang, site),
                (text(lang, "expires"), esc(text(lang, "in_minutes", minutes=minutes))),
            ]
        )
        + page_html.scopes(lang, device.scope)
        + page_html.choice_form(lang, DEVICE_PATH, csrf)
        + f'<p><a class="more" href="{DEVICE_PATH}?lang={lang}">{esc(text(lang, "other_code"))}</a></p>'
    )
    return page(lang, text(lang, "confirm_title"), body, nav=page_html.lang_nav(request, lang))


def _decided_page(state: SandboxState, lang: Lang, device: Device, approved: bool) -> Response:
    with state.lock:
        client = state.clients.get(device.client_id)
    name = client.title if client else device.client_id
    title = text(lang, "approved_title" if approved else "denied_title")
    said = text(lang, "approved" if approved else "denied", name=name)
    box = "done" if approved else "said"
    body = f"<h1>{html.escape(title)}</h1><div class='{box}' role='status'><p>{html.escape(said)}</p></div>"
    return page(lang, title, body)


def routes(state: SandboxState) -> list[Route]:
    async def device_page(request: Request) -> Response:
        lang = page_html.chosen_lang(request)
        typed = request.query_params.get("user_code")
        if typed is None:
            return _entry_page(request, lang)
        if not typed.strip():
            return _entry_page(request, lang, problem=text(lang, "code_missing"), status=400)
        with state.lock:
            device_code = state.undecided_device(typed)
        if device_code is None:
            return _entry_page(request, lang, problem=text(lang, "code_unknown"), typed=typed, status=400)
        return _confirm_page(request, state, lang, device_code)

    async def device_submit(request: Request) -> Response:
        form = await page_html.small_form(request)
        lang = page_html.chosen_lang(request, form)
        if form is None:
            return _entry_page(request, lang, problem=text(lang, "too_large"), status=413)
        action = form.get("action")
        if action not in ("approve", "deny") or not page_html.from_own_page(request):
            return _entry_page(request, lang, problem=text(lang, "device_gone"), status=403)
        with state.lock:
            taken = state.take_form(form.get("csrf", ""), "device")
            if taken is None:
                return _entry_page(request, lang, problem=text(lang, "device_gone"), status=403)
            decided = state.decide_device(taken.device_code, action == "approve")
            device = state.devices[taken.device_code]
        if not decided:
            return _entry_page(request, lang, problem=text(lang, "code_unknown"), status=400)
        return _decided_page(state, lang, device, action == "approve")

    return [
        Route(DEVICE_PATH, device_page, methods=["GET"]),
        Route(DEVICE_PATH, device_submit, methods=["POST"]),
    ]
