"""The one-time API-key page of ``setup_api_key``, as data and HTML: its texts (zh, en), the form, what a
submission says, and the pages that answer a link that is unknown, expired or used. Pure: the server that
serves it, its tokens and its clock are ``login.api_key_page``'s.

The page asks for the site (no default), demo or live (no default), the profile name, and the three values of
an API key. It loads nothing from anywhere (one inline style sheet, no script) and works at a phone's width.
A submission that does not fit is shown again with what to fix, naming the fields, never a secret: the secret
fields come back empty, the API key too.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from okx_auth_mcp.core.api_key_page_texts import text
from okx_auth_mcp.core.okx_config_edit import InvalidProfile, NewProfile, default_profile_name
from okx_auth_mcp.core.sites import SITE_IDS, SITES, SiteId, site_id
from okx_auth_mcp.core.texts import Lang, site_choice_title

MAX_FORM_BYTES = 8 * 1024
"""The largest submission read: six short fields. A larger one is refused unread (a 10 MB field, say)."""
SECRET_FIELDS = ("api_key", "secret_key", "passphrase")
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
"""What the page may load and where it may post: nothing from anywhere, and only to itself."""


@dataclass(frozen=True)
class Submission:
    """A form that fits: the profile to write, and whether one of that name may be replaced."""

    profile: NewProfile
    replace: bool


@dataclass(frozen=True)
class Refused:
    """A form that does not fit: the problems by field, and the non-secret values to show again."""

    problems: dict[str, str]
    kept: dict[str, str] = field(default_factory=dict)
    general: str | None = None
    """A problem of no field: the file could not be written (why)."""


_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#111}
main{max-width:34rem;margin:0 auto;padding:1.25rem 1rem 2rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}
p,li{margin:.5rem 0;overflow-wrap:anywhere}
.lead{background:#fff;border-left:4px solid #111;padding:.75rem}
.muted{color:#555;font-size:.9rem}
form{background:#fff;border-radius:.5rem;padding:1rem;margin-top:1rem}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend,label.field{display:block;font-weight:600;margin-bottom:.35rem}
.choice{display:flex;align-items:center;gap:.6rem;min-height:2.75rem;padding:.25rem .5rem;border:1px solid #ccc;
border-radius:.4rem;margin-bottom:.4rem;font-weight:400}
.choice input{width:1.25rem;height:1.25rem;margin:0}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.6rem .7rem;min-height:2.75rem;
border:1px solid #999;border-radius:.4rem}
input:focus,button:focus{outline:3px solid #2563eb;outline-offset:1px}
.row{margin-bottom:1rem}
.hint{color:#555;font-size:.875rem;margin:.25rem 0 0}
.bad{color:#b00020;font-size:.9rem;margin:.25rem 0 0}
.alert{background:#fdecee;border:1px solid #b00020;border-radius:.4rem;padding:.75rem;margin:1rem 0}
.ok{background:#e8f5e9;border:1px solid #1b5e20;border-radius:.4rem;padding:.75rem;margin:1rem 0}
.warn{background:#fff8e1;border:1px solid #8a6d00;border-radius:.4rem;padding:.75rem;margin:1rem 0}
button{width:100%;font:inherit;font-weight:600;padding:.75rem;min-height:3rem;border:0;border-radius:.4rem;
background:#111;color:#fff;cursor:pointer}
code{overflow-wrap:anywhere}
"""


def document(lang: Lang, title: str, body: str, style: str = "") -> str:
    """A whole page around ``body`` in this page's style (``style``: more rules after it): ``core.secret_page``'s
    pages look like this one."""
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}{style}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def form_page(
    lang: Lang,
    *,
    config_path: str,
    csrf: str,
    minutes_left: int,
    refused: Refused | None = None,
) -> str:
    """The form, empty, or again after a submission that did not fit (its problems shown, secrets empty)."""
    problems: Mapping[str, str] = refused.problems if refused else {}
    kept: Mapping[str, str] = refused.kept if refused else {}
    esc = html.escape
    parts = [f"<h1>{esc(text(lang, 'title'))}</h1>"]
    parts.append(f'<p class="lead">{esc(text(lang, "lead", path=config_path))}</p>')
    parts.append(f'<p class="muted">{esc(text(lang, "create"))}</p>')
    if problems:
        items = "".join(f"<li>{esc(text(lang, name))}: {esc(why)}</li>" for name, why in problems.items())
        parts.append(
            f'<div class="alert" role="alert"><p>{esc(text(lang, "fix"))}</p><ul>{items}</ul>'
            f"<p>{esc(text(lang, 'retype'))}</p></div>"
        )
    elif refused is not None and refused.general:
        parts.append(
            f'<div class="alert" role="alert"><p>{esc(text(lang, "not_written", why=refused.general))}</p>'
            f"<p>{esc(text(lang, 'retype'))}</p></div>"
        )
    first_bad = next(iter(problems), None)
    parts.append('<form method="post" autocomplete="off" novalidate>')
    parts.append(f'<input type="hidden" name="csrf" value="{esc(csrf)}">')
    parts.append(
        _choices(
            lang,
            "site",
            [(site, site_choice_title(site)) for site in SITE_IDS],
            kept.get("site"),
            problems.get("site"),
            first_bad == "site",
        )
    )
    parts.append(
        _choices(
            lang,
            "mode",
            [("demo", text(lang, "demo")), ("live", text(lang, "live"))],
            kept.get("mode"),
            problems.get("mode"),
            first_bad == "mode",
        )
    )
    hints = {"profile": text(lang, "profile_hint"), "passphrase": text(lang, "passphrase_hint")}
    for name, kind in (
        ("profile", "text"),
        ("api_key", "text"),
        ("secret_key", "password"),
        ("passphrase", "password"),
    ):
        value = kept.get(name, "") if name == "profile" else ""
        parts.append(_input(lang, name, kind, value, problems.get(name), hints.get(name), first_bad == name))
    checked = " checked" if kept.get("replace") else ""
    parts.append(
        f'<div class="row"><label class="choice"><input type="checkbox" name="replace" value="yes"{checked}>'
        f"{esc(text(lang, 'replace'))}</label></div>"
    )
    parts.append(f'<button type="submit">{esc(text(lang, "submit"))}</button>')
    parts.append(f'<p class="hint">{esc(text(lang, "expires", minutes=minutes_left))}</p></form>')
    return document(lang, text(lang, "title"), "".join(parts))


def _choices(
    lang: Lang, name: str, options: Sequence[tuple[str, str]], chosen: str | None, problem: str | None, focus: bool
) -> str:
    esc = html.escape
    described = f' aria-describedby="{name}-bad"' if problem else ""
    rows = "".join(
        f'<label class="choice"><input type="radio" name="{name}" value="{esc(value)}" required'
        f"{' checked' if value == chosen else ''}{' autofocus' if focus and index == 0 else ''}>{esc(title)}</label>"
        for index, (value, title) in enumerate(options)
    )
    bad = f'<p class="bad" id="{name}-bad">{esc(problem)}</p>' if problem else ""
    return f"<fieldset{described}><legend>{esc(text(lang, name))}</legend>{rows}{bad}</fieldset>"


def _input(lang: Lang, name: str, kind: str, value: str, problem: str | None, hint: str | None, focus: bool) -> str:
    esc = html.escape
    ids = [f"{name}-hint"] if hint else []
    ids += [f"{name}-bad"] if problem else []
    described = f' aria-describedby="{" ".join(ids)}"' if ids else ""
    invalid = ' aria-invalid="true"' if problem else ""
    return (
        f'<div class="row"><label class="field" for="{name}">{esc(text(lang, name))}</label>'
        f'<input type="{kind}" id="{name}" name="{name}" value="{esc(value)}" autocomplete="off" '
        f'autocapitalize="none" spellcheck="false" maxlength="256"{described}{invalid}'
        f"{' autofocus' if focus else ''}>"
        + (f'<p class="hint" id="{name}-hint">{esc(hint)}</p>' if hint else "")
        + (f'<p class="bad" id="{name}-bad">{esc(problem)}</p>' if problem else "")
        + "</div>"
    )


def read_form(lang: Lang, form: Mapping[str, str]) -> Submission | Refused:
    """The submission's profile, or what does not fit, by field. Secret values are never kept or quoted."""
    kept = _kept(form)
    problems: dict[str, str] = {}
    site: SiteId | None = site_id(form.get("site", ""))
    if site is None:
        problems["site"] = text(lang, "choose_site")
        kept.pop("site", None)
    mode = form.get("mode", "")
    if mode not in ("demo", "live"):
        problems["mode"] = text(lang, "choose_mode")
        kept.pop("mode", None)
    for name in SECRET_FIELDS:
        if not form.get(name, ""):
            problems[name] = text(lang, "required")
    if problems or site is None:
        return Refused(problems, kept)
    name = form.get("profile", "").strip() or default_profile_name(mode == "demo")
    candidate = NewProfile(
        name,
        site,
        demo=mode == "demo",
        api_key=form["api_key"].strip(),
        secret_key=form["secret_key"].strip(),
        passphrase=form["passphrase"].strip(),
    )
    try:
        return Submission(candidate.checked(), replace=kept.get("replace") == "yes")
    except InvalidProfile as exc:
        return Refused(
            {"profile" if exc.field_name == "name" else exc.field_name: text(lang, f"bad_{exc.problem}")}, kept
        )


def _kept(form: Mapping[str, str]) -> dict[str, str]:
    """The values a refused form shows again: site, mode, profile name and the replace box; never a secret."""
    kept = {name: form[name] for name in ("site", "mode", "profile") if name in form and len(form[name]) <= 80}
    if form.get("replace") == "yes":
        kept["replace"] = "yes"
    return kept


def exists_problem(lang: Lang, form: Mapping[str, str], name: str) -> Refused:
    """The form again when the profile exists and replacing it was not ticked."""
    return Refused({"profile": text(lang, "exists", name=name)}, _kept(form))


def not_written(form: Mapping[str, str], why: str) -> Refused:
    """The form again when the file could not be written (``why``: the writer's own words)."""
    return Refused({}, _kept(form), general=why)


@dataclass(frozen=True)
class Outcome:
    """What the page says after a save: ``status`` ok, rejected or unchecked, and the details as text."""

    status: Literal["ok", "rejected", "unchecked"]
    profile: str
    path: str
    backup: str | None
    in_effect: bool
    site: SiteId
    uid: str | None = None
    permissions: tuple[str, ...] = ()
    demo: bool = False
    code: str | None = None
    """rejected: OKX's code (None for a bare HTTP 401)."""
    why: str | None = None
    """rejected: OKX's code in words; unchecked: why the check could not run."""


def outcome_page(lang: Lang, outcome: Outcome) -> str:
    esc = html.escape
    heading = text(lang, f"saved_{outcome.status}")
    box = {"ok": "ok", "rejected": "alert", "unchecked": "warn"}[outcome.status]
    lines = [text(lang, "saved_where", profile=outcome.profile, path=outcome.path)]
    if not outcome.in_effect:
        lines.append(text(lang, "saved_not_in_effect"))
    if outcome.backup:
        lines.append(text(lang, "backup", backup=outcome.backup))
    if outcome.status == "ok":
        demo = text(lang, "demo_mark") if outcome.demo else ""
        site = SITES[outcome.site].label
        lines.append(
            text(
                lang,
                "accepted",
                site=site,
                uid=outcome.uid or "-",
                permissions=", ".join(outcome.permissions) or "-",
                demo=demo,
            )
        )
    else:
        lines.append(text(lang, outcome.status, why=outcome.why or "-"))
    lines.append(text(lang, "return"))
    body = f'<h1>{esc(heading)}</h1><div class="{box}" role="status">' + "".join(
        f"<p>{esc(line)}</p>" for line in lines
    )
    return document(lang, heading, body + "</div>")


GoneReason = Literal["unknown", "expired", "used", "forbidden", "too_large"]


def gone_page(lang: Lang, reason: GoneReason, minutes: int = 10) -> str:
    """The page for a link that is unknown, expired or used, a post from elsewhere, or one far too large."""
    esc = html.escape
    title = text(lang, "gone_title")
    return document(lang, title, f"<h1>{esc(title)}</h1><p>{esc(text(lang, reason, minutes=minutes))}</p>")
