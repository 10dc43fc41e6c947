"""What ``setup_api_key`` and ``setup_api_key_status`` tell the user through the agent (zh, en): the page's link,
and afterwards which profile holds the key and what OKX said of it, never a secret. Pure."""

from __future__ import annotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.api_key_page import Outcome
from okx_auth_mcp.core.sites import SITES
from okx_auth_mcp.core.texts import Lang


def page_opened(lang: Lang, url: str, path: str, seconds_left: int) -> str:
    """The link, and why the secrets go there and not into the chat."""
    left = texts.expires_in_minutes(seconds_left)
    if lang == "zh":
        return (
            f"请在浏览器中打开此链接保存您的 OKX API key：\n{url}\n"
            "请在该页面输入 API key、secret key 和 passphrase，不要发到对话里：它们会从该页面直接写入本机的 "
            f"{path}。此链接只能使用一次，{left} 分钟后失效。完成后请告诉我。"
        )
    return (
        f"Open this link in your browser to save your OKX API key:\n{url}\n"
        "Type the API key, secret key and passphrase on that page, not here in the chat: they go from the page "
        f"straight into {path} on this computer. The link works once and expires in {left} minutes. Tell me when "
        "you are done."
    )


def open_page_request(lang: Lang) -> str:
    """The message of the client's own "open this link" request."""
    if lang == "zh":
        return "打开本机的 OKX API key 页面，在那里输入您的 key（不经过对话）。"
    return "Open the local OKX API-key page and enter your key there (it does not pass through the chat)."


def still_open(lang: Lang, url: str, seconds_left: int) -> str:
    left = texts.expires_in_minutes(seconds_left)
    if lang == "zh":
        return f"API key 页面仍在等待您填写：\n{url}\n还剩 {left} 分钟，尚未保存任何内容。完成后请告诉我。"
    return (
        f"The API-key page is still waiting for you:\n{url}\n{left} minutes left; nothing is saved yet. Tell me "
        "when you are done."
    )


def expired(lang: Lang) -> str:
    if lang == "zh":
        return "API key 页面已过期，未保存任何内容。如需重试，我可以打开一个新链接。"
    return "The API-key page expired and nothing was saved. I can open a new link if you want to try again."


def none_opened(lang: Lang) -> str:
    if lang == "zh":
        return "本次会话中没有打开过 API key 页面。"
    return "No API-key page was opened in this session."


def saved(lang: Lang, outcome: Outcome) -> str:
    """ "API key saved as profile NAME; verified: ok / rejected (the two options) / not checked (why)"."""
    where = outcome.path
    if outcome.status == "ok":
        site = SITES[outcome.site].label
        perms = ", ".join(outcome.permissions) or "-"
        if lang == "zh":
            demo = "，模拟盘" if outcome.demo else ""
            head = (
                f"API key 已保存为 profile {outcome.profile}（{where}）；验证：通过（站点 {site}，UID {outcome.uid}，"
                f"权限 {perms}{demo}）。"
            )
        else:
            demo = ", demo trading" if outcome.demo else ""
            head = (
                f"API key saved as profile {outcome.profile} ({where}); verified: ok (site {site}, UID {outcome.uid}, "
                f"permissions {perms}{demo})."
            )
    elif outcome.status == "rejected":
        if lang == "zh":
            head = f"API key 已保存为 profile {outcome.profile}（{where}）；验证：OKX 拒绝。\n"
        else:
            head = f"API key saved as profile {outcome.profile} ({where}); verified: rejected by OKX.\n"
        head += texts.api_key_rejected(lang, outcome.profile, outcome.site, outcome.code)
    elif lang == "zh":
        head = f"API key 已保存为 profile {outcome.profile}（{where}）；验证：未能完成（{outcome.why}）。稍后可再验证。"
    else:
        head = (
            f"API key saved as profile {outcome.profile} ({where}); verified: not checked ({outcome.why}). It can "
            "be checked later."
        )
    if not outcome.in_effect:
        head += (
            "\n注意：环境变量中的 API key（OKX_API_KEY）对 OKX 的工具仍然优先。"
            if lang == "zh"
            else "\nNote: an API key in the environment (OKX_API_KEY) still comes first for OKX's tools."
        )
    return head
