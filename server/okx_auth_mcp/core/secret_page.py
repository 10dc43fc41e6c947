"""The one-time page that shows a new API key's secrets to the person (never to the chat), as data and HTML:
what it shows (:class:`Shown`), the page before the button, the page with the secrets, and the pages of a link
that is unknown, expired or already shown. Pure: the server, its tokens and its clock are
``login.secret_page``'s.

Before the button: the heading, the facts that are not secret, a warning, and one button (a form posted with
its CSRF token). After it: the secrets, each a block a click selects whole, wrapping at a phone's width. The
page loads nothing from anywhere (the style sheet of ``core.api_key_page``, inline, and no script).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from okx_auth_mcp.core.api_key_page import document
from okx_auth_mcp.core.secret_page_texts import text
from okx_auth_mcp.core.texts import Lang

Labelled = tuple[tuple[dict[Lang, str], str], ...]
"""Values by their label in each language."""

GoneReason = Literal["unknown", "expired", "shown", "forbidden", "too_large"]


@dataclass(frozen=True)
class Shown:
    """What a page shows: a heading, values that are not secret (shown at once), and the secrets (shown once,
    after the person pressed the button). Plain text, escaped on the page. Its repr leaves the secrets out."""

    heading: dict[Lang, str]
    facts: Labelled = ()
    secrets: Labelled = field(default=(), repr=False)

    def without_secrets(self) -> Shown:
        return Shown(self.heading, self.facts)


_STYLE = """
dl{background:#fff;border-radius:.5rem;padding:.5rem 1rem;margin:1rem 0}
dt{font-weight:600;margin-top:.5rem}
dd{margin:.1rem 0 .5rem;overflow-wrap:anywhere}
.secret{display:block;margin:.25rem 0 .75rem;padding:.6rem .7rem;border:1px solid #999;border-radius:.4rem;
background:#f4f5f7;font:1rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;
overflow-wrap:anywhere;-webkit-user-select:all;user-select:all;cursor:text}
"""
"""More rules after ``core.api_key_page``'s: the facts, and a secret as a block that a click selects whole."""


def words(lang: Lang, by_lang: Mapping[Lang, str]) -> str:
    """``by_lang`` in ``lang``, else in the other language (a caller may give one)."""
    return by_lang.get(lang) or by_lang.get("en") or by_lang.get("zh") or ""


def _facts(lang: Lang, facts: Labelled) -> str:
    if not facts:
        return ""
    esc = html.escape
    rows = "".join(f"<dt>{esc(words(lang, label))}</dt><dd>{esc(value)}</dd>" for label, value in facts)
    return f"<dl>{rows}</dl>"


def offer_page(lang: Lang, shown: Shown, *, csrf: str, minutes_left: int) -> str:
    """The page before the button: nothing secret on it."""
    esc = html.escape
    heading = words(lang, shown.heading)
    body = (
        f"<h1>{esc(heading)}</h1>{_facts(lang, shown.facts)}"
        f'<div class="warn" role="note"><p>{esc(text(lang, "warning"))}</p>'
        f"<p>{esc(text(lang, 'prepare'))}</p></div>"
        '<form method="post" autocomplete="off">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<button type="submit">{esc(text(lang, "reveal"))}</button>'
        f'<p class="hint">{esc(text(lang, "expires", minutes=minutes_left))}</p></form>'
    )
    return document(lang, heading, body, _STYLE)


def revealed_page(lang: Lang, shown: Shown, secrets: Sequence[tuple[Mapping[Lang, str], str]]) -> str:
    """The page with the secrets (``secrets``: the ones ``shown`` had, which the server dropped from it)."""
    esc = html.escape
    heading = words(lang, shown.heading)
    rows = "".join(
        f'<dt id="secret-{n}">{esc(words(lang, label))}</dt><dd><code class="secret" id="secret-{n}-value" '
        f'aria-labelledby="secret-{n}">{esc(value)}</code></dd>'
        for n, (label, value) in enumerate(secrets)
    )
    body = (
        f"<h1>{esc(heading)}</h1>"
        f'<div class="warn" role="alert"><p>{esc(text(lang, "revealed"))}</p></div>'
        f'<dl class="secrets">{rows}</dl>{_facts(lang, shown.facts)}'
        f'<p class="muted">{esc(text(lang, "after"))}</p>'
    )
    return document(lang, heading, body, _STYLE)


def gone_page(lang: Lang, reason: GoneReason) -> str:
    """The page of a link that is unknown, expired or already shown, of a request from elsewhere, or one far
    too large: never a secret."""
    esc = html.escape
    title = text(lang, "gone_title")
    return document(lang, title, f"<h1>{esc(title)}</h1><p>{esc(text(lang, reason))}</p>", _STYLE)
