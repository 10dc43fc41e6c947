"""Removing an API-key profile only when the user said so (issue 12, part 4): the confirmation ticket and the
reply check (pure), the procedure on real files under tmp_path, and the ``remove_api_key_profile`` tool through
the SDK's own client in both protocol generations (2025-11-25: "legacy", a question in the middle of the call;
2026-07-28: "auto", an input-required result and a retry), with form elicitation (accept, no, decline, cancel)
and without it (the ticket and the user's typed reply). Every refusal leaves the file as it was."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp.client.context import ClientRequestContext
from mcp.types import ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData, ToolAnnotations

from okx_auth_mcp.core import profile_removal, tickets
from okx_auth_mcp.core.gate import Gate, State
from okx_auth_mcp.core.okx_config_edit import ConfigChanged, NoSuchProfile
from okx_auth_mcp.core.okx_profiles import ConfigParseError
from okx_auth_mcp.core.profile_removal import (
    ConfirmationExpired,
    ConfirmationInvalid,
    ConfirmationMismatch,
    EnvProfile,
    InvalidProfileName,
)
from okx_auth_mcp.edges.okx_config_writer import remove_profile
from okx_auth_mcp.login.profile_removal import Kept, ProfileRemoval, Removed
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.login.settings import Settings
from okx_auth_mcp.mcp import profile_tools
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import CLIENT_KINDS, FakeClock, connected, data, error_text, log_in, snapshot, write_config

KEY = b"k" * 32
NOW = 1_800_000_000.0
TOOL = "remove_api_key_profile"
CONFIG = """default_profile = "broken"
future_key = "kept as it is"

[profiles.broken]
api_key = "ak-broken-0123456789"
secret_key = "SECRET-broken-9f8e7d6c"
passphrase = "Pass-broken-01"
site = "eea"

[profiles.spare]
site = "us"
demo = true
"""
BAD_NAMES = ["", " lead", "trail ", "broken]\n[profiles.x", "tab\tx", "nul\x00", "x" * 129, "x" * 10_000_000]
"""Nothing a profile of the file is named: OKX's CLI writes names such as 模拟盘 or prod.eu, which are removable."""


@pytest.fixture
def config(isolated_env: dict[str, str]) -> Path:
    return write_config(isolated_env["OKX_HOME"], CONFIG)


def removal(clock: Callable[[], float] = lambda: NOW, key: bytes = KEY) -> ProfileRemoval:
    return ProfileRemoval(os.environ, lambda: key, clock)


# ----- the ticket and the reply (pure) ----------------------------------------------------------------------


def test_a_confirmation_holds_its_profile_file_and_digest_for_ten_minutes() -> None:
    ticket = profile_removal.issue(KEY, "broken", "/h/.okx/config.toml", "d1", NOW, nonce="n")
    held = profile_removal.verify(KEY, ticket, NOW + 599, profile="broken", path="/h/.okx/config.toml")
    assert (held.profile, held.expires_at) == ("broken", int(NOW) + 600)
    assert held.of_file(KEY, "d1") and not held.of_file(KEY, "d2") and not held.of_file(b"o" * 32, "d1")
    payload, _ = tickets.signed_payload(KEY, profile_removal.PREFIX, ticket)
    assert payload["d"] != "d1"  # the digest is keyed: the ticket is no test of a guess at the file
    with pytest.raises(ConfirmationExpired):
        profile_removal.verify(KEY, ticket, NOW + 600, profile="broken", path="/h/.okx/config.toml")
    with pytest.raises(ConfirmationMismatch, match="another profile"):
        profile_removal.verify(KEY, ticket, NOW, profile="spare", path="/h/.okx/config.toml")
    with pytest.raises(ConfirmationMismatch, match="another config file"):
        profile_removal.verify(KEY, ticket, NOW, profile="broken", path="/elsewhere/config.toml")
    with pytest.raises(ConfirmationInvalid, match="another state directory"):
        profile_removal.verify(b"o" * 32, ticket, NOW, profile="broken", path="/h/.okx/config.toml")


def test_a_site_ticket_is_no_confirmation_and_a_confirmation_no_site_ticket() -> None:
    site_ticket = tickets.issue(KEY, Gate(State.SITE_CONFIRMED, "eea"), NOW)
    with pytest.raises(ConfirmationInvalid, match="format"):
        profile_removal.verify(KEY, site_ticket, NOW, profile="broken", path="/p")
    confirmation = profile_removal.issue(KEY, "broken", "/p", "d", NOW, nonce="n")
    with pytest.raises(tickets.TicketInvalid, match="format"):
        tickets.verify(KEY, confirmation, NOW)


def test_changing_any_character_of_a_confirmation_voids_it() -> None:
    ticket = profile_removal.issue(KEY, "broken", "/p", "d", NOW, nonce="n")
    for index in range(len(ticket)):
        altered = ticket[:index] + ("A" if ticket[index] != "A" else "B") + ticket[index + 1 :]
        with pytest.raises(ConfirmationInvalid):
            profile_removal.verify(KEY, altered, NOW, profile="broken", path="/p")


@pytest.mark.parametrize("reply", ["yes", "YES", "Yes", " yes\n", "是", "\u3000是 "])
def test_yes_or_shi_confirms(reply: str) -> None:
    assert profile_removal.confirms(reply)


@pytest.mark.parametrize("reply", ["", "y", "ok", "no", "yes please", "yes.", "是的", "确认", "ｙｅｓ", "yeſ", "1"])
def test_nothing_else_confirms(reply: str) -> None:
    assert not profile_removal.confirms(reply)


def test_the_question_names_the_profile_and_the_file_and_the_backup() -> None:
    en = profile_removal.question("en", "broken", "/h/.okx/config.toml", is_default=True)
    assert '"broken"' in en and "/h/.okx/config.toml" in en and "backup" in en and "default_profile" in en
    assert "Reply yes" in en
    zh = profile_removal.question("zh", "broken", "/h/.okx/config.toml", is_default=False)
    assert "“broken”" in zh and "/h/.okx/config.toml" in zh and "备份" in zh and "“是”" in zh
    assert "default_profile" not in zh


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda name: repr(name[:12]))
def test_a_name_that_is_not_a_profile_name_is_refused_unquoted(name: str) -> None:
    with pytest.raises(InvalidProfileName) as refused:
        profile_removal.check_profile_name(name)
    assert len(str(refused.value)) < 200 and (not name or name not in str(refused.value))


# ----- the procedure, on real files -------------------------------------------------------------------------


def test_yes_removes_the_block_and_default_profile_and_keeps_a_0600_backup(config: Path) -> None:
    question = removal().ask("broken")
    assert (question.profile, question.path, question.is_default) == ("broken", config, True)
    assert config.read_text() == CONFIG  # asking changes nothing
    removed = removal().confirm("broken", question.ticket, "yes")
    assert isinstance(removed, Removed)
    assert (removed.default_profile_cleared, removed.profile_in_effect) == (True, None)
    assert tomllib.loads(config.read_text()) == {"future_key": "kept as it is", "profiles": {"spare": CONFIG_SPARE}}
    assert removed.backup is not None and removed.backup.parent == config.parent
    assert removed.backup.read_text() == CONFIG and stat.S_IMODE(removed.backup.stat().st_mode) == 0o600
    assert removed.backup.name.startswith("config.toml.bak-")


CONFIG_SPARE = {"site": "us", "demo": True}


@pytest.mark.parametrize("reply", ["no", "y", "", "yes please"])
def test_any_other_reply_removes_nothing(config: Path, reply: str) -> None:
    before = snapshot(config.parent)
    question = removal().ask("broken")
    assert removal().confirm("broken", question.ticket, reply) == Kept("broken", config)
    assert snapshot(config.parent) == before


def test_removing_a_profile_that_is_not_the_default_keeps_default_profile(config: Path) -> None:
    removed = removal().confirm("spare", removal().ask("spare").ticket, "是")
    assert isinstance(removed, Removed) and not removed.default_profile_cleared
    assert removed.profile_in_effect == "broken"
    assert tomllib.loads(config.read_text())["default_profile"] == "broken"


def test_a_confirmation_dies_with_any_change_to_the_file(config: Path) -> None:
    question = removal().ask("broken")
    config.write_text(CONFIG + "# an editor was here\n")  # another program edits the file
    changed = snapshot(config.parent)
    with pytest.raises(ConfigChanged):
        removal().confirm("broken", question.ticket, "yes")
    assert snapshot(config.parent) == changed


def test_removing_another_profile_voids_the_first_confirmation(config: Path) -> None:
    first, second = removal().ask("broken"), removal().ask("spare")
    assert isinstance(removal().confirm("spare", second.ticket, "yes"), Removed)
    after = snapshot(config.parent)
    with pytest.raises(ConfigChanged):
        removal().confirm("broken", first.ticket, "yes")
    assert snapshot(config.parent) == after


def test_a_confirmation_is_used_once(config: Path) -> None:
    question = removal().ask("broken")
    removal().confirm("broken", question.ticket, "yes")
    with pytest.raises(ConfigChanged):
        removal().confirm("broken", question.ticket, "yes")


def test_two_removals_in_one_second_keep_both_backups(config: Path) -> None:
    first = remove_profile(os.environ, "broken")
    second = remove_profile(os.environ, "spare")
    assert first.backup is not None and second.backup is not None and first.backup != second.backup
    assert first.backup.read_text() == CONFIG and "spare" in second.backup.read_text()


def test_an_expired_or_foreign_or_misdirected_confirmation_removes_nothing(
    config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = snapshot(config.parent)
    question = removal().ask("broken")
    with pytest.raises(ConfirmationExpired):
        removal(clock=lambda: NOW + 600).confirm("broken", question.ticket, "yes")
    with pytest.raises(ConfirmationInvalid):
        removal(key=b"another state directory's key.").confirm("broken", question.ticket, "yes")
    with pytest.raises(ConfirmationMismatch):
        removal().confirm("spare", question.ticket, "yes")
    monkeypatch.setenv("OKX_HOME", str(tmp_path / "another-okx-home"))
    with pytest.raises(ConfirmationMismatch):
        removal().confirm("broken", question.ticket, "yes")
    assert snapshot(config.parent) == before


def test_a_missing_profile_a_file_that_is_not_toml_and_a_bad_name_are_refused_before_asking(config: Path) -> None:
    with pytest.raises(NoSuchProfile):
        removal().ask("nobody")
    with pytest.raises(InvalidProfileName):
        removal().ask("broken\n")
    config.write_text('[profiles.broken\napi_key = "x"\n')
    before = snapshot(config.parent)
    with pytest.raises(ConfigParseError):
        removal().ask("broken")
    assert snapshot(config.parent) == before


def test_the_environments_profile_is_refused_with_what_the_user_must_do(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_API_KEY", "env-key")
    with pytest.raises(EnvProfile, match="OKX_API_KEY, OKX_SECRET_KEY and OKX_PASSPHRASE"):
        removal().ask("env")


def test_a_symlinked_config_has_its_target_changed_and_stays_a_link(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "okx.toml"
    target.parent.mkdir()
    config.rename(target)
    config.symlink_to(target)
    removed = removal().confirm("broken", removal().ask("broken").ticket, "yes")
    assert isinstance(removed, Removed)
    assert config.is_symlink() and config.resolve() == target
    assert "broken" not in target.read_text()
    assert removed.backup is not None and removed.backup.parent == target.parent
    assert removed.backup.read_text() == CONFIG


# ----- the tool, through the SDK's client -------------------------------------------------------------------

pytest_anyio = pytest.mark.anyio


@dataclass
class User:
    """The person behind a client with form elicitation: answers each question with ``answer`` (a form's content,
    or ``decline`` / ``cancel``), after ``meanwhile`` (what happens while they think)."""

    answer: dict[str, Any] | str
    meanwhile: Callable[[], object] = lambda: None
    asked: list[ElicitRequestFormParams] = field(default_factory=list)

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        assert isinstance(params, ElicitRequestFormParams)
        self.asked.append(params)
        self.meanwhile()
        if isinstance(self.answer, str):
            assert self.answer in ("decline", "cancel")
            return ElicitResult(action="decline" if self.answer == "decline" else "cancel")
        return ElicitResult(action="accept", content=self.answer)


def args(profile: str = "broken", lang: str = "en", **more: str) -> dict[str, Any]:
    return {"profile": profile, "lang": lang, **more}


@pytest_anyio
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_without_elicitation_the_agent_shows_the_question_and_passes_the_users_yes(
    service: AuthService, config: Path, kind: str
) -> None:
    before = snapshot(config.parent)
    async with connected(service, kind) as client:
        asked = data(await client.call_tool(TOOL, args(lang="zh")))
        assert asked["status"] == "confirm" and asked["next"] == "wait_for_reply"
        assert asked["reply"] == profile_removal.question("zh", "broken", str(config), is_default=True)
        assert asked["path"] == str(config) and snapshot(config.parent) == before
        done = data(await client.call_tool(TOOL, args(confirmation_ticket=asked["confirmation_ticket"], reply="是")))
        assert done["status"] == "removed" and done["next"] == "preflight"
        assert (done["default_profile_cleared"], done["path"]) == (True, str(config))
        assert Path(done["backup"]).read_text() == CONFIG
        assert done["reply"].startswith('Removed the API-key profile "broken" from ')
        assert "broken" not in tomllib.loads(config.read_text())["profiles"]
        pre = data(await client.call_tool("preflight", {}))
        assert pre["next"] == "choose_site"


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
async def test_a_reply_other_than_yes_keeps_the_profile(service: AuthService, config: Path, kind: str) -> None:
    before = snapshot(config.parent)
    async with connected(service, kind) as client:
        ticket = data(await client.call_tool(TOOL, args()))["confirmation_ticket"]
        kept = data(await client.call_tool(TOOL, args(confirmation_ticket=ticket, reply="ok, go ahead")))
    assert kept == {
        "status": "kept",
        "profile": "broken",
        "path": str(config),
        "next": "done",
        "reply": profile_removal.kept("en", "broken", str(config)),
    }
    assert snapshot(config.parent) == before


@pytest_anyio
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_with_elicitation_the_user_is_asked_and_yes_removes(
    service: AuthService, config: Path, kind: str
) -> None:
    user = User({"answer": "yes"})
    async with connected(service, kind, elicitation_callback=user) as client:
        done = data(await client.call_tool(TOOL, args()))
        assert done["status"] == "removed" and Path(done["backup"]).read_text() == CONFIG
        assert data(await client.call_tool("preflight", {}))["next"] == "choose_site"
    (form,) = user.asked
    assert form.message == profile_removal.question("en", "broken", str(config), is_default=True)
    assert form.requested_schema["required"] == ["answer"]
    assert form.requested_schema["properties"]["answer"] == {
        "type": "string",
        "title": "Remove this profile? / 删除此配置？",
        "oneOf": [
            {"const": "yes", "title": "Yes, remove it / 是，删除"},
            {"const": "no", "title": "No, keep it / 否，保留"},
        ],
    }
    assert "description" not in form.requested_schema


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
@pytest.mark.parametrize("answer", [{"answer": "no"}, "decline", "cancel", {"answer": "maybe"}, {}])
async def test_with_elicitation_no_decline_or_cancel_removes_nothing(
    service: AuthService, config: Path, kind: str, answer: dict[str, Any] | str
) -> None:
    before = snapshot(config.parent)
    user = User(answer)
    async with connected(service, kind, elicitation_callback=user) as client:
        kept = data(await client.call_tool(TOOL, args(lang="zh")))
    assert (kept["status"], kept["next"]) == ("kept", "done") and len(user.asked) == 1
    assert kept["reply"] == profile_removal.kept("zh", "broken", str(config))
    assert snapshot(config.parent) == before


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
async def test_a_file_changed_while_the_user_answers_voids_the_answer(
    service: AuthService, config: Path, kind: str
) -> None:
    edited = CONFIG.replace("Pass-broken-01", "Pass-replaced-02")  # okx config init replaced the key meanwhile
    user = User({"answer": "yes"}, meanwhile=lambda: config.write_text(edited))
    async with connected(service, kind, elicitation_callback=user) as client:
        text = error_text(await client.call_tool(TOOL, args()))
    assert text.startswith("[config_changed] ") and "never answer for them" in text
    assert config.read_text() == edited and len(user.asked) == 1


@pytest_anyio
async def test_a_client_that_fails_to_ask_leaves_the_question_to_the_agent(service: AuthService, config: Path) -> None:
    # 2025-11-25: the client answers the mid-call question with an error; the agent gets the question instead.
    async def broken(context: ClientRequestContext, params: ElicitRequestParams) -> ErrorData:
        return ErrorData(code=-32603, message="the UI crashed")

    async with connected(service, "legacy", elicitation_callback=broken) as client:
        asked = data(await client.call_tool(TOOL, args()))
        assert (asked["status"], asked["next"]) == ("confirm", "wait_for_reply")
        assert config.read_text() == CONFIG
        done = data(await client.call_tool(TOOL, args(confirmation_ticket=asked["confirmation_ticket"], reply="yes")))
    assert done["status"] == "removed"


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
async def test_the_users_typed_reply_is_used_without_asking_again(
    service: AuthService, config: Path, kind: str
) -> None:
    user = User({"answer": "no"})
    ticket = ProfileRemoval.of(service).ask("broken").ticket
    async with connected(service, kind, elicitation_callback=user) as client:
        done = data(await client.call_tool(TOOL, args(confirmation_ticket=ticket, reply="yes")))
    assert done["status"] == "removed" and user.asked == []


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
async def test_bad_tickets_and_replies_are_refused_with_the_file_unchanged(
    service: AuthService, config: Path, kind: str
) -> None:
    before = snapshot(config.parent)
    foreign = ProfileRemoval(service.settings.environ, lambda: b"another state directory's key!!").ask("broken")
    async with connected(service, kind) as client:
        ticket = data(await client.call_tool(TOOL, args()))["confirmation_ticket"]
        site_ticket = tickets.issue(service.store.ticket_key(), Gate(State.SITE_CONFIRMED, "eea"), NOW)
        altered = ticket[:-3] + ("AAA" if not ticket.endswith("AAA") else "BBB")
        cases = [
            (args("spare", confirmation_ticket=ticket, reply="yes"), "[confirmation_mismatch] "),
            (args(confirmation_ticket=altered, reply="yes"), "[confirmation_invalid] "),
            (args(confirmation_ticket=foreign.ticket, reply="yes"), "[confirmation_invalid] "),
            (args(confirmation_ticket=site_ticket, reply="yes"), "[confirmation_invalid] "),
            (args(reply="yes"), "[confirmation_invalid] "),
            (args(confirmation_ticket=ticket), "[confirmation_invalid] "),
            (args("nobody"), "[no_such_profile] "),
            (args("broken\n#"), "[invalid_profile_name] "),
        ]
        for arguments, code in cases:
            text = error_text(await client.call_tool(TOOL, arguments))
            assert text.startswith(code) and "Nothing was removed" in text, text
        huge = error_text(await client.call_tool(TOOL, args("x" * 100_000)))
        assert huge.startswith("[invalid_arguments] profile: a string of at most 128 characters")
        # ... and a confirmation is no menu ticket either.
        menu = await client.call_tool("choose_site", {"menu_ticket": ticket, "reply": "1"})
        assert error_text(menu).startswith("[ticket_invalid] ")
    assert snapshot(config.parent) == before


@pytest_anyio
async def test_an_expired_confirmation_and_a_file_that_is_not_toml_are_refused(
    service: AuthService, config: Path, clock: FakeClock
) -> None:
    server = build_server(service)
    server.remove_tool(TOOL)
    profile_tools.register(server, service, clock=clock)
    async with connected(service, "auto", server=server) as client:
        ticket = data(await client.call_tool(TOOL, args()))["confirmation_ticket"]
        clock.advance(600)
        expired = error_text(await client.call_tool(TOOL, args(confirmation_ticket=ticket, reply="yes")))
        assert expired.startswith("[confirmation_expired] ")
        config.write_text("[profiles.broken\n")
        assert error_text(await client.call_tool(TOOL, args())).startswith("[config_error] ")
    assert config.read_text() == "[profiles.broken\n"


@pytest_anyio
async def test_the_environments_key_is_not_removed_here(
    settings: Settings, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKX_API_KEY", "env-key")
    with_env_key = AuthService(Settings.from_env())
    try:
        async with connected(with_env_key, "legacy") as client:
            text = error_text(await client.call_tool(TOOL, args("env")))
    finally:
        with_env_key.close()
    assert text.startswith("[env_profile] ") and "unsetting them" in text


@pytest_anyio
async def test_after_removal_preflight_shows_the_login_when_a_session_exists(
    service: AuthService, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    log_in(service, sandbox)
    write_config(isolated_env["OKX_HOME"], CONFIG)
    async with connected(service, "auto", elicitation_callback=User({"answer": "yes"})) as client:
        assert data(await client.call_tool("preflight", {}))["next"] == "api_key_configured"
        assert data(await client.call_tool(TOOL, args()))["status"] == "removed"
        after = data(await client.call_tool("preflight", {}))
    assert (after["next"], after["site"]) == ("logged_in", "eea")


@pytest_anyio
async def test_the_tool_is_marked_destructive_and_says_when_to_call_it(service: AuthService) -> None:
    async with connected(service, "legacy") as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == TOOL)
    assert tool.annotations == ToolAnnotations(
        title=None, read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
    )
    assert tool.input_schema["required"] == ["profile", "lang"]
    description = tool.description or ""
    for words in ("option 2", "verbatim", "Never answer for the user", "'yes' or '是'"):
        assert words in description


# ----- what an adversarial review found ----------------------------------------------------------------------


@pytest_anyio
@pytest.mark.parametrize("kind", ["legacy", "auto"])
async def test_a_no_spends_the_confirmation_a_later_yes_with_it_removes_nothing(
    service: AuthService, config: Path, kind: str
) -> None:
    before = config.read_bytes()
    async with connected(service, kind) as client:
        ticket = data(await client.call_tool(TOOL, args()))["confirmation_ticket"]
        kept = data(await client.call_tool(TOOL, args(confirmation_ticket=ticket, reply="no")))
        assert kept["status"] == "kept"
        again = error_text(await client.call_tool(TOOL, args(confirmation_ticket=ticket, reply="yes")))
        assert again.startswith("[confirmation_used] ") and "Nothing was removed" in again
    assert config.read_bytes() == before
    other_process = ProfileRemoval.of(AuthService(Settings.from_env()))
    with pytest.raises(profile_removal.ConfirmationUsed):  # every process on the state directory knows it
        other_process.confirm("broken", ticket, "yes")


@pytest.mark.parametrize("name", ["模拟盘", "prod.eu", "my key", "-lead"])
def test_a_profile_named_as_okx_own_cli_names_them_is_removable(isolated_env: dict[str, str], name: str) -> None:
    quoted = name.replace('"', '\\"')
    path = write_config(
        isolated_env["OKX_HOME"], f'[profiles."{quoted}"]\napi_key = "k"\n\n[profiles.other]\nsite = "us"\n'
    )
    ask = removal()
    question = ask.ask(name)
    assert question.profile == name and name in question.text("en")
    done = ask.confirm(name, question.ticket, "yes")
    assert isinstance(done, Removed)
    assert tomllib.loads(path.read_text(encoding="utf-8"))["profiles"] == {"other": {"site": "us"}}


def test_removing_the_default_with_another_keyed_profile_left_says_the_login_still_skips_oauth(
    isolated_env: dict[str, str],
) -> None:
    write_config(
        isolated_env["OKX_HOME"],
        'default_profile = "broken"\n[profiles.broken]\napi_key = "a"\n[profiles.other]\napi_key = "b"\n',
    )
    ask = removal()
    done = ask.confirm("broken", ask.ask("broken").ticket, "yes")
    assert isinstance(done, Removed) and done.profile_in_effect == "other"
    assert "OKX's login still skips OAuth" in done.text("en") and "remove it too" in done.text("en")
