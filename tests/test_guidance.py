"""What the server tells every agent: the ``okx_auth_login`` prompt and the ``okx://auth/status`` resource,
through the SDK's client in both protocol generations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client
from mcp.types import TextContent, TextResourceContents

from okx_auth_mcp.core import guidance, texts
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import FakeClock, confirmed_site, data

pytestmark = pytest.mark.anyio


async def status_resource(client: Client) -> dict[str, Any]:
    result = await client.read_resource("okx://auth/status")
    (contents,) = result.contents
    assert isinstance(contents, TextResourceContents) and contents.mime_type == "application/json"
    parsed = json.loads(contents.text)
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_prompt_is_the_procedure_for_these_tools(client: Client, lang: texts.Lang) -> None:
    (prompt,) = (await client.list_prompts()).prompts
    assert prompt.name == "okx_auth_login" and prompt.title
    got = await client.get_prompt("okx_auth_login", {"lang": lang})
    (message,) = got.messages
    assert message.role == "user" and isinstance(message.content, TextContent)
    assert message.content.text == guidance.login_procedure(lang)
    assert f'lang "{lang}"' in message.content.text
    named = set(re.findall(r"`([a-z_]+)`", message.content.text))
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools == set(guidance.TOOL_NAMES)
    assert {name for name in named if "_" in name or name in tools} - {"menu_ticket", "site_ticket"} <= tools
    assert tools <= named


async def test_the_instructions_carry_the_rules(client: Client) -> None:
    assert client.instructions == guidance.INSTRUCTIONS


async def test_the_status_resource_follows_the_state_without_polling(
    client: Client, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    (resource,) = (await client.list_resources()).resources
    assert str(resource.uri) == "okx://auth/status"
    assert await status_resource(client) == {"status": "not_logged_in", "reply": texts.not_logged_in("en", None)}
    choice = await confirmed_site(client, "us")
    login = data(
        await client.call_tool("auth_login_manual", {"site": "us", "site_ticket": choice["site_ticket"], "lang": "en"})
    )
    sandbox.state.decide(login["userCode"], approve=True)
    clock.advance(30)
    polls = sandbox.state.count("token")
    # The user approved and a poll is due, but reading the resource sends nothing: still pending.
    assert await status_resource(client) == {"status": "pending", "site": "us", "reply": texts.pending("en", "us")}
    assert sandbox.state.count("token") == polls
    assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "logged_in"
    logged_in = await status_resource(client)
    assert logged_in == {
        "status": "logged_in",
        "site": "us",
        "scopes": ["read_only", "trade"],
        "reply": texts.logged_in("en", "us", ["read_only", "trade"]),
    }
    # Long past the access token's life: the resource does not refresh either.
    clock.advance(7200)
    tokens = sandbox.state.count("token")
    assert await status_resource(client) == logged_in
    assert sandbox.state.count("token") == tokens


async def test_the_status_resource_reports_a_broken_state_file(client: Client, isolated_env: dict[str, str]) -> None:
    state_dir = Path(isolated_env["OKX_AUTH_MCP_STATE_DIR"])
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (state_dir / "session.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match=r"\[state_error\]"):
        await client.read_resource("okx://auth/status")
