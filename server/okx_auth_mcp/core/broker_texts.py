"""The broker tools' texts, zh and en: the questions a key creation asks, and what each outcome says. Pure.

The questions name everything the user agrees to: the broker profile and its site, live or demo, the
sub-account, the label, the permissions, the IP allowlist, where the secret goes. No text ever holds a secret:
the key is masked, and the secret key and passphrase are named by where they are, never quoted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from okx_auth_mcp.core.broker_confirmation import KeyRequest
from okx_auth_mcp.core.sites import SITES, SiteId
from okx_auth_mcp.core.texts import Lang


def utc(ms: int) -> str:
    """``2026-12-02 09:41 UTC`` for a time OKX gave in milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ips(lang: Lang, request: KeyRequest) -> str:
    if request.ip:
        return ", ".join(request.ip)
    return "无（任何 IP 都可使用）" if lang == "zh" else "none (any IP address may use it)"


def _mode(lang: Lang, demo: bool) -> str:
    if lang == "zh":
        return "模拟盘" if demo else "实盘"
    return "demo trading" if demo else "live trading"


def question(lang: Lang, request: KeyRequest, site: SiteId, demo: bool, config_path: str) -> str:
    """The first question: the whole request, and where the secret goes."""
    site_name = f"{SITES[site].label}, {SITES[site].web_host}"
    perms = ", ".join(request.perm)
    if lang == "zh":
        text = (
            f"要用经纪商配置“{request.broker_profile}”（{site_name}，{_mode(lang, demo)}）为子账户“{request.sub_acct}”"
            f"创建一个 API Key 吗？备注：{request.label}；权限：{perms}；IP 白名单：{_ips(lang, request)}。"
        )
        if request.expires_unused(demo):
            text += "注意：有交易或提币权限却未绑定 IP 的 Key，连续 14 天未使用会被 OKX 删除。"
        if request.deliver == "page":
            text += (
                "新 Key 的 Secret Key 和 Passphrase 只会在本机的一次性页面上显示一次，不会保存，也不会出现在对话中。"
            )
        else:
            replaced = "（将替换同名配置，替换前会保留备份）" if request.replace else ""
            text += (
                f"新 Key 的 Secret Key 和 Passphrase 会直接写入 {config_path} 的配置“{request.profile}”{replaced}，"
                "不会出现在对话中。"
            )
        return text + "回复“是”（或 yes）确认创建；其他任何回复都不会创建。"
    text = (
        f'Create an API key for sub-account "{request.sub_acct}" with the broker profile "{request.broker_profile}" '
        f"({site_name}, {_mode(lang, demo)})? Label: {request.label}. Permissions: {perms}. IP allowlist: "
        f"{_ips(lang, request)}."
    )
    if request.expires_unused(demo):
        text += " Note: OKX deletes a key that can trade or withdraw and has no IP allowlist after 14 days without use."
    if request.deliver == "page":
        text += (
            " The new key's secret key and passphrase are shown once, on a one-time page on this computer; they are "
            "not stored, and never shown in this chat."
        )
    else:
        replaced = " (replacing the profile of that name; a backup is kept)" if request.replace else ""
        text += (
            f' The new secret key and passphrase go straight into {config_path} as profile "{request.profile}"'
            f"{replaced}, never into this chat."
        )
    return text + " Reply yes to create it; any other reply creates nothing."


def withdraw_question(lang: Lang, request: KeyRequest) -> str:
    """The separate question about withdrawals."""
    if lang == "zh":
        return (
            f"这个 Key 还将拥有提币（withdraw）权限：持有它的人可以把子账户“{request.sub_acct}”的资金转出 OKX。"
            "如确需允许提币，请回复“提币”（或 withdraw）；其他任何回复都不会创建这个 Key。"
        )
    return (
        f"This key would also have the withdraw permission: whoever holds it can move the funds of sub-account "
        f'"{request.sub_acct}" off OKX. To allow withdrawals, reply withdraw; any other reply creates nothing.'
    )


def not_created(lang: Lang, request: KeyRequest) -> str:
    if lang == "zh":
        return f"未创建任何 API Key（子账户“{request.sub_acct}”）。"
    return f'No API key was created for sub-account "{request.sub_acct}".'


def _what(lang: Lang, sub: str, api_key: str, perms: str, ips: str, created: str) -> str:
    if lang == "zh":
        return f"已为子账户“{sub}”创建 API Key {api_key}（权限：{perms}；IP 白名单：{ips}；创建于 {created}）。"
    return f'Created API key {api_key} for sub-account "{sub}" (permissions: {perms}; IP allowlist: {ips}; {created}).'


def saved(lang: Lang, request: KeyRequest, api_key: str, created_ms: int, path: str, backup: str | None) -> str:
    head = _what(lang, request.sub_acct, api_key, ", ".join(request.perm), _ips(lang, request), utc(created_ms))
    if lang == "zh":
        text = head + f"Secret Key 和 Passphrase 已写入 {path} 的配置“{request.profile}”（0600），从未在此显示。"
        text += f"原文件已备份为 {backup}。" if backup else ""
        return text + f"使用方式：okx --profile {request.profile} …（default_profile 未改变）。"
    text = head + (
        f' Its secret key and passphrase are in {path} as profile "{request.profile}" (0600); they were never shown '
        "here."
    )
    text += f" The file as it was is kept in {backup}." if backup else ""
    return text + f" Use it with okx --profile {request.profile} (default_profile is unchanged)."


def on_page(lang: Lang, request: KeyRequest, api_key: str, created_ms: int, url: str, minutes: int) -> str:
    head = _what(lang, request.sub_acct, api_key, ", ".join(request.perm), _ips(lang, request), utc(created_ms))
    if lang == "zh":
        return head + (
            f"请在本机打开此链接，查看一次 Secret Key 和 Passphrase：{url}（{minutes} 分钟内有效，只能显示一次）。"
            "它们没有保存在任何地方：如果链接过期仍未打开，请在 OKX 删除这个 Key 并重新创建。"
        )
    return head + (
        f" Open this link on this computer to see its secret key and passphrase once: {url} (valid {minutes} "
        "minutes, shown once). They are stored nowhere else: if the link expires unopened, delete the key on OKX and "
        "create a new one."
    )


def recovered(lang: Lang, request: KeyRequest, api_key: str, recovery: str, why: str) -> str:
    if lang == "zh":
        return (
            f"OKX 已为子账户“{request.sub_acct}”创建 API Key {api_key}，但未能保存到预定位置（{why}）。"
            f"它的 Secret Key 和 Passphrase 保存在恢复文件 {recovery}（0600，仅本机）中，从未在此显示："
            "请将其移到应在的位置，然后删除该文件。"
        )
    return (
        f'OKX created API key {api_key} for sub-account "{request.sub_acct}", but it could not be saved where it was '
        f"meant to go ({why}). Its secret key and passphrase are in the recovery file {recovery} (0600, this "
        "computer only), never shown here: move them where they belong, then delete the file."
    )
