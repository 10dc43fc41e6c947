"""Which text an outcome of the login procedure is shown with: one place for the MCP tools and the command line.

Two audiences:

- ``agent``: an assistant relays the text to its user. These are OKX's skill templates (``core.texts``), which
  ask the user to come back and say they are done, and ask whether to retry.
- ``terminal``: a person runs ``okx-auth-mcp`` themselves. The command waits for the approval itself and there
  is nobody to tell, so the texts say what the command does and which command to run next.

Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped, Preflight, SiteChoice
from okx_auth_mcp.core.records import LoginEndReason
from okx_auth_mcp.core.sites import SITE_IDS, SiteId
from okx_auth_mcp.core.texts import Lang

Audience = Literal["agent", "terminal"]

LOGIN_COMMAND = "okx-auth-mcp login --site " + "|".join(SITE_IDS)


def preflight(lang: Lang, pre: Preflight) -> str:
    """What an agent shows after the pre-flight: the menu, the API-key notice, or the OAuth status."""
    if pre.next == "choose_site":
        return texts.SITE_MENU
    if pre.next == "api_key_configured":
        return texts.api_key_configured(pre.profile or "")
    if pre.login is not None:
        return login(lang, pre.login, "agent")
    return texts.status_reply(lang, pre.next, pre.site, pre.scopes, None)


def site_choice(choice: SiteChoice) -> str:
    if choice.profile is not None:
        return texts.api_key_configured(choice.profile)
    return texts.site_chosen(choice.site)


def login(lang: Lang, outcome: LoginSkipped | LoginPending, audience: Audience) -> str:
    if isinstance(outcome, LoginSkipped):
        return texts.api_key_configured(outcome.profile)
    if audience == "agent":
        return texts.login_started(lang, outcome.site, outcome.verification_uri, outcome.user_code, outcome.expires_in)
    return _login_waiting(lang, outcome)


def status(lang: Lang, state: AuthState, audience: Audience) -> str:
    if audience == "agent" or state.status == "logged_in":
        return texts.status_reply(lang, state.status, state.site, state.scopes, state.reason)
    if state.status == "pending":
        assert state.site is not None
        return _still_pending(lang, state.site)
    return _ended(lang, state.reason)


def logged_out(lang: Lang) -> str:
    return texts.logged_out(lang)


# ----- the terminal's own wording ----------------------------------------------------------------------------


_WAITS: dict[Lang, str] = {
    "zh": "本命令会一直等待，直到授权完成（Ctrl-C 取消）。",
    "en": "This command waits until the authorization is done (Ctrl-C cancels).",
}


def _login_waiting(lang: Lang, login: LoginPending) -> str:
    link = texts.login_link(lang, login.site, login.verification_uri, login.user_code, login.expires_in)
    return link + "\n\n" + _WAITS[lang]


def _still_pending(lang: Lang, site: SiteId) -> str:
    if lang == "zh":
        return f"授权尚未完成（站点：{site}）。请在浏览器中完成授权；okx-auth-mcp status 会再次检查。"
    return (
        f"Authorization is not complete yet (site: {site}). Finish it in your browser; okx-auth-mcp status "
        "checks again."
    )


def _ended(lang: Lang, reason: LoginEndReason | None) -> str:
    then = f"登录：{LOGIN_COMMAND}" if lang == "zh" else f" To log in: {LOGIN_COMMAND}"
    return texts.login_ended(lang, reason) + then
