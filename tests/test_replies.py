"""One place for reply texts: an agent gets OKX's templates; a person at a terminal gets our own wording, which
never asks to be told anything (the command waits by itself) and names the command to run instead."""

from __future__ import annotations

from typing import get_args

import pytest

from okx_auth_mcp.core import replies, texts
from okx_auth_mcp.core.login_state import AuthState, LoginPending, LoginSkipped
from okx_auth_mcp.core.records import LoginEndReason
from okx_auth_mcp.core.texts import Lang

LOGIN = LoginPending("eea", "https://my.okx.com/account/oauth/device", "WXYZ-2345", 600)
REASONS: list[LoginEndReason | None] = [None, *get_args(LoginEndReason)]
STATES = [
    AuthState("logged_in", "eea", ["read_only", "trade"]),
    AuthState("pending", "eea"),
    *(AuthState("not_logged_in", reason=reason) for reason in REASONS),
]
AGENT_ONLY = ("tell me", "告诉我", "Do you want", "需要现在", "吗？")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_agent_gets_okxs_templates(lang: Lang) -> None:
    started = texts.login_started(lang, "eea", LOGIN.verification_uri, "WXYZ-2345", 600)
    assert replies.login(lang, LOGIN, "agent") == started
    for state in STATES:
        assert replies.status(lang, state, "agent") == texts.status_reply(
            lang, state.status, state.site, state.scopes, state.reason
        )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_terminal_is_never_asked_to_tell_anyone_anything(lang: Lang) -> None:
    shown = [replies.login(lang, LOGIN, "terminal"), *(replies.status(lang, s, "terminal") for s in STATES)]
    for text in shown:
        for phrase in AGENT_ONLY:
            assert phrase not in text, (phrase, text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_terminal_login_text_carries_the_link_and_code_and_says_it_waits(lang: Lang) -> None:
    text = replies.login(lang, LOGIN, "terminal")
    assert LOGIN.verification_uri in text and "WXYZ-2345" in text and "10" in text
    assert ("Ctrl-C" in text) and ("waits" in text or "等待" in text)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("reason", ["expired", "denied", "session_expired", None])
def test_an_ended_login_at_a_terminal_names_the_login_command(lang: Lang, reason: LoginEndReason | None) -> None:
    assert replies.LOGIN_COMMAND in replies.status(lang, AuthState("not_logged_in", reason=reason), "terminal")


def test_a_logged_in_status_and_a_skipped_login_read_the_same_for_both() -> None:
    for lang in ("zh", "en"):
        assert replies.status(lang, STATES[0], "terminal") == replies.status(lang, STATES[0], "agent")
        assert replies.login(lang, LoginSkipped("main"), "terminal") == texts.api_key_configured("main")
