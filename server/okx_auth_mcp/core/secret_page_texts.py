"""The words of the one-time page that shows a new API key's secrets (``core.secret_page``), in English and
Chinese: one table, one function. Pure."""

from __future__ import annotations

from okx_auth_mcp.core.texts import Lang

_TEXTS: dict[Lang, dict[str, str]] = {
    "en": {
        "warning": "The secrets of this key are shown once: copy them now into your bot's secret store. This page "
        "cannot show them again, and okx-auth-mcp did not keep them.",
        "prepare": "Have your bot's secret store open before you press the button. Do not paste the secrets into "
        "the chat with your assistant.",
        "reveal": "Show the secrets once",
        "expires": "This link works once, for {minutes} more minutes.",
        "revealed": "Copy each value now into your bot's secret store (a click or a tap selects a whole value). "
        "This page cannot show them again, and okx-auth-mcp did not keep them.",
        "after": "Do not paste them into the chat with your assistant. When they are stored, close this page.",
        "gone_title": "This link no longer works",
        "unknown": "This link is not one this computer issued, or it is no longer open. Ask your assistant.",
        "expired": "This link expired before the secrets were shown, and they are gone: okx-auth-mcp did not keep "
        "them. Ask your assistant to delete this API key at OKX and create a new one.",
        "shown": "These secrets were already shown once, and this page cannot show them again: okx-auth-mcp did not "
        "keep them. If they were not copied, ask your assistant to delete this API key at OKX and create a new one.",
        "forbidden": "This request did not come from the page itself, so nothing was shown. Open the link your "
        "assistant gave you and press the button there.",
        "too_large": "That request was far larger than this page sends. Nothing was shown.",
    },
    "zh": {
        "warning": "此 key 的密钥只显示一次：请现在把它们复制到您的机器人的密钥存储中。本页无法再次显示它们，"
        "okx-auth-mcp 也没有保留它们。",
        "prepare": "按下按钮之前，请先打开您的机器人的密钥存储。不要把密钥粘贴到与助手的对话里。",
        "reveal": "显示密钥（仅一次）",
        "expires": "此链接只能使用一次，{minutes} 分钟后失效。",
        "revealed": "请现在把每个值复制到您的机器人的密钥存储中（点击即可选中整个值）。"
        "本页无法再次显示它们，okx-auth-mcp 也没有保留它们。",
        "after": "不要把它们粘贴到与助手的对话里。保存好之后，请关闭本页。",
        "gone_title": "此链接已失效",
        "unknown": "此链接不是本机签发的，或已不再有效。请询问您的助手。",
        "expired": "此链接在显示密钥之前已过期，密钥已丢弃：okx-auth-mcp 没有保留它们。"
        "请让助手在 OKX 删除这个 API key 并新建一个。",
        "shown": "这些密钥已经显示过一次，本页无法再次显示：okx-auth-mcp 没有保留它们。"
        "如果没有复制下来，请让助手在 OKX 删除这个 API key 并新建一个。",
        "forbidden": "此请求不是从本页发出的，因此没有显示任何内容。请打开助手给您的链接，在那里按下按钮。",
        "too_large": "此请求远大于本页会发送的内容。没有显示任何内容。",
    },
}


def text(lang: Lang, key: str, **values: object) -> str:
    return _TEXTS[lang][key].format(**values)
