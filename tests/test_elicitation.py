"""The client asks the user itself where it can: the site in a form (choose_site without a reply) and the
verification link in URL mode (auth_login_manual). Both protocol generations: 2025-11-25 ("legacy": a
request in the middle of the call) and 2026-07-28 ("auto" in memory: an input-required result and a retry).
Clients without an elicitation callback declare no elicitation and still complete the flow with text."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import anyio
import pytest
from mcp.client import Client
from mcp.client.context import ClientRequestContext
from mcp.types import (
    CallToolResult,
    ElicitRequestFormParams,
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
    ErrorData,
)

from okx_auth_mcp.core import texts
from okx_auth_mcp.login.service import AuthService
from okx_auth_mcp.mcp import elicitation
from okx_auth_mcp.mcp.elicitation import SiteAnswer
from okx_auth_mcp.sandbox.runner import RunningSandbox
from tests.helpers import CLIENT_KINDS, FakeClock, connected, data, error_text, write_config

pytestmark = pytest.mark.anyio

Answer = Callable[[ElicitRequestParams], ElicitResult | ErrorData]


@dataclass
class User:
    """The person behind the client: answers each elicitation with ``answer`` and remembers what was asked."""

    answer: Answer
    asked: list[ElicitRequestParams] = field(default_factory=list)

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        self.asked.append(params)
        return self.answer(params)

    def forms(self) -> list[ElicitRequestFormParams]:
        return [p for p in self.asked if isinstance(p, ElicitRequestFormParams)]

    def links(self) -> list[ElicitRequestURLParams]:
        return [p for p in self.asked if isinstance(p, ElicitRequestURLParams)]


def picks(site: str) -> Answer:
    def answer(params: ElicitRequestParams) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            return ElicitResult(action="accept")
        return ElicitResult(action="accept", content={"site": site})

    return answer


Action = Literal["accept", "decline", "cancel"]


def acts(action: Action) -> Answer:
    return lambda params: ElicitResult(action=action)


Connect = Callable[[User | None], contextlib.AbstractAsyncContextManager[Client]]


@pytest.fixture(params=CLIENT_KINDS)
def connect(request: pytest.FixtureRequest, service: AuthService) -> Connect:
    """A client that asks ``user`` (or, for ``None``, declares no elicitation), in memory or over Streamable
    HTTP, in either protocol generation."""
    return lambda user: connected(service, str(request.param), elicitation_callback=user)


async def menu_ticket(client: Client) -> str:
    pre = data(await client.call_tool("preflight", {}))
    assert pre["next"] == "choose_site"
    return str(pre["menu_ticket"])


async def test_the_client_asks_for_the_site_and_the_answer_confirms_it(
    connect: Connect, sandbox: RunningSandbox, clock: FakeClock
) -> None:
    user = User(picks("eea"))
    async with connect(user) as client:
        choice = data(await client.call_tool("choose_site", {"menu_ticket": await menu_ticket(client)}))
        assert (choice["site"], choice["next"]) == ("eea", "login")
        assert choice["reply"] == texts.site_chosen("eea")
        (form,) = user.forms()
        assert form.message == texts.SITE_QUESTION
        assert form.requested_schema["required"] == ["site"]
        assert form.requested_schema["properties"]["site"] == {
            "type": "string",
            "title": "OKX site / 站点",
            "oneOf": [
                {"const": "global", "title": "Global (www.okx.com)"},
                {"const": "eea", "title": "EEA (my.okx.com)"},
                {"const": "us", "title": "US (app.okx.com)"},
                {"const": "tr", "title": "TR (tr.okx.com)"},
            ],
        }
        # The ticket carries the user's answer: only eea logs in, and the whole flow completes.
        refused = await client.call_tool(
            "auth_login_manual", {"site": "global", "site_ticket": choice["site_ticket"], "lang": "en"}
        )
        assert error_text(refused).startswith("[site_mismatch]")
        login = data(
            await client.call_tool(
                "auth_login_manual", {"site": "eea", "site_ticket": choice["site_ticket"], "lang": "en"}
            )
        )
        assert login["reply"] == texts.login_started("en", "eea", login["verificationUri"], login["userCode"], 600)
        sandbox.state.decide(login["userCode"], approve=True)
        clock.advance(5)
        assert data(await client.call_tool("auth_status", {"lang": "en"}))["status"] == "logged_in"


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_or_dismissed_question_confirms_nothing(connect: Connect, action: Action) -> None:
    user = User(acts(action))
    async with connect(user) as client:
        result = await client.call_tool("choose_site", {"menu_ticket": await menu_ticket(client)})
        assert error_text(result).startswith("[site_not_chosen]")
        assert "never pick a site yourself" in error_text(result)
        assert len(user.forms()) == 1
        for site in ("global", "eea", "us", "tr"):
            login = await client.call_tool("auth_login_manual", {"site": site, "lang": "en"})
            assert error_text(login).startswith("[site_not_confirmed]")
        assert data(await client.call_tool("preflight", {}))["next"] == "choose_site"


async def test_an_answer_outside_the_choices_confirms_nothing(connect: Connect) -> None:
    user = User(lambda params: ElicitResult(action="accept", content={"site": "mars"}))
    async with connect(user) as client:
        result = await client.call_tool("choose_site", {"menu_ticket": await menu_ticket(client)})
        assert result.is_error
        assert "site_ticket" not in json.dumps(result.model_dump(mode="json"))


async def test_a_client_that_cannot_ask_gets_the_menu_to_show(connect: Connect) -> None:
    async with connect(None) as client:
        ticket = await menu_ticket(client)
        result = await client.call_tool("choose_site", {"menu_ticket": ticket})
        text = error_text(result)
        assert text.startswith("[reply_missing]") and text.endswith(texts.SITE_MENU)
        assert "menu_ticket stays valid" in text
        # ... and the agent completes the flow with the user's typed reply and the same ticket.
        choice = data(await client.call_tool("choose_site", {"menu_ticket": ticket, "reply": "3"}))
        assert choice["site"] == "us"


async def test_a_reply_from_the_agent_is_used_without_asking(connect: Connect) -> None:
    user = User(picks("us"))
    async with connect(user) as client:
        choice = data(await client.call_tool("choose_site", {"menu_ticket": await menu_ticket(client), "reply": "2"}))
        assert choice["site"] == "eea"
        assert user.asked == []


@pytest.mark.parametrize("ticket", ["forged", "okxg1.e30.AAAA"])
async def test_a_bad_menu_ticket_is_refused_before_the_user_is_asked(connect: Connect, ticket: str) -> None:
    user = User(picks("global"))
    async with connect(user) as client:
        result = await client.call_tool("choose_site", {"menu_ticket": ticket})
        assert error_text(result).startswith("[ticket_invalid]")
        assert user.asked == []


async def test_an_expired_menu_ticket_is_refused_before_the_user_is_asked(connect: Connect, clock: FakeClock) -> None:
    user = User(picks("global"))
    async with connect(user) as client:
        ticket = await menu_ticket(client)
        clock.advance(601)
        result = await client.call_tool("choose_site", {"menu_ticket": ticket})
        assert error_text(result).startswith("[ticket_expired]")
        assert user.asked == []


async def logged_in_site_ticket(client: Client, site: str) -> str:
    choice = data(await client.call_tool("choose_site", {"menu_ticket": await menu_ticket(client), "reply": site}))
    return str(choice["site_ticket"])


@pytest.mark.parametrize("action", ["accept", "decline", "cancel"])
async def test_the_client_is_asked_to_open_the_link_and_the_reply_still_carries_it(
    connect: Connect, sandbox: RunningSandbox, action: Action
) -> None:
    user = User(acts(action))
    async with connect(user) as client:
        ticket = await logged_in_site_ticket(client, "global")
        result = await client.call_tool("auth_login_manual", {"site": "global", "site_ticket": ticket, "lang": "zh"})
        login = data(result)
        (link,) = user.links()
        assert link.url == login["verificationUri"]
        assert link.message == texts.open_link_request("zh", "global", login["userCode"])
        assert login["reply"] == texts.login_started("zh", "global", login["verificationUri"], login["userCode"], 600)
        assert user.forms() == []
        assert sandbox.state.count("device") == 1


async def test_a_client_without_elicitation_gets_the_text_alone(connect: Connect, sandbox: RunningSandbox) -> None:
    async with connect(None) as client:
        ticket = await logged_in_site_ticket(client, "global")
        login = data(
            await client.call_tool("auth_login_manual", {"site": "global", "site_ticket": ticket, "lang": "en"})
        )
        assert login["status"] == "pending" and login["userCode"]


async def test_a_failing_client_does_not_lose_the_login(service: AuthService, sandbox: RunningSandbox) -> None:
    # 2025-11-25: the client answers the mid-call request with an error; the tool still returns the text.
    user = User(lambda params: ErrorData(code=-32603, message="the UI crashed"))
    async with connected(service, "legacy", elicitation_callback=user) as client:
        ticket = await logged_in_site_ticket(client, "us")
        result: CallToolResult = await client.call_tool(
            "auth_login_manual", {"site": "us", "site_ticket": ticket, "lang": "en"}
        )
        login = data(result)
        assert len(user.links()) == 1 and login["status"] == "pending"


async def test_an_api_key_skips_the_login_without_asking(
    connect: Connect, isolated_env: dict[str, str], sandbox: RunningSandbox
) -> None:
    user = User(picks("global"))
    async with connect(user) as client:
        ticket = await logged_in_site_ticket(client, "global")
        write_config(isolated_env["OKX_HOME"], '[profiles.main]\napi_key = "k"\nsecret_key = "s"\npassphrase = "p"\n')
        skipped = data(
            await client.call_tool("auth_login_manual", {"site": "global", "site_ticket": ticket, "lang": "en"})
        )
        assert skipped["status"] == "skipped"
        assert user.asked == []


def test_the_only_form_asks_for_a_site_and_nothing_secret() -> None:
    # The MCP spec forbids form elicitation of secrets: the one form this server has holds the site alone.
    assert set(SiteAnswer.model_fields) == {"site"}


async def test_an_unanswered_open_link_request_does_not_hold_the_login(
    service: AuthService, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2025-11-25: the call waits for the dialog's answer only so long, then returns the link as text.
    monkeypatch.setattr(elicitation, "OPEN_LINK_WAIT_SECONDS", 0.5)
    never = anyio.Event()

    async def away(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        await never.wait()
        return ElicitResult(action="accept")

    async with connected(service, "legacy", elicitation_callback=away) as client:
        ticket = await logged_in_site_ticket(client, "eea")
        with anyio.fail_after(10):
            login = data(
                await client.call_tool("auth_login_manual", {"site": "eea", "site_ticket": ticket, "lang": "en"})
            )
        assert login["status"] == "pending" and login["userCode"]
        never.set()
