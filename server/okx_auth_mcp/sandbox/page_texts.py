"""The words of the sandbox's pages (the consent page, the device pages, their errors), in English and Chinese:
one table, one function. They speak as OKX would to its user; nothing here is our client's text."""

from __future__ import annotations

from okx_auth_mcp.core.texts import Lang

_TEXTS: dict[Lang, dict[str, str]] = {
    "en": {
        "brand": "Sandbox",
        "sandbox_note": "This is the OKX sandbox, an offline stand-in for OKX: no real account or funds are involved.",
        "application": "Application",
        "client_id": "client ID {client_id}",
        "self_named": "; the name is the application's own claim",
        "site": "OKX site",
        "returns_to": "Then you go to",
        "expires": "Expires",
        "in_minutes": "in {minutes} min",
        "can": "It will be able to",
        "scope_read_only": "View your account: balances, positions, orders and trading history",
        "scope_trade": "Place and cancel orders for you",
        "cannot": "It cannot withdraw or transfer your funds.",
        "approve": "Approve",
        "deny": "Deny",
        "continue": "Continue",
        "consent_title": "Authorize {name}",
        "consent_lead": "{name} wants to access your OKX account.",
        "consent_only_you": "Approve only if you started this sign-in yourself. This request expires in {minutes} "
        "minutes.",
        "link_title": "This sign-in link cannot be used",
        "link_nowhere": "You have not been sent anywhere. Go back to the application and start again, or tell its "
        "developer what this page says.",
        "unknown_client": "The application that sent you here (client ID {client_id}) is not registered with OKX.",
        "no_client": "The link names no application (client_id).",
        "no_redirect": "The link does not say where to return you (redirect_uri).",
        "bad_redirect": "The address it would return you to is not one the application registered with OKX: {uri}",
        "okx_code": "OKX code {code}: {message}",
        "form_title": "This page can no longer be used",
        "consent_gone": "This page expired, was used already, or the form was not sent from it. Nothing was "
        "approved. Go back to the application and sign in again.",
        "device_title": "Connect a device",
        "device_lead": "Enter the code that your assistant or app shows you.",
        "code_label": "Code",
        "code_hint": "8 letters, such as BCDF-GHJK. Dashes, spaces and case do not matter.",
        "code_missing": "Enter the code.",
        "code_unknown": "That code is unknown, expired or already used. Check it and try again, or ask your "
        "assistant for a new one.",
        "device_gone": "That form expired, was used already, or was not sent from its page. Nothing was approved: "
        "enter the code again.",
        "confirm_title": "Approve this device?",
        "confirm_lead": "{name} asks for access to your OKX account.",
        "confirm_code": "Check that this is the code your assistant shows. If it is not, deny.",
        "other_code": "Enter another code",
        "approved_title": "Device approved.",
        "denied_title": "Device denied.",
        "approved": "{name} can now use your OKX account with the access you approved. You can close this page "
        "and return to your assistant.",
        "denied": "{name} gets no access. You can close this page and return to your assistant.",
        "too_large": "That was far more than this form sends. Nothing was done.",
    },
    "zh": {
        "brand": "沙盒",
        "sandbox_note": "这是 OKX 沙盒，OKX 的离线替身：不涉及真实账户或资金。",
        "application": "应用",
        "client_id": "客户端 ID {client_id}",
        "self_named": "；名称由应用自行声明",
        "site": "OKX 站点",
        "returns_to": "之后前往",
        "expires": "有效期",
        "in_minutes": "{minutes} 分钟内",
        "can": "它将能够",
        "scope_read_only": "查看您的账户：余额、持仓、订单和交易记录",
        "scope_trade": "为您下单和撤单",
        "cannot": "它不能提币或转移您的资金。",
        "approve": "授权",
        "deny": "拒绝",
        "continue": "继续",
        "consent_title": "授权 {name}",
        "consent_lead": "{name} 请求访问您的 OKX 账户。",
        "consent_only_you": "仅当这次登录是您本人发起时才授权。此请求 {minutes} 分钟后失效。",
        "link_title": "此登录链接无法使用",
        "link_nowhere": "您没有被转到任何地方。请返回该应用重新开始，或把本页内容告诉它的开发者。",
        "unknown_client": "把您带到这里的应用（客户端 ID {client_id}）未在 OKX 注册。",
        "no_client": "链接中没有指明应用（client_id）。",
        "no_redirect": "链接中没有指明返回地址（redirect_uri）。",
        "bad_redirect": "它要把您带回的地址不是该应用在 OKX 注册的地址：{uri}",
        "okx_code": "OKX 错误码 {code}：{message}",
        "form_title": "此页面已无法使用",
        "consent_gone": "此页面已过期、已使用过，或表单并非从此页面提交。没有授权任何内容。请返回该应用重新登录。",
        "device_title": "连接设备",
        "device_lead": "请输入您的助手或应用显示的验证码。",
        "code_label": "验证码",
        "code_hint": "8 个字母，例如 BCDF-GHJK。短横线、空格和大小写均可。",
        "code_missing": "请输入验证码。",
        "code_unknown": "该验证码无效、已过期或已使用。请检查后重试，或向您的助手索取新的验证码。",
        "device_gone": "该表单已过期、已使用过，或并非从其页面提交。没有授权任何内容：请重新输入验证码。",
        "confirm_title": "授权此设备？",
        "confirm_lead": "{name} 请求访问您的 OKX 账户。",
        "confirm_code": "请确认这就是您的助手显示的验证码。如果不是，请拒绝。",
        "other_code": "输入其他验证码",
        "approved_title": "设备已授权。",
        "denied_title": "设备已拒绝。",
        "approved": "{name} 现在可以按您授权的权限使用您的 OKX 账户。您可以关闭本页并返回您的助手。",
        "denied": "{name} 未获得任何权限。您可以关闭本页并返回您的助手。",
        "too_large": "提交的内容远超此表单的大小。未执行任何操作。",
    },
}

OKX_MESSAGES = {
    "53010": "Parameter client_id error",
    "53011": "Parameter redirect_uri cannot be empty",
    "53016": "Invalid redirect_uri",
}
"""OKX's own messages for the codes the consent page names (OKX publishes them in English only)."""


def text(lang: Lang, key: str, **fields: object) -> str:
    return _TEXTS[lang][key].format(**fields)
