from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_auth_mcp.core import texts
from okx_auth_mcp.core.sites import SITES, parse_site_reply


@pytest.mark.parametrize(
    ("reply", "site"),
    [
        ("1", "global"),
        ("2", "eea"),
        ("3", "us"),
        ("１", "global"),
        ("２", "eea"),
        ("３", "us"),
        ("global", "global"),
        ("EEA", "eea"),
        (" Us \n", "us"),
        ("\tGLOBAL ", "global"),
        ("  3  ", "us"),
    ],
)
def test_each_menu_answer_chooses_its_site(reply: str, site: str) -> None:
    assert parse_site_reply(reply) == site


@pytest.mark.parametrize(
    "reply",
    ["", " ", "0", "5", "1 or 2", "1)", "global please", "okx", "www.okx.com", "Global (www.okx.com)", "12"],
)
def test_anything_else_chooses_nothing(reply: str) -> None:
    assert parse_site_reply(reply) is None


ACCEPTED = {"1", "2", "3", "4", "global", "eea", "us", "tr"}
FULL_WIDTH = ("１", "２", "３", "４")


@given(st.one_of(st.text(), st.sampled_from(sorted(ACCEPTED) + list(FULL_WIDTH) + [" 4 ", "TR", "５", "5"])))
def test_a_reply_never_defaults_to_a_site(reply: str) -> None:
    """Only a menu number (ASCII or full-width) or a site id chooses a site; the menu's four are always tried
    (a random text alone found the missing fourth only by chance)."""
    chosen = parse_site_reply(reply)
    text = reply.strip()
    assert (chosen is not None) == (text in FULL_WIDTH or (text.isascii() and text.lower() in ACCEPTED))


def test_the_accepted_replies_are_the_menus() -> None:
    numbers = [str(n) for n in range(1, len(SITES) + 1)]
    assert set(numbers) | set(SITES) == ACCEPTED
    assert [chr(ord("０") + int(n)) for n in numbers] == list(FULL_WIDTH)


def test_the_site_registry_matches_okx() -> None:
    assert {(s.id, s.label, s.web_host, s.api_base_url) for s in SITES.values()} == {
        ("global", "Global", "www.okx.com", "https://www.okx.com"),
        ("eea", "EEA", "my.okx.com", "https://eea.okx.com"),
        ("us", "US", "app.okx.com", "https://app.okx.com"),
        ("tr", "TR", "tr.okx.com", "https://tr.okx.com"),  # OKX's skill 1.3.9
    }


def test_the_site_menu_is_okx_text_exactly() -> None:
    assert texts.SITE_MENU == (
        "您需要选择要连接的 OKX 站点：\n1) Global (www.okx.com)\n2) EEA (my.okx.com)\n3) US (app.okx.com)\n"
        "4) TR (tr.okx.com)"
    )


def test_the_api_key_notice_is_okx_text_exactly() -> None:
    assert texts.api_key_configured("main") == "已配置 API key (profile: main)"


def test_the_chinese_login_template_is_okx_text_exactly() -> None:
    assert texts.login_started("zh", "eea", "https://my.okx.com/device", "ABCD-EFGH", 600) == (
        "请在浏览器中打开下面的链接并输入验证码完成授权：\n\n站点：eea\n链接：https://my.okx.com/device\n"
        "验证码：ABCD-EFGH\n（有效期 10 分钟）\n\n通过链接完成授权，然后告诉我。"
    )


def test_the_english_login_template_is_okx_text_exactly() -> None:
    assert texts.login_started("en", "us", "https://app.okx.com/device", "WXYZ-1234", 900) == (
        "Please open the link below in your browser and enter the verification code to authorize:\n\n"
        "Site: us\nURL: https://app.okx.com/device\nCode: WXYZ-1234\n(Valid for 15 minutes)\n\n"
        "Please authorise current session with access to your account, tell me when you are done."
    )


def test_the_logged_in_templates_are_okx_text_exactly() -> None:
    assert texts.logged_in("zh", "global", ["read_only", "trade"]) == "登录成功。\n站点：global\n权限：read_only, trade"
    assert texts.logged_in("en", "eea", ["read_only"]) == "Login successful.\nSite: eea\nScopes: read_only"


def test_the_minutes_are_expires_in_over_sixty() -> None:
    assert texts.expires_in_minutes(600) == 10
    assert texts.expires_in_minutes(599) == 9
    assert texts.expires_in_minutes(30) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_status_text_quotes_a_lifetime(lang: texts.Lang) -> None:
    shown = [texts.pending(lang, "global"), texts.logged_out(lang)] + [
        texts.not_logged_in(lang, reason) for reason in (None, "expired", "denied", "session_expired")
    ]
    for text in shown:
        assert not any(ch.isdigit() for ch in text), text


def test_our_own_texts_are_fixed_too() -> None:
    assert texts.pending("zh", "us") == "授权尚未完成（站点：us）。请在浏览器中完成授权，然后告诉我。"
    assert texts.pending("en", "us") == (
        "Authorization is not complete yet (site: us). Please finish it in your browser, then tell me."
    )
    assert [texts.not_logged_in("zh", r) for r in (None, "expired", "denied", "session_expired")] == [
        "当前未登录 OKX。",
        "验证码已过期，登录未完成。需要重新登录吗？",
        "授权被拒绝，登录未完成。需要重新登录吗？",
        "登录会话已失效，需要重新登录。需要现在重新登录吗？",
    ]
    assert [texts.not_logged_in("en", r) for r in (None, "expired", "denied", "session_expired")] == [
        "You are not logged in to OKX.",
        "The verification code expired before authorization was completed. Do you want to retry?",
        "The authorization was denied in the browser. Do you want to retry?",
        "Your OKX session has ended and you need to log in again. Do you want to log in now?",
    ]
    assert (texts.logged_out("zh"), texts.logged_out("en")) == (
        "已退出 OKX 登录。",
        "You are logged out of OKX.",
    )
    assert texts.site_chosen("eea") == "已选择站点：EEA (my.okx.com)"
    assert texts.SESSION_LENGTH_ANSWER == "Session stays active as long as you use the CLI periodically."
