"""The tools through the SDK's own client: in memory and over Streamable HTTP (both protocol generations), and
over stdio."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.types import ToolAnnotations

from okx_auth_mcp.core import texts
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import (
    STDIO,
    FakeClock,
    approve_in_page,
    confirmed_site,
    connected,
    data,
    error_text,
    oauth_requests,
    write_config,
)

pytestmark = pytest.mark.anyio
TOOLS = {"preflight", "choose_site", "auth_login_manual", "auth_status", "logout", "verify_credentials", "diagnose"}
TOOLS |= {"setup_api_key", "setup_api_key_status", "remove_api_key_profile"}


async def test_the_tools_are_described_for_the_model(any_client: Client) -> None:
    tools = {tool.name: tool for tool in (await any_client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.title and tool.annotations is not None and tool.output_schema is not None
        assert tool.description and len(tool.description) > 200
        assert "reply" in tool.output_schema["properties"]
        for name, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), (tool.name, name)
    assert tools["preflight"].annotations == ToolAnnotations(
        read_only_hint=True, idempotent_hint=True, open_world_hint=False
    )
    assert tools["logout"].annotations is not None and tools["logout"].annotations.destructive_hint is True
    # site_ticket is optional in the schema only so that a missing one reaches the gate's own refusal.
    assert set(tools["auth_login_manual"].input_schema["required"]) == {"site", "lang"}
    assert tools["auth_status"].input_schema["required"] == ["lang"]
    assert "preflight" in (tools["auth_login_manual"].description or "") or "choose_site" in (
        tools["auth_login_manual"].description or ""
    )


@pytest.mark.parametrize("reply", ["4", "TR", "４"])
async def test_the_tr_site_logs_in_through_every_tool(
    client: Client, sandbox: RunningSandbox, clock: FakeClock, reply: str
) -> None:
    """OKX's skill 1.3.9 added TR: the menu's fourth line, chosen by 4 or tr, logs in like any other site."""
    choice = await confirmed_site(client, reply)
    assert (choice["site"], choice["next"]) == ("tr", "login")
    login = data(
        await client.call_tool("auth_login_manual", {"site": "tr", "site_ticket": choice["site_ticket"], "lang": "en"})
    )
    assert login["reply"] == texts.login_started("en", "tr", login["verificationUri"], login["userCode"], 600)
    sandbox.state.decide(login["userCode"], approve=True)
    clock.advance(5)
    status = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert (status["status"], status["site"]) == ("logged_in", "tr")
    assert status["reply"] == "Login successful.\nSite: tr\nScopes: read_only, trade"


async def test_the_whole_login_through_the_tools(client: Client, sandbox: RunningSandbox, clock: FakeClock) -> None:
    choice = await confirmed_site(client, "1")
    assert (choice["site"], choice["next"]) == ("global", "login")
    login = data(
        await client.call_tool(
            "auth_login_manual", {"site": "global", "site_ticket": choice["site_ticket"], "lang": "zh"}
        )
    )
    assert login["status"] == "pending" and login["expiresIn"] == 600
    assert login["reply"] == texts.login_started("zh", "global", login["verificationUri"], login["userCode"], 600)
    pending = data(await client.call_tool("auth_status", {"lang": "en"}))
    assert pending == {"status": "pending", "site": "global", "reply": texts.pending("en", "global")}
    sandbox.state.decide(login["userCode"], approve=True)
    clock.advance(5)
    status = data(await client.call_tool("auth_status", {"lang": "zh"}))
    assert status == {
        "status": "logged_in",
        "site": "global",
        "scopes": ["read_only", "trade"],
        "storage": "file (OKX_AUTH_STORAGE=file)",
        "reply": "登录成功。\n站点：global\n权限：read_only, trade",
    }
    pre = data(await client.call_tool("preflight", {"lang": "en"}))
    assert (pre["next"], pre["reply"]) == (
        "logged_in",
        "Login successful.\nSite: global\nScopes: read_only, trade",
    )
    bye = data(await client.call_tool("logout", {}))
    assert bye == {"status": "not_logged_in", "revoked": True, "reply": texts.logged_out("en")}


async def test_status_never_carries_expiry_profile_or_tokens(
    client: Client, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    choice = await confirmed_site(client, "2")
    login = data(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
    sandbox.state.decide(login["userCode"], approve=True)
    status = await client.call_tool("auth_status", {"lang": "en"})
    blob = json.dumps(status.model_dump(mode="json"))
    for word in ("expiresAt", "ttl", "profile", "access_token", "refresh_token", "3600", "device_code"):
        assert word not in blob
    for token in sandbox.state.access_tokens:
        assert token not in blob


def _login_args(choice: dict[str, Any]) -> dict[str, Any]:
    return {"site": choice["site"], "site_ticket": choice["site_ticket"]}


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"site": "global", "site_ticket": "", "lang": "en"}, "[site_not_confirmed]"),
        ({"site": "global", "lang": "en"}, "[site_not_confirmed]"),
        ({"site": "global", "site_ticket": "okxg1.é.ü", "lang": "en"}, "[ticket_invalid]"),
        ({"site": "global", "site_ticket": "okxg1.e30.AAAA", "lang": "en"}, "[ticket_invalid]"),
    ],
)
async def test_login_refusals_carry_their_code_and_reach_no_server(
    client: Client, sandbox: RunningSandbox, arguments: dict[str, Any], code: str
) -> None:
    text = error_text(await client.call_tool("auth_login_manual", arguments))
    assert text.startswith(code) and "preflight" in text
    assert oauth_requests(sandbox) == 0


async def test_a_ticket_for_another_site_is_a_site_mismatch(client: Client, sandbox: RunningSandbox) -> None:
    choice = await confirmed_site(client, "eea")
    text = error_text(
        await client.call_tool("auth_login_manual", {"site": "us", "site_ticket": choice["site_ticket"], "lang": "en"})
    )
    assert text.startswith("[site_mismatch]")
    assert oauth_requests(sandbox) == 0


async def test_an_old_site_choice_is_a_ticket_expired(
    client: Client, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    choice = await confirmed_site(client, "3")
    clock.advance(601)
    text = error_text(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
    assert text.startswith("[ticket_expired]")
    assert oauth_requests(sandbox) == 0


async def test_a_reply_that_chooses_nothing_repeats_the_menu(client: Client) -> None:
    pre = data(await client.call_tool("preflight", {}))
    text = error_text(await client.call_tool("choose_site", {"reply": "the usual", "menu_ticket": pre["menu_ticket"]}))
    assert text.startswith("[reply_not_understood]") and text.endswith(texts.SITE_MENU)
    again = data(await client.call_tool("choose_site", {"reply": "２", "menu_ticket": pre["menu_ticket"]}))
    assert again["site"] == "eea"


async def test_an_api_key_returns_the_skipped_object(
    client: Client, sandbox: RunningSandbox, isolated_env: dict[str, str]
) -> None:
    choice = await confirmed_site(client, "1")
    write_config(isolated_env["OKX_HOME"], '[profiles.trader]\napi_key = "key-1234567890"\nsecret_key = "S3CRET"\n')
    result = await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"})
    assert data(result) == {
        "status": "skipped",
        "reason": "api_key_configured",
        "profile": "trader",
        "reply": "已配置 API key (profile: trader)",
    }
    assert "S3CRET" not in json.dumps(result.model_dump(mode="json"))
    without_ticket = await client.call_tool("auth_login_manual", {"site": "us", "lang": "zh"})
    assert data(without_ticket)["status"] == "skipped"  # like OKX's guard: a key skips, whatever else
    assert oauth_requests(sandbox) == 0


async def test_a_hostile_verification_uri_is_refused_and_nothing_is_shown(
    client: Client, sandbox: RunningSandbox
) -> None:
    choice = await confirmed_site(client, "1")
    sandbox.state.faults["device"] = "foreign_verification_uri"
    text = error_text(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
    assert text.startswith("[phishing_guard]")
    user_code = next(iter(sandbox.state.devices.values())).user_code
    assert user_code not in text and "okx.example.net" not in text
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "not_logged_in"


async def test_a_broken_config_file_is_a_config_error(client: Client, isolated_env: dict[str, str]) -> None:
    write_config(isolated_env["OKX_HOME"], "[profiles.main]\npassphrase = a#b\n")
    text = error_text(await client.call_tool("preflight", {}))
    assert text.startswith("[config_error]") and "line 2" in text


async def test_an_unreachable_server_is_a_network_or_discovery_error(client: Client, sandbox: RunningSandbox) -> None:
    choice = await confirmed_site(client, "1")
    sandbox.stop()
    text = error_text(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
    assert text.startswith("[discovery_failed]") and "OKX_OAUTH_ISSUER" in text


async def test_the_whole_login_over_stdio(service: AuthService, live: RunningSandbox) -> None:
    async with connected(service, STDIO) as client:  # a real server process, on real time as the sandbox is
        choice = await confirmed_site(client, "us")
        login = data(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
        assert approve_in_page(login["verificationUri"], login["userCode"]).status_code == 200
        status = data(await client.call_tool("auth_status", {"lang": "en"}))
        assert (status["status"], status["site"]) == ("logged_in", "us")
        assert data(await client.call_tool("logout", {}))["revoked"] is True
    await anyio.sleep(0)


async def test_no_token_code_or_secret_reaches_a_log_or_a_result(
    client: Client,
    sandbox: RunningSandbox,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    isolated_env: dict[str, str],
) -> None:
    caplog.set_level("DEBUG")
    seen: list[str] = []

    async def call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await client.call_tool(name, arguments)
        seen.append(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        return result.structured_content or {}

    pre = await call("preflight", {})
    choice = await call("choose_site", {"reply": "1", "menu_ticket": pre["menu_ticket"]})
    login = await call("auth_login_manual", {**_login_args(choice), "lang": "en"})
    await call("auth_status", {"lang": "en"})
    sandbox.state.decide(login["userCode"], approve=True)
    clock.advance(5)
    await call("auth_status", {"lang": "en"})
    clock.advance(3600)
    await call("auth_status", {"lang": "en"})  # refreshes
    await call("logout", {})
    write_config(
        isolated_env["OKX_HOME"],
        '[profiles.k]\napi_key = "AK-0123456789abcdef"\nsecret_key = "SK-SECRET-777"\npassphrase = "PP-PHRASE-888"\n',
    )
    await call("preflight", {})
    await call("auth_login_manual", {**_login_args(choice), "lang": "en"})

    secrets = [*sandbox.state.access_tokens, *sandbox.state.refresh_tokens, *sandbox.state.devices]
    secrets += ["SK-SECRET-777", "PP-PHRASE-888", "AK-0123456789abcdef"]
    assert len(secrets) >= 7
    everything = caplog.text + "\n".join(seen)
    for secret in secrets:
        assert secret not in everything


async def test_a_ticket_from_another_state_directory_is_refused(
    client: Client, sandbox: RunningSandbox, settings: Any, tmp_path: Any
) -> None:
    from dataclasses import replace

    other = AuthService(replace(settings, state_dir=tmp_path / "other-state"))
    async with Client(build_server(other)) as other_client:
        foreign = await confirmed_site(other_client, "1")
    other.close()
    text = error_text(await client.call_tool("auth_login_manual", {**_login_args(foreign), "lang": "en"}))
    assert text.startswith("[ticket_invalid]")
    assert oauth_requests(sandbox) == 0


async def test_a_silent_token_endpoint_is_a_network_error_and_the_login_stays_pending(
    client: Client, sandbox: RunningSandbox
) -> None:
    choice = await confirmed_site(client, "1")
    data(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "en"}))
    sandbox.state.faults["token"] = "hang:3"
    text = error_text(await client.call_tool("auth_status", {"lang": "en"}))
    assert text.startswith("[network_error]") and "did not answer in time" in text
    assert data(await client.call_tool("preflight", {}))["next"] == "pending"


async def test_tickets_work_across_server_processes_sharing_a_state_directory(
    service: AuthService, settings: Any, sandbox: RunningSandbox
) -> None:
    """Each call on a fresh server (another process, a restart, a stateless transport): the gate travels in
    the tickets alone."""
    calls: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        ("preflight", lambda _: {}),
        ("choose_site", lambda prev: {"reply": "3", "menu_ticket": prev["menu_ticket"]}),
        ("auth_login_manual", lambda prev: {**_login_args(prev), "lang": "en"}),
    ]
    previous: dict[str, Any] = {}
    for name, arguments in calls:
        fresh = AuthService(settings)
        async with Client(build_server(fresh), mode="auto") as one_shot:
            previous = data(await one_shot.call_tool(name, arguments(previous)))
        fresh.close()
    assert (previous["status"], previous["site"]) == ("pending", "us")


async def test_the_server_tells_every_agent_the_rules(client: Client) -> None:
    instructions = client.instructions
    assert instructions is not None
    for rule in ("preflight first", "verbatim", "never poll", texts.SESSION_LENGTH_ANSWER):
        assert rule in instructions


async def test_preflight_during_a_pending_login_shows_the_same_link_and_code(
    client: Client, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    choice = await confirmed_site(client, "2")
    login = data(await client.call_tool("auth_login_manual", {**_login_args(choice), "lang": "zh"}))
    clock.advance(120)
    pre = data(await client.call_tool("preflight", {"lang": "zh"}))
    assert (pre["next"], pre["site"], pre["userCode"], pre["expiresIn"]) == ("pending", "eea", login["userCode"], 480)
    assert pre["reply"] == texts.login_started("zh", "eea", login["verificationUri"], login["userCode"], 480)
    assert "menu_ticket" not in pre


async def test_a_corrupt_session_file_is_a_state_error_that_logout_clears(client: Client, service: AuthService) -> None:
    service.store.write_json("session.json", {"site": "global", "access_token": 7})
    text = error_text(await client.call_tool("auth_status", {"lang": "en"}))
    assert text.startswith("[state_error]") and "logout" in text
    assert data(await client.call_tool("logout", {}))["revoked"] is False
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "not_logged_in"
