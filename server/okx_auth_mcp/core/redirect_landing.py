"""The page a browser lands on at our loopback redirect after OKX's authorization page (PKCE, code): whether
the login finished, and that the user can go back to the assistant, in Chinese and English at once (the
browser's language is not the assistant's). It never shows the code, a token or anything the request carried:
nothing from the query string is echoed (no open redirect, no reflected markup). Pure."""

from __future__ import annotations

import html
from typing import Literal

Landing = Literal["done", "denied", "expired", "failed", "not_this_login", "used"]

_WORDS: dict[Landing, tuple[str, str, str, str]] = {
    "done": (
        "登录完成",
        "您已登录 OKX，可以关闭本页，回到助手。",
        "Logged in",
        "You are logged in to OKX. You can close this page and return to your assistant.",
    ),
    "denied": (
        "授权被拒绝",
        "登录未完成。如需重试，请告诉助手。",
        "Authorization denied",
        "The login did not finish. Tell your assistant if you want to try again.",
    ),
    "expired": (
        "授权已过期",
        "登录未完成。如需重试，请告诉助手。",
        "Authorization expired",
        "The login did not finish. Tell your assistant if you want to try again.",
    ),
    "failed": (
        "授权未能完成",
        "登录未完成。请回到助手，它会说明原因。",
        "Authorization failed",
        "The login did not finish. Return to your assistant: it will say why.",
    ),
    "not_this_login": (
        "这不是当前登录的回应",
        "本页没有改变任何内容。请从助手给出的链接登录。",
        "Not the answer to this login",
        "Nothing was changed. Log in from the link your assistant gave you.",
    ),
    "used": (
        "此登录已结束",
        "本页没有改变任何内容。请回到助手查看登录状态。",
        "This login is over",
        "Nothing was changed. Return to your assistant to see the login status.",
    ),
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_STYLE = (
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;"
    "background:#f4f5f7;color:#111}main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}"
    "section{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem}h1{font-size:1.3rem;margin:0 0 .5rem}"
    "p{margin:0;overflow-wrap:anywhere}"
)


def landing_page(landing: Landing) -> str:
    zh_title, zh_text, en_title, en_text = _WORDS[landing]
    esc = html.escape
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(en_title)} · {esc(zh_title)}</title><style>{_STYLE}</style></head><body><main>"
        f'<section lang="zh-CN"><h1>{esc(zh_title)}</h1><p>{esc(zh_text)}</p></section>'
        f'<section lang="en"><h1>{esc(en_title)}</h1><p>{esc(en_text)}</p></section>'
        "</main></body></html>"
    )
