"""The texts of our questions to a person at a terminal (the site menu's prompt, ``config init``'s wizard) and
of what ``config init`` says after it wrote. Ours, not OKX's; zh and en. Pure: no I/O.

No text here ever holds a secret: a value that does not fit is named by its field, never shown.
"""

from __future__ import annotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.okx_config_edit import MAX_VALUE_LENGTH, PASSPHRASE_LENGTHS, FieldName, Problem
from okx_auth_mcp.core.replies import LOGIN_COMMAND
from okx_auth_mcp.core.sites import SITES, SiteId
from okx_auth_mcp.core.texts import Lang

ENV_SECRETS = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")
"""Where ``config init --non-interactive`` reads the key: never from an argument (shell history, ``ps``)."""
INIT_COMMAND = "okx-auth-mcp config init"
REMOVE_COMMAND = "okx-auth-mcp config remove"


def _pick(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


# ----- the questions -----------------------------------------------------------------------------------------


def site_prompt(lang: Lang) -> str:
    return _pick(lang, "请输入编号或站点：", "Your choice (number or site): ")


def mode_menu(lang: Lang) -> str:
    """Demo or live: no default (a key of the other kind is refused by OKX, 50101)."""
    return _pick(
        lang,
        "这个 API key 用于模拟盘还是实盘？\n1) 模拟盘（模拟交易，不动用真实资金）\n2) 实盘",
        "Is this API key for demo trading or live trading?\n"
        "1) Demo trading (simulated, no real funds)\n"
        "2) Live trading",
    )


def mode_prompt(lang: Lang) -> str:
    return _pick(lang, "请输入编号（1 模拟盘，2 实盘）：", "Your choice (1 demo, 2 live): ")


def parse_mode_reply(reply: str) -> bool | None:
    """True for demo, False for live, None when the reply chooses neither (Enter asks again)."""
    text = reply.strip().lower()
    if text in ("1", "１", "demo"):
        return True
    if text in ("2", "２", "live"):
        return False
    return None


def key_page(site: SiteId, demo: bool) -> str:
    """Where the key is created, as OKX's own wizard links it (the page opens demo or live API management)."""
    return f"https://{SITES[site].web_host}/account/my-api?go-{'demo' if demo else 'live'}-trading=1"


def create_key_hint(lang: Lang, site: SiteId, demo: bool) -> str:
    page = key_page(site, demo)
    if lang == "zh":
        return f"请在 {page} 创建 API Key（页面会打开{'模拟盘' if demo else '实盘'} API 管理），然后在下面输入。"
    return (
        f"Create the API key at {page} (the page opens {'demo' if demo else 'live'} trading API management), "
        "then enter it below."
    )


def profile_prompt(lang: Lang, default: str) -> str:
    return _pick(lang, f"Profile 名称（回车：{default}）：", f"Profile name (Enter: {default}): ")


def replace_question(lang: Lang, name: str) -> str:
    """Asked when the profile exists; anything but yes is no."""
    return _pick(
        lang, f"Profile {name} 已存在，是否替换？(y/N)：", f"A profile named {name} exists. Replace it? (y/N): "
    )


def is_yes(reply: str) -> bool:
    return reply.strip().lower() in ("y", "yes", "是")


def not_replaced(lang: Lang) -> str:
    return _pick(lang, "未替换。请换一个名称（Ctrl-C 退出）。", "Not replaced. Choose another name (Ctrl-C stops).")


_LABELS: dict[Lang, dict[FieldName, str]] = {
    "zh": {"name": "Profile 名称", "api_key": "API Key", "secret_key": "Secret Key", "passphrase": "Passphrase"},
    "en": {"name": "profile name", "api_key": "API key", "secret_key": "secret key", "passphrase": "passphrase"},
}


def value_prompt(lang: Lang, field_name: FieldName, hidden: bool) -> str:
    label = _LABELS[lang][field_name]
    if lang == "zh":
        return f"{label}（输入不显示）：" if hidden else f"{label}："
    label = label[0].upper() + label[1:]
    return f"{label} (hidden): " if hidden else f"{label}: "


def invalid_value(lang: Lang, field_name: FieldName, problem: Problem) -> str:
    """A typed value that does not fit, by its field: the value itself is never shown (it may be a secret)."""
    label = _LABELS[lang][field_name]
    low, high = PASSPHRASE_LENGTHS
    if lang == "zh":
        return {
            "name": "Profile 名称须为 1-80 个字母、数字、'_' 或 '-'，以字母或数字开头。",
            "reserved": "Profile 名称 env 代表 OKX 的环境变量，请换一个名称。",
            "characters": f"{label} 须为 1-{MAX_VALUE_LENGTH} 个可打印的 ASCII 字符。",
            "spaces": f"{label} 的首尾不能有空格。",
            "passphrase_length": f"Passphrase 须为 {low}-{high} 个字符（OKX 的要求）。",
        }[problem] + "请重新输入。"
    return {
        "name": "The profile name must be 1-80 letters, digits, '_' or '-', starting with a letter or digit.",
        "reserved": "The profile name env stands for OKX's environment variables; choose another name.",
        "characters": f"The {label} must be 1-{MAX_VALUE_LENGTH} printable ASCII characters.",
        "spaces": f"The {label} must not start or end with a space.",
        "passphrase_length": f"The passphrase must be {low}-{high} characters, as OKX allows.",
    }[problem] + " Enter it again."


def cancelled(lang: Lang) -> str:
    return _pick(lang, "已取消：未写入任何内容。", "Cancelled: nothing was written.")


def interrupted_saving(lang: Lang) -> str:
    return _pick(
        lang,
        "保存或验证时被中断：okx-auth-mcp config show 会显示 profile 是否已保存。",
        "Interrupted while saving or checking: okx-auth-mcp config show shows whether the profile was saved.",
    )


# ----- after the write ---------------------------------------------------------------------------------------


def saved(lang: Lang, name: str, path: str, backup: str | None, replaced: bool) -> str:
    """Where the profile went, what it replaced, the copy kept, and that ``default_profile`` names it."""
    if lang == "zh":
        lines = [f"API key 已保存为 profile {name}：{path}（仅你可读写）。"]
        lines += [f"它替换了原有的同名 profile {name}。"] if replaced else []
        lines += [f"原文件已备份到 {backup}。"] if backup else []
        lines.append(f"default_profile 现为 {name}：OKX 的工具将使用这个 API key。")
    else:
        lines = [f"API key saved as profile {name} in {path} (readable and writable by you only)."]
        lines += [f"It replaced the profile {name} that was there."] if replaced else []
        lines += [f"The file as it was is kept in {backup}."] if backup else []
        lines.append(f"default_profile now names {name}: OKX's tools use this API key.")
    return "\n".join(lines)


def overridden(lang: Lang, name: str, from_environment: bool) -> str:
    """The profile is not the key OKX's tools use here: ``OKX_API_KEY`` and the rest come first. With
    ``from_environment`` (``--non-interactive``), those are the very variables the key was read from."""
    names = ", ".join(ENV_SECRETS)
    if from_environment:
        return _pick(
            lang,
            f"注意：只要环境中设置了 {names}，OKX 的工具就使用它们；未设置时使用 profile {name}。",
            f"Note: OKX's tools use {names} wherever they are set; where they are not, profile {name}.",
        )
    return _pick(
        lang,
        f"注意：这个环境中设置了 OKX_API_KEY，OKX 的工具会优先使用它，而不是 profile {name}。"
        f"取消设置 {names} 后才会使用 {name}。",
        f"Note: OKX_API_KEY is set in this environment, and OKX's tools use it before any profile: profile {name} "
        f"is used once {names} are unset.",
    )


def rejected(lang: Lang, name: str, site: SiteId, code: str | None) -> str:
    """OKX refused the key: the two options of Step 0.2.a, then the command for each, neutrally."""
    options = texts.api_key_rejected(lang, name, site, code)
    if lang == "zh":
        return (
            f"{options}\n"
            f"在终端中：选 1，用新的 key 再运行 {INIT_COMMAND}（替换 profile {name} 时回答 y）；"
            f"选 2，运行 {REMOVE_COMMAND} {name}，然后 {LOGIN_COMMAND}。"
        )
    return (
        f"{options}\n"
        f"At a terminal: for 1, run {INIT_COMMAND} again with the new key (answer y to replace profile {name}); "
        f"for 2, run {REMOVE_COMMAND} {name}, then {LOGIN_COMMAND}."
    )


def unchecked(lang: Lang, why: str) -> str:
    """The check could not run; ``why`` is the failure's terminal line. The key stays saved."""
    return _pick(lang, "API key 已保存，但未能验证：\n", "The API key is saved, but it could not be checked:\n") + why


def unchecked_next(name: str, next_step: str) -> str:
    """The next step of the terminal line of a check that could not run."""
    return f"{next_step}; the key stays saved as profile {name}"
