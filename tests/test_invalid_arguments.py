"""One boundary for bad arguments: every tool, each kind of argument that does not fit its inputSchema (the wrong
type, a value outside its enum, a missing required field, an oversized string), in both protocol generations,
in memory, over HTTP and over stdio, gets ``[invalid_arguments] <field>: <what is expected>. Next: ...``: no
pydantic text, no URL, no echo of the bad value, nothing changed. So does an elicitation answer that does not fit
the form."""

from __future__ import annotations

import os
from typing import Any

import pytest
from mcp.client import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ElicitRequestParams, ElicitResult

from okx_auth_mcp.edges.state_store import PENDING_FILE, SESSION_FILE
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp.server import build_server
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import CLIENT_KINDS, connected, data, error_text, oauth_requests

pytestmark = pytest.mark.anyio

MARK = "Zq7-bad-value-Zq7"
"""Carried by every bad value, so a test can tell whether a value was echoed back."""
LONG = MARK + "x" * 3000

# (tool, arguments, the field at fault, words the expectation must carry)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("preflight", {"lang": "fr" + MARK}, "lang", 'one of "zh", "en"'),
    ("preflight", {"lang": 5}, "lang", 'one of "zh", "en"'),
    ("choose_site", {"reply": "1"}, "menu_ticket", "required: a string"),
    ("choose_site", {"reply": "1", "menu_ticket": 5}, "menu_ticket", "a string"),
    ("choose_site", {"reply": LONG, "menu_ticket": "t"}, "reply", "a string of at most 2000 characters"),
    ("choose_site", {"reply": ["1", MARK], "menu_ticket": "t"}, "reply", "a string"),
    ("choose_site", {"reply": "1", "menu_ticket": LONG}, "menu_ticket", "at most 2048 characters"),
    ("auth_login_manual", {"site": "mars" + MARK, "lang": "en"}, "site", 'one of "global", "eea", "us"'),
    ("auth_login_manual", {"site": "global"}, "lang", 'required: one of "zh", "en"'),
    ("auth_login_manual", {"lang": "en"}, "site", "required"),
    ("auth_login_manual", {"site": "global", "lang": "en", "site_ticket": [MARK]}, "site_ticket", "a string"),
    ("auth_login_manual", {"site": "global", "lang": "en", "site_ticket": LONG}, "site_ticket", "at most 2048"),
    ("auth_status", {}, "lang", 'required: one of "zh", "en"'),
    ("auth_status", {"lang": "de" + MARK}, "lang", 'one of "zh", "en"'),
    ("auth_status", {"lang": {"x": MARK}}, "lang", 'one of "zh", "en"'),
    ("logout", {"lang": "fr" + MARK}, "lang", 'one of "zh", "en"'),
    ("logout", {"lang": True}, "lang", 'one of "zh", "en"'),
    ("verify_credentials", {}, "lang", 'required: one of "zh", "en"'),
    ("verify_credentials", {"lang": "jp" + MARK}, "lang", 'one of "zh", "en"'),
    ("diagnose", {"lang": 3.5}, "lang", 'one of "zh", "en"'),
]


def state_files(service: AuthService) -> dict[str, bytes]:
    directory = service.store.directory
    return {p.name: p.read_bytes() for p in directory.iterdir()} if directory.exists() else {}


@pytest.mark.parametrize(("tool", "arguments", "field", "expected"), CASES)
async def test_arguments_that_do_not_fit_get_one_coded_refusal(
    any_client: Client,
    service: AuthService,
    sandbox: RunningSandbox,
    tool: str,
    arguments: dict[str, Any],
    field: str,
    expected: str,
) -> None:
    before = state_files(service)
    text = error_text(await any_client.call_tool(tool, arguments))
    assert text.startswith(f"[invalid_arguments] {field}: ")
    clause = text.removeprefix(f"[invalid_arguments] {field}: ").split(". Nothing")[0].split("; ")[0]
    assert expected in clause, text  # the expectation is the one named for this field
    assert "Next: call " + tool in text and "Nothing was changed" in text
    for leak in (MARK, "pydantic", "errors.pydantic.dev", "validation error", "Error executing tool", "input_value"):
        assert leak not in text, (leak, text)
    assert state_files(service) == before
    assert oauth_requests(sandbox) == 0


async def test_several_fields_at_fault_are_named_together(any_client: Client) -> None:
    text = error_text(await any_client.call_tool("auth_login_manual", {"site": 1, "lang": "xx"}))
    head = text.split(". Nothing")[0]
    assert head.startswith("[invalid_arguments] ") and "site: one of" in head and "lang: one of" in head


async def test_the_input_schemas_still_show_the_constraints(any_client: Client) -> None:
    tools = {tool.name: tool.input_schema for tool in (await any_client.list_tools()).tools}
    login = tools["auth_login_manual"]["properties"]
    assert login["site"]["enum"] == ["global", "eea", "us", "tr"]
    assert any(option.get("maxLength") == 2048 for option in login["site_ticket"]["anyOf"])
    choose = tools["choose_site"]
    assert choose["properties"]["menu_ticket"]["maxLength"] == 2048 and choose["required"] == ["menu_ticket"]
    assert tools["auth_status"]["properties"]["lang"]["enum"] == ["zh", "en"]


async def test_a_tools_own_failure_is_not_called_a_bad_answer(service: AuthService) -> None:
    """Only a tool that asks the user (a resolver) has form answers; another tool's ToolError keeps its text."""
    server = build_server(service)

    @server.tool(name="failing", description="A tool that fails on purpose.")
    async def failing() -> str:
        raise ToolError("quota exceeded, try later")

    async with connected(service, "legacy", server=server) as client:
        text = error_text(await client.call_tool("failing", {}))
    assert not text.startswith("[invalid_arguments]") and "quota exceeded" in text


async def test_good_arguments_still_work_after_bad_ones(any_client: Client) -> None:
    error_text(await any_client.call_tool("preflight", {"lang": "fr"}))
    assert data(await any_client.call_tool("preflight", {"lang": "zh"}))["next"] == "choose_site"


# ----- an elicitation answer that does not fit the site form ---------------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("answer", [{"site": "mars" + MARK}, {"site": 7}, {"other": MARK}, {}])
async def test_an_answer_outside_the_site_form_is_invalid_arguments_and_confirms_nothing(
    service: AuthService, kind: str, answer: dict[str, Any]
) -> None:
    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content=answer)

    async with connected(service, kind, elicitation_callback=elicit) as client:
        pre = data(await client.call_tool("preflight", {}))
        text = error_text(await client.call_tool("choose_site", {"menu_ticket": pre["menu_ticket"]}))
    assert text.startswith("[invalid_arguments] answer: ")
    assert "Resolver" not in text and MARK not in text and "choose_site" in text
    assert not (service.store.directory / PENDING_FILE).exists()
    assert not (service.store.directory / SESSION_FILE).exists()
    assert os.listdir(service.store.directory)  # the menu ticket's key exists: only the menu was shown
