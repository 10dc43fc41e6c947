"""What every page of the sandbox shares: the document and its one inline style sheet, the headers (a
Content-Security-Policy that allows that style sheet and nothing else, no framing, no referrer to another
origin, no caching), the language (``?lang=``, a form's ``lang``, else the browser's ``Accept-Language``;
English by default), the parts the consent and device pages both show (the facts, the scopes in words), and
how a post is read (at most 8 KiB, and from the page's own origin when the browser says where it comes from).

The pages load nothing from anywhere (no script, no font, no image) and fit a phone's width; every control is at
least 44 CSS pixels tall.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from okx_auth_mcp.core.sites import SiteId
from okx_auth_mcp.core.texts import Lang, site_choice_title
from okx_auth_mcp.sandbox.page_texts import text

MAX_FORM_BYTES = 8 * 1024
"""The largest post a page reads: a token and a choice. A larger one is refused unread."""
LANGS: tuple[Lang, ...] = ("en", "zh")
_LANG_NAMES: dict[Lang, str] = {"en": "English", "zh": "中文"}

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
background:#f2f3f5;color:#111}
header,main{max-width:34rem;margin:0 auto;padding:0 1rem}
header{display:flex;align-items:center;justify-content:space-between;gap:.5rem;min-height:3.75rem;
padding-top:.5rem;padding-bottom:.5rem}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:700}
.logo{background:#000;color:#fff;font-weight:800;letter-spacing:.06em;padding:.1rem .45rem;border-radius:.3rem}
nav{display:flex;gap:.25rem}
nav a{display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;min-width:2.75rem;
padding:0 .6rem;color:#111;border-radius:.4rem}
nav a[aria-current]{font-weight:700;text-decoration:none;background:#e2e4e8}
.card{background:#fff;border-radius:.75rem;padding:1.25rem 1rem;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:1.45rem;line-height:1.25;margin:0 0 .75rem}
h2{font-size:1rem;margin:1.25rem 0 .5rem}
p,li,dd{overflow-wrap:anywhere}
.lead{font-size:1.05rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
dt{color:#555}
dd{margin:0;font-weight:600}
.aside{display:block;font-weight:400;color:#555;font-size:.875rem}
ul.scopes{margin:0;padding:0;list-style:none}
ul.scopes li{position:relative;padding:.5rem .75rem .5rem 2.1rem;border:1px solid #dfe2e6;border-radius:.5rem;
margin-bottom:.4rem}
ul.scopes li::before{content:"\\2713";position:absolute;left:.8rem;color:#1b5e20;font-weight:700}
.cannot{position:relative;padding-left:2.1rem;margin:.6rem 0 0}
.cannot::before{content:"\\2715";position:absolute;left:.8rem;color:#b00020;font-weight:700}
.muted{color:#555;font-size:.9rem}
.code{font:700 1.6rem/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.12em;text-align:center;
background:#f2f3f5;border:1px dashed #888;border-radius:.5rem;padding:.75rem;margin:.5rem 0}
label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=text]{width:100%;font:600 1.25rem/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
letter-spacing:.08em;text-transform:uppercase;padding:.6rem .75rem;min-height:3rem;border:1px solid #777;
border-radius:.5rem}
input[aria-invalid=true]{border-color:#b00020}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.hint{color:#555;font-size:.875rem;margin:.35rem 0 0}
.alert,.done,.said{border-radius:.5rem;padding:.75rem;margin:0 0 1rem}
.alert{background:#fdecee;border:1px solid #b00020}
.done{background:#e8f5e9;border:1px solid #1b5e20}
.said{background:#f2f3f5;border:1px solid #777}
.alert p,.done p,.said p{margin:.25rem 0}
.actions{display:flex;flex-direction:column;gap:.6rem;margin-top:1.25rem}
button{font:inherit;font-weight:600;min-height:3rem;padding:.7rem 1rem;border-radius:.5rem;cursor:pointer;width:100%}
.primary{background:#000;color:#fff;border:1px solid #000}
.secondary{background:#fff;color:#111;border:1px solid #777}
a.more{display:inline-flex;align-items:center;min-height:2.75rem;color:#111}
.note{color:#555;font-size:.85rem;margin:1rem 0 2rem}
@media (min-width:30rem){.actions{flex-direction:row-reverse}.card{padding:1.5rem}}
@media (max-width:24rem){dl{grid-template-columns:1fr;gap:0}dd{margin-bottom:.5rem}}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")


def csp(form_targets: Iterable[str] = ()) -> str:
    """The pages' policy: their own style sheet (by its hash) and nothing else; forms post only to the page's own
    origin and, for the consent page, to where its answer redirects (Chromium checks a form's redirects too)."""
    targets = " ".join(["'self'", *form_targets])
    return (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {targets}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def headers(form_targets: Iterable[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp(form_targets),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def page(
    lang: Lang,
    title: str,
    body: str,
    *,
    status: int = 200,
    nav: str = "",
    form_targets: Sequence[str] = (),
) -> HTMLResponse:
    """A whole page: the brand, ``nav`` (the language links), ``body`` in a card, the sandbox's note."""
    document = (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="same-origin"><meta name="color-scheme" content="light">'
        f"<title>{html.escape(title)} · OKX</title><style>{STYLE}</style></head><body>"
        f'<header><span class="brand"><span class="logo">OKX</span>{html.escape(text(lang, "brand"))}</span>'
        f'{nav}</header><main><div class="card">{body}</div>'
        f'<p class="note">{html.escape(text(lang, "sandbox_note"))}</p></main></body></html>'
    )
    return HTMLResponse(document, status_code=status, headers=headers(form_targets))


def accepted_lang(header: str) -> Lang:
    """The first of zh and en in an ``Accept-Language`` header by its weights (``q``), else en."""
    ranked: list[tuple[float, int, Lang]] = []
    for index, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        for lang in LANGS:
            if primary == lang and weight > 0:
                ranked.append((-weight, index, lang))
    return min(ranked)[2] if ranked else "en"


def chosen_lang(request: Request, form: dict[str, str] | None = None) -> Lang:
    """The language asked for: the form's ``lang``, the query's, else the browser's."""
    for asked in ((form or {}).get("lang"), request.query_params.get("lang")):
        for lang in LANGS:
            if asked == lang:
                return lang
    return accepted_lang(request.headers.get("accept-language", ""))


def lang_nav(request: Request, lang: Lang) -> str:
    """Links to this page (its query kept) in each language, the current one marked."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    links = []
    for other in LANGS:
        href = html.escape(f"{request.url.path}?{urlencode([*query, ('lang', other)])}")
        current = ' aria-current="page"' if other == lang else ""
        hreflang = "zh-CN" if other == "zh" else "en"
        links.append(f'<a href="{href}" lang="{hreflang}" hreflang="{hreflang}"{current}>{_LANG_NAMES[other]}</a>')
    return f"<nav>{''.join(links)}</nav>"


def facts(rows: Sequence[tuple[str, str]]) -> str:
    """A list of (label, value-as-HTML) pairs."""
    return "<dl>" + "".join(f"<dt>{html.escape(label)}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"


def application(lang: Lang, title: str, client_id: str, self_named: bool) -> str:
    """The application's name as a fact's value, with its client ID (and, for a name the client gave itself,
    that no one checked it)."""
    aside = text(lang, "client_id", client_id=client_id)
    if self_named:
        aside += text(lang, "self_named")
    return f'{html.escape(title)}<span class="aside">{html.escape(aside)}</span>'


def site_fact(lang: Lang, site: SiteId) -> tuple[str, str]:
    return text(lang, "site"), html.escape(site_choice_title(site))


def scopes(lang: Lang, scope: str) -> str:
    """What the scopes let the application do, in words, and what no scope allows."""
    items = "".join(f"<li>{html.escape(text(lang, 'scope_' + name))}</li>" for name in scope.split())
    return (
        f"<h2>{html.escape(text(lang, 'can'))}</h2><ul class='scopes'>{items}</ul>"
        f"<p class='cannot'>{html.escape(text(lang, 'cannot'))}</p>"
    )


def choice_form(lang: Lang, action: str, csrf: str) -> str:
    """The form of a consent or confirmation page: its token, its language, Approve and Deny."""
    esc = html.escape
    return (
        f'<form method="post" action="{esc(action)}"><input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<input type="hidden" name="lang" value="{lang}"><div class="actions">'
        f'<button type="submit" name="action" value="approve" class="primary">{esc(text(lang, "approve"))}</button>'
        f'<button type="submit" name="action" value="deny" class="secondary">{esc(text(lang, "deny"))}</button>'
        "</div></form>"
    )


async def small_form(request: Request) -> dict[str, str] | None:
    """The post's fields (the first of each name), or None for one larger than :data:`MAX_FORM_BYTES`."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


def from_own_page(request: Request) -> bool:
    """False when the browser says the post comes from another origin (``Origin``; ``null`` included). A post
    without an ``Origin`` (curl, a script) is judged by its CSRF token alone."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"
