"""Every text the agent must relay to the user verbatim.

Pure: no I/O. The site menu, the API-key notice, the login and logged-in templates are OKX's own skill
texts (okx-cex-auth v1.3.2) in their original full-width form; only the fields change. The texts for the
other states are ours and keep the skill's meaning: pending means "finish in the browser and tell me",
never "I will check again"; nothing quotes a token lifetime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from okx_auth_mcp.core.records import LoginEndReason
from okx_auth_mcp.core.sites import SITES, SiteId

Lang = Literal["zh", "en"]


def site_choice_title(site: SiteId) -> str:
    """A site's line in the menu, and its choice in the site form."""
    s = SITES[site]
    return f"{s.label} ({s.web_host})"


SITE_MENU = "您需要选择要连接的 OKX 站点：\n" + "\n".join(
    f"{n}) {site_choice_title(site)}" for n, site in enumerate(SITES, start=1)
)

SESSION_LENGTH_ANSWER = "Session stays active as long as you use the CLI periodically."


def api_key_configured(profile: str) -> str:
    return f"已配置 API key (profile: {profile})"


def expires_in_minutes(expires_in: int) -> int:
    """``expiresIn / 60`` as the skill shows it (600 s gives 10); never 0 for a live code."""
    return max(1, expires_in // 60)


def login_link(lang: Lang, site: SiteId, verification_uri: str, user_code: str | None, expires_in: int) -> str:
    """The login template up to its last line: where to go, the code, how long it lasts. A redirect login
    (PKCE, code) has no code to type: its text is ours, in the template's shape."""
    minutes = expires_in_minutes(expires_in)
    if user_code is None:
        if lang == "zh":
            return (
                "请在浏览器中打开下面的链接，登录 OKX 并确认授权：\n\n"
                f"站点：{site}\n链接：{verification_uri}\n（有效期 {minutes} 分钟）"
            )
        return (
            "Please open the link below in your browser, sign in to OKX and approve the access:\n\n"
            f"Site: {site}\nURL: {verification_uri}\n(Valid for {minutes} minutes)"
        )
    if lang == "zh":
        return (
            "请在浏览器中打开下面的链接并输入验证码完成授权：\n"
            "\n"
            f"站点：{site}\n"
            f"链接：{verification_uri}\n"
            f"验证码：{user_code}\n"
            f"（有效期 {minutes} 分钟）"
        )
    return (
        "Please open the link below in your browser and enter the verification code to authorize:\n"
        "\n"
        f"Site: {site}\n"
        f"URL: {verification_uri}\n"
        f"Code: {user_code}\n"
        f"(Valid for {minutes} minutes)"
    )


_COME_BACK: dict[Lang, str] = {
    "zh": "通过链接完成授权，然后告诉我。",
    "en": "Please authorise current session with access to your account, tell me when you are done.",
}


def login_started(lang: Lang, site: SiteId, verification_uri: str, user_code: str | None, expires_in: int) -> str:
    """OKX's template: the link, and the request to come back and say done."""
    return login_link(lang, site, verification_uri, user_code, expires_in) + "\n\n" + _COME_BACK[lang]


def logged_in(lang: Lang, site: SiteId, scopes: Sequence[str]) -> str:
    joined = ", ".join(scopes)
    if lang == "zh":
        return f"登录成功。\n站点：{site}\n权限：{joined}"
    return f"Login successful.\nSite: {site}\nScopes: {joined}"


def pending(lang: Lang, site: SiteId) -> str:
    if lang == "zh":
        return f"授权尚未完成（站点：{site}）。请在浏览器中完成授权，然后告诉我。"
    return f"Authorization is not complete yet (site: {site}). Please finish it in your browser, then tell me."


_ENDED: dict[Lang, dict[LoginEndReason | None, str]] = {
    "zh": {
        None: "当前未登录 OKX。",
        "expired": "验证码已过期，登录未完成。",
        "denied": "授权被拒绝，登录未完成。",
        "session_expired": "登录会话已失效，需要重新登录。",
        "failed": "授权未能完成，登录未完成。",
        "interrupted": "等待授权的程序已退出，登录未完成。",
    },
    "en": {
        None: "You are not logged in to OKX.",
        "expired": "The verification code expired before authorization was completed.",
        "denied": "The authorization was denied in the browser.",
        "session_expired": "Your OKX session has ended and you need to log in again.",
        "failed": "The authorization could not be completed.",
        "interrupted": "The program waiting for the authorization stopped before it was completed.",
    },
}
_RETRY: dict[Lang, dict[LoginEndReason | None, str]] = {
    "zh": {
        None: "",
        "expired": "需要重新登录吗？",
        "denied": "需要重新登录吗？",
        "session_expired": "需要现在重新登录吗？",
        "failed": "需要重新登录吗？",
        "interrupted": "需要重新登录吗？",
    },
    "en": {
        None: "",
        "expired": " Do you want to retry?",
        "denied": " Do you want to retry?",
        "session_expired": " Do you want to log in now?",
        "failed": " Do you want to retry?",
        "interrupted": " Do you want to retry?",
    },
}


def login_ended(lang: Lang, reason: LoginEndReason | None) -> str:
    """Why there is no session, as a statement (no question: the command line asks none)."""
    return _ENDED[lang][reason]


def not_logged_in(lang: Lang, reason: LoginEndReason | None) -> str:
    """For an agent: why there is no session, and whether the user wants to retry."""
    return login_ended(lang, reason) + _RETRY[lang][reason]


def logged_out(lang: Lang) -> str:
    if lang == "zh":
        return "已退出 OKX 登录。"
    return "You are logged out of OKX."


def site_chosen(site: SiteId) -> str:
    s = SITES[site]
    return f"已选择站点：{s.label} ({s.web_host})"


def status_reply(
    lang: Lang,
    status: Literal["logged_in", "pending", "not_logged_in"],
    site: SiteId | None,
    scopes: Sequence[str],
    reason: LoginEndReason | None,
) -> str:
    """The reply for an OAuth status; a logged-in or pending status always has its site."""
    if status == "not_logged_in":
        return not_logged_in(lang, reason)
    if site is None:
        raise ValueError(f"a {status} status without a site")
    return logged_in(lang, site, scopes) if status == "logged_in" else pending(lang, site)


# ----- texts the client shows itself (elicitation): ours, not OKX's --------------------------------------

SITE_QUESTION = "您需要选择要连接的 OKX 站点 / Choose the OKX site to connect to"
"""The message of the form that asks for the site; the form's choices are the menu's lines."""


def open_link_request(lang: Lang, site: SiteId, user_code: str | None) -> str:
    """The message of the client's own "open this link" request; the code is to be typed on that page."""
    if user_code is None:
        if lang == "zh":
            return f"打开 OKX 授权页面（站点：{site}），登录并确认授权。"
        return f"Open the OKX authorization page (site: {site}), sign in and approve the access."
    if lang == "zh":
        return f"打开 OKX 授权页面（站点：{site}），输入验证码 {user_code} 完成授权。"
    return f"Open the OKX authorization page (site: {site}) and enter the code {user_code} to authorize."


# ----- verify_credentials: ours, except the two options, which are the skill's Step 0.2.a ----------------


def api_key_rejected(lang: Lang, profile: str, site: SiteId, code: str | None) -> str:
    """OKX refused the API key itself: exactly two options, neutral, for the user to choose (Step 0.2.a), each
    naming what this server offers for it (a page of ours for a new key, a confirmed removal of the profile),
    with the terminal's command beside it. An OAuth login is not a third one: OKX's client always uses a
    configured key first and never falls back."""
    page = f"https://{SITES[site].web_host}/account/my-api"
    if lang == "zh":
        why = f"OKX 错误码 {code}" if code else "HTTP 401"
        return (
            f"OKX 拒绝了 profile {profile} 的 API key（{why}）。\n"
            "只要这个 API key 仍在配置中，OAuth 登录就解决不了问题：OKX 客户端总是优先使用 API key。请选择其一：\n"
            f"1. 更换 API key：在 {page} 创建一个新的 API key，然后在本机的一次性页面中输入它（setup_api_key；"
            "终端中：okx-auth-mcp config init），不要粘贴到对话中。\n"
            f"2. 完全改用 OAuth：先删除失效的 API key profile（经您确认后删除 profile {profile}："
            f"remove_api_key_profile；终端中：okx-auth-mcp config remove {profile}），再用 OAuth 登录。"
        )
    why = f"OKX code {code}" if code else "HTTP 401"
    return (
        f"OKX rejected the API key of profile {profile} ({why}).\n"
        "Logging in with OAuth does not help while this key is configured: OKX's client always uses the API key "
        "first. Choose one:\n"
        f"1. Replace the API key: create a new one at {page}, then enter it on a one-time page on this computer "
        "(setup_api_key; in a terminal: okx-auth-mcp config init), not in the chat.\n"
        "2. Switch entirely to OAuth: first remove the broken API-key profile (profile "
        f"{profile}, once you confirm: remove_api_key_profile; in a terminal: okx-auth-mcp config remove "
        f"{profile}), then log in with OAuth."
    )


def credentials_verified(
    lang: Lang,
    profile: str | None,
    site: SiteId,
    uid_masked: str,
    permissions: Sequence[str],
    demo: bool = False,
) -> str:
    """OKX accepted the credential: the API key of ``profile``, or (``profile`` None) the OAuth login."""
    joined = ", ".join(permissions)
    if lang == "zh":
        if profile is None:
            head = "OKX 已接受你的 OAuth 登录。"
        else:
            head = f"OKX 已接受 profile {profile} 的 API key{'（模拟盘）' if demo else ''}。"
        return f"{head}\n站点：{site}\nUID：{uid_masked}\n权限：{joined}"
    if profile is None:
        head = "OKX accepted your OAuth login."
    else:
        head = f"OKX accepted the {'demo-trading ' if demo else ''}API key of profile {profile}."
    return f"{head}\nSite: {site}\nUID: {uid_masked}\nPermissions: {joined}"


def clock_advice(lang: Lang, offset_ms: int) -> str:
    """What a clock OKX corrected for means, and the fix: OKX's own tools sign with this computer's clock."""
    seconds = f"{abs(offset_ms) / 1000:.1f}"
    if lang == "zh":
        side = "慢" if offset_ms > 0 else "快"
        return (
            f"注意：本机时钟比 OKX 服务器时间{side} {seconds} 秒。本次验证已按 OKX 的时间重新签名；OKX 自己的工具"
            "不会这样做，误差超过 30 秒时它们的签名请求会被拒绝。请开启自动对时（网络时间同步），diagnose 会列出"
            "各系统的设置方法。"
        )
    side = "behind" if offset_ms > 0 else "ahead of"
    return (
        f"Note: this computer's clock is {seconds} s {side} OKX's server time. This check signed again with OKX's "
        "time; OKX's own tools do not, and their signed requests are refused beyond 30 s. Turn on automatic time "
        "(network time sync); diagnose shows how on each system."
    )


def no_credentials(lang: Lang) -> str:
    """Neither an API key nor an OAuth login: nothing to verify."""
    if lang == "zh":
        return "未配置 OKX API key，也未登录 OKX，没有可验证的凭据。需要现在登录吗？"
    return (
        "No OKX API key is configured and you are not logged in to OKX, so there is nothing to check. "
        "Do you want to log in?"
    )


# ----- why OKX_AUTH_BACKEND=auto did not pick OKX's okx CLI (core.login_state.BackendNote): ours ----------

OKX_CLI_UPGRADE = "npm install -g @okx_ai/okx-trade-cli@latest"


def backend_note(lang: Lang, reason: str, version: str | None, code: str | None) -> str:
    """What ``auto`` found (see ``BackendNote``), and that this server's own OAuth client runs the login."""
    if lang == "zh":
        native = "因此本服务使用自己的 OAuth 客户端登录（native 后端）。"
        if reason == "okx_auth_bin_is_ours":
            return (
                "OKX_AUTH_BIN 指向 okx-auth-mcp-bin，它提供的就是本服务自己的会话：okx 的 auth 命令会回调本服务，"
                + native
            )
        if reason == "okx_cli_too_old":
            shown = f"（{version}）" if version else ""
            return f"PATH 中的 OKX okx CLI{shown}没有 `okx auth` 命令（1.3 起才有），" + native
        return f"PATH 中的 OKX okx CLI 未能应答 `okx auth status --json`（[{code}]），" + native
    native = "so this server logs in with its own OAuth client (native backend)."
    if reason == "okx_auth_bin_is_ours":
        return (
            "OKX_AUTH_BIN names okx-auth-mcp-bin, which serves this server's own session: okx's auth commands would "
            "call back into it, " + native
        )
    if reason == "okx_cli_too_old":
        shown = f" ({version})" if version else ""
        return f"OKX's okx CLI on PATH{shown} has no `okx auth` command (it has one from 1.3 on), " + native
    return f"OKX's okx CLI on PATH did not answer `okx auth status --json` ([{code}]), " + native


def backend_note_next(lang: Lang, reason: str) -> str | None:
    """What the user can do to log in through OKX's CLI instead (nothing, when OKX_AUTH_BIN names ours)."""
    if reason == "okx_auth_bin_is_ours":
        return None
    if reason == "okx_cli_too_old":
        if lang == "zh":
            return f"如需通过 OKX 的 CLI 登录，请升级它：{OKX_CLI_UPGRADE}"
        return f"To log in through OKX's CLI instead, upgrade it: {OKX_CLI_UPGRADE}"
    if lang == "zh":
        return "运行 `okx auth status --json` 查看原因。"
    return "Run `okx auth status --json` to see why."
