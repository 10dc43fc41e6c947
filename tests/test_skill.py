"""skills/okx-cex-auth/SKILL.md stays true to the server: the tools it names exist, the `next` values and
error codes it handles are the server's, and every text it quotes is what the server renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp.client import Client

from okx_auth_mcp.core import guidance, texts
from okx_auth_mcp.core.sites import SITE_IDS
from okx_auth_mcp.login import refusals
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.boundary import INVALID_ARGUMENTS
from okx_auth_mcp.mcp.server import build_server

SKILL = Path(__file__).resolve().parent.parent / "skills" / "okx-cex-auth" / "SKILL.md"
TEXT = SKILL.read_text(encoding="utf-8")


def frontmatter() -> dict[str, str]:
    """The skill's YAML frontmatter: plain ``key: value`` lines and ``>-`` folded blocks (all it uses)."""
    head, sep, _ = TEXT.removeprefix("---\n").partition("\n---\n")
    assert TEXT.startswith("---\n") and sep, "SKILL.md must open with a --- frontmatter block"
    fields: dict[str, str] = {}
    key = ""
    for line in head.splitlines():
        if line.startswith("  ") and key:
            fields[key] = (fields[key] + " " + line.strip()).strip()
        else:
            key, _, value = line.partition(":")
            fields[key] = "" if value.strip() == ">-" else value.strip()
    return fields


def test_the_frontmatter_names_the_skill_and_its_triggers() -> None:
    meta = frontmatter()
    assert set(meta) == {"name", "description"}
    assert meta["name"] == SKILL.parent.name == "okx-cex-auth"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta["name"]) and len(meta["name"]) <= 64
    description = meta["description"]
    assert len(description) <= 1024
    for trigger in ("log in to OKX", "log out of OKX", "session expired", "登录 OKX", "重新登录", "退出登录"):
        assert trigger in description
    for tool in guidance.TOOL_NAMES:
        assert tool in description


@pytest.mark.anyio
async def test_the_tools_and_next_values_are_the_servers(service: AuthService) -> None:
    async with Client(build_server(service)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    table = set(re.findall(r"^\| `([a-z_]+)` \|", TEXT, flags=re.MULTILINE))
    assert table == set(tools) == set(guidance.TOOL_NAMES)
    assert set(re.findall(r"call `([a-z_]+)`", TEXT, flags=re.IGNORECASE)) <= set(tools)
    schema = tools["preflight"].output_schema
    assert schema is not None
    step_1 = TEXT[TEXT.index("1. Call `preflight`") : TEXT.index("2. The site.")]
    assert set(re.findall(r"^   - `([a-z_]+)`:", step_1, flags=re.MULTILINE)) == set(
        schema["properties"]["next"]["enum"]
    )


def test_the_error_codes_it_handles_exist() -> None:
    codes = refusals.codes() | {INVALID_ARGUMENTS}
    handled = set(re.findall(r"`\[([a-z_]+)\]`", TEXT))
    assert handled and handled <= codes


SAMPLE = {"site": "global", "verificationUri": "https://www.okx.com/oauth/device", "userCode": "WXYZ-2345"}


def _placeholders(text: str, minutes: str | None = None) -> str:
    for field, value in SAMPLE.items():
        text = text.replace(value, f"<{field}>")
    return text if minutes is None else text.replace(minutes, "<minutes>")


def rendered(name: str) -> str:
    kind, _, lang = name.partition(" ")
    language: texts.Lang = "zh" if lang == "zh" else "en"
    if kind == "site_menu":
        return texts.SITE_MENU
    if kind == "api_key_configured":
        return texts.api_key_configured("<name>")
    if kind == "login_started":
        text = texts.login_started(language, "global", SAMPLE["verificationUri"], SAMPLE["userCode"], 97 * 60)
        return _placeholders(text, minutes="97")
    if kind == "logged_in":
        return _placeholders(texts.logged_in(language, "global", ["<scopes>"]))
    assert kind == "session_length", name
    return texts.SESSION_LENGTH_ANSWER


def test_every_quoted_text_is_what_the_server_renders() -> None:
    quoted = re.findall(r"<!-- template: ([a-z_ ]+?) -->\n```text\n(.*?)\n```", TEXT, flags=re.DOTALL)
    assert {name for name, _ in quoted} == {
        "site_menu",
        "api_key_configured",
        "login_started zh",
        "login_started en",
        "logged_in zh",
        "logged_in en",
        "session_length",
    }
    for name, text in quoted:
        assert text == rendered(name), name
    assert TEXT.count("```text") == len(quoted)


ROUTED_SKILLS = {"okx-cex-trade", "okx-cex-portfolio", "okx-cex-earn", "okx-cex-bot", "okx-cex-market"}
"""The skills OKX's okx-cex-auth routes to after login ("Skill Routing", OKX's skill 1.3.9)."""


def test_the_routing_table_is_okxs_on_this_login() -> None:
    routing = TEXT[TEXT.index("## After login") : TEXT.index("## Never")]
    rows = re.findall(r"^\| [^|]+ \| `([a-z-]+)` \| ([^|]+) \|$", routing, flags=re.MULTILINE)
    assert {skill for skill, _ in rows} == ROUTED_SKILLS
    assert all("OKX_AUTH_BIN" in through for skill, through in rows if skill != "okx-cex-market")
    assert "okx-auth-mcp-bin" in routing and "`use_gate`" in routing
    assert "site (" + ", ".join(SITE_IDS) + ")" in routing


def test_the_skill_offers_every_site() -> None:
    assert f"the {['one', 'two', 'three', 'four', 'five'][len(SITE_IDS) - 1]} sites" in TEXT
    assert "4) TR (tr.okx.com)" in texts.SITE_MENU
